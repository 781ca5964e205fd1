// HttpGet: resolve, connect, optional TLS, request, strict response parsing.
#include "auth/http_fetch.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include "http/http_parser.h"

namespace sluice {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Reads from `stream` until the response is complete.
template <class Stream>
asio::awaitable<FetchResult> Exchange(Stream& stream, const std::string& request, size_t max_body) {
  FetchResult result;
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(request), kAwait);
  if (wec) {
    result.error = "write failed: " + wec.message();
    co_return result;
  }
  std::string buffer;
  HeadScanner scanner;
  HeadLimits limits;
  size_t head_size = 0;
  ParseError error;
  char chunk[8192];
  for (;;) {
    ParseStatus status = scanner.Scan(buffer, limits, false, head_size, error);
    if (status == ParseStatus::kDone) break;
    if (status == ParseStatus::kError) {
      result.error = "malformed response head";
      co_return result;
    }
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), kAwait);
    if (ec || n == 0) {
      result.error = "connection closed before the response head";
      co_return result;
    }
    buffer.append(chunk, n);
  }
  HttpResponseHead head;
  if (!ParseResponseHead(std::string_view(buffer).substr(0, head_size), limits, head, error)) {
    result.error = "malformed response head";
    co_return result;
  }
  result.status = head.status;
  std::string rest = buffer.substr(head_size);
  ChunkedDecoder decoder;
  for (;;) {
    if (head.chunked) {
      size_t consumed = 0;
      ParseStatus s = decoder.Decode(rest, result.body, consumed, error);
      rest.erase(0, consumed);
      if (s == ParseStatus::kError) {
        result.error = "malformed chunked body";
        co_return result;
      }
      if (s == ParseStatus::kDone) break;
    } else {
      result.body += rest;
      rest.clear();
      if (head.has_content_length && result.body.size() >= head.content_length) {
        result.body.resize(head.content_length);
        break;
      }
    }
    if (result.body.size() > max_body) {
      result.error = "response body too large";
      co_return result;
    }
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), kAwait);
    if (ec || n == 0) {
      if (!head.chunked && !head.has_content_length) break;  // close-delimited body
      result.error = "connection closed before the body was complete";
      co_return result;
    }
    rest.append(chunk, n);
  }
  co_return result;
}

}  // namespace

asio::awaitable<FetchResult> HttpGet(const std::string& url, asio::ssl::context& tls,
                                     std::chrono::milliseconds timeout, size_t max_body_bytes) {
  FetchResult result;
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https")) {
    result.error = "not an http(s) URL";
    co_return result;
  }
  bool secure = parsed->scheme() == "https";
  std::string host(parsed->host_address());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80");
  std::string target(parsed->encoded_target());
  if (target.empty()) target = "/";

  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  asio::steady_timer deadline(executor, timeout);
  bool timed_out = false;
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    timed_out = true;
    boost::system::error_code ignore;
    socket.close(ignore);
    resolver.cancel();
  });
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, kAwait);
  if (rec) {
    result.error = timed_out ? "timed out" : "cannot resolve " + host;
    co_return result;
  }
  auto [cec, endpoint] = co_await asio::async_connect(socket, endpoints, kAwait);
  if (cec) {
    result.error = timed_out ? "timed out" : "cannot connect: " + cec.message();
    co_return result;
  }
  std::string request = "GET " + target +
                        " HTTP/1.1\r\nHost: " + std::string(parsed->encoded_host_and_port()) +
                        "\r\nAccept: application/json\r\nUser-Agent: sluice\r\n"
                        "Connection: close\r\n\r\n";
  if (secure) {
    asio::ssl::stream<tcp::socket&> stream(socket, tls);
    SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kAwait);
    if (hec) {
      result.error = timed_out ? "timed out" : "TLS handshake failed: " + hec.message();
      co_return result;
    }
    result = co_await Exchange(stream, request, max_body_bytes);
  } else {
    result = co_await Exchange(socket, request, max_body_bytes);
  }
  deadline.cancel();
  if (timed_out && result.error.empty()) result.error = "timed out";
  co_return result;
}

}  // namespace sluice
