// FakeUpstream: accept loop, strict request reading, exchange helpers and payloads.
#include "tests/testing/fake_upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "core/http_types.h"
#include "http/http_parser.h"
#include "http/response_writer.h"

namespace sluice::testing {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string FakeRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

// One accepted connection, plain or TLS.
class FakeConnection {
 public:
  FakeConnection(FakeUpstream& owner, tcp::socket socket, int id) : owner_(owner), id_(id) {
    if (owner.tls_) {
      tls_.emplace(std::move(socket), *owner.tls_);
    } else {
      plain_.emplace(std::move(socket));
    }
  }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  asio::awaitable<bool> Handshake() {
    if (!tls_) co_return true;
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kAwait);
    co_return !ec;
  }
  asio::awaitable<size_t> ReadSome(char* data, size_t size) {
    boost::system::error_code ec;
    size_t n = 0;
    if (tls_) {
      std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(data, size), kAwait);
    } else {
      std::tie(ec, n) = co_await plain_->async_read_some(asio::buffer(data, size), kAwait);
    }
    co_return ec ? 0 : n;
  }
  asio::awaitable<bool> Write(std::string_view bytes) {
    if (dead_) co_return false;
    boost::system::error_code ec;
    if (tls_) {
      std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(bytes), kAwait);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(*plain_, asio::buffer(bytes), kAwait);
    }
    if (ec) {
      dead_ = true;
      owner_.write_failures_++;
    }
    co_return !ec;
  }
  void Reset() {
    boost::system::error_code ec;
    socket().set_option(asio::socket_base::linger(true, 0), ec);
    socket().close(ec);
    dead_ = true;
  }
  int id() const { return id_; }
  bool dead() const { return dead_; }
  std::string buffer;

 private:
  FakeUpstream& owner_;
  int id_;
  std::optional<tcp::socket> plain_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
  bool dead_ = false;
};

asio::awaitable<bool> FakeExchange::Write(std::string_view bytes) {
  co_return co_await connection_.Write(bytes);
}

asio::awaitable<void> FakeExchange::Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(kAwait);
}

asio::awaitable<bool> FakeExchange::RespondJson(int status, std::string_view body,
                                                std::string_view extra_headers) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out.append(extra_headers);
  out += "\r\n";
  out.append(body);
  co_return co_await Write(out);
}

asio::awaitable<bool> FakeExchange::StartSse(std::string_view extra_headers) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n";
  out.append(extra_headers);
  out += "\r\n";
  co_return co_await Write(out);
}

asio::awaitable<bool> FakeExchange::SendEvent(std::string_view raw_event) {
  std::string out;
  AppendChunkHeader(out, raw_event.size());
  out.append(raw_event);
  out.append("\r\n");
  co_return co_await Write(out);
}

asio::awaitable<bool> FakeExchange::EndChunked() { co_return co_await Write("0\r\n\r\n"); }

void FakeExchange::Reset() {
  connection_.Reset();
  keep_alive_ = false;
}

asio::awaitable<bool> FakeExchange::WaitForPeerClose(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline) {
    char byte;
    ssize_t n = ::recv(connection_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) co_return true;
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(kAwait);
  }
  co_return false;
}

FakeUpstream::FakeUpstream(Handler handler, std::optional<TlsFiles> tls)
    : handler_(std::move(handler)), acceptor_(io_) {
  if (tls) {
    tls_.emplace(asio::ssl::context::tls_server);
    tls_->use_certificate_chain_file(tls->cert_file);
    tls_->use_private_key_file(tls->key_file, asio::ssl::context::pem);
  }
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, AcceptLoop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

FakeUpstream::~FakeUpstream() {
  io_.stop();
  thread_.join();
}

std::vector<FakeRequest> FakeUpstream::requests_seen() const {
  std::lock_guard lock(mutex_);
  return seen_;
}

bool FakeUpstream::WaitUntil(const std::function<bool()>& predicate,
                             std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

asio::awaitable<void> FakeUpstream::AcceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
    if (ec) co_return;
    int id = ++connections_;
    auto connection = std::make_shared<FakeConnection>(*this, std::move(socket), id);
    asio::co_spawn(io_, Serve(connection), asio::detached);
  }
}

asio::awaitable<void> FakeUpstream::Serve(std::shared_ptr<FakeConnection> connection) {
  if (!co_await connection->Handshake()) co_return;
  std::string& buffer = connection->buffer;
  char chunk[16384];
  for (;;) {
    HeadScanner scanner;
    HeadLimits limits;
    size_t head_size = 0;
    ParseError error;
    ParseStatus status;
    while ((status = scanner.Scan(buffer, limits, true, head_size, error)) ==
           ParseStatus::kIncomplete) {
      size_t n = co_await connection->ReadSome(chunk, sizeof(chunk));
      if (n == 0) {
        peer_closes_++;
        co_return;
      }
      buffer.append(chunk, n);
    }
    if (status == ParseStatus::kError) co_return;
    HttpRequest parsed;
    if (!ParseRequestHead(std::string_view(buffer).substr(0, head_size), limits, parsed, error)) {
      co_return;
    }
    FakeRequest request;
    request.method = std::string(parsed.method_text);
    request.target = std::string(parsed.target);
    for (const Header& h : parsed.headers.fields()) {
      request.headers.emplace_back(std::string(h.name), std::string(h.value));
    }
    request.connection_id = connection->id();
    size_t length = static_cast<size_t>(parsed.content_length);
    while (buffer.size() < head_size + length) {
      size_t n = co_await connection->ReadSome(chunk, sizeof(chunk));
      if (n == 0) co_return;
      buffer.append(chunk, n);
    }
    request.body = buffer.substr(head_size, length);
    buffer.erase(0, head_size + length);
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(request);
    }
    requests_++;
    FakeExchange exchange(*connection, request);
    co_await handler_(exchange);
    if (!exchange.keep_alive() || connection->dead()) co_return;
  }
}

std::string ChatCompletionJson(std::string_view content, int prompt_tokens, int completion_tokens) {
  return "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"up\","
         "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" +
         std::string(content) + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":" +
         std::to_string(prompt_tokens) +
         ",\"completion_tokens\":" + std::to_string(completion_tokens) +
         ",\"total_tokens\":" + std::to_string(prompt_tokens + completion_tokens) + "}}";
}

std::string ChatChunkEvent(std::string_view content) {
  return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
         "\"delta\":{\"content\":\"" +
         std::string(content) + "\"},\"finish_reason\":null}],\"usage\":null}\n\n";
}

std::string UsageChunkEvent(int prompt_tokens, int completion_tokens) {
  return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":"
         "{\"prompt_tokens\":" +
         std::to_string(prompt_tokens) +
         ",\"completion_tokens\":" + std::to_string(completion_tokens) +
         ",\"total_tokens\":" + std::to_string(prompt_tokens + completion_tokens) + "}}\n\n";
}

bool IsStreamRequest(const FakeRequest& request) {
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(request.body, ec);
  return !ec && body.is_object() && body.as_object().contains("stream") &&
         body.at("stream").is_bool() && body.at("stream").as_bool();
}

boost::asio::awaitable<void> AnswerChatWithUsage(FakeExchange& ex) {
  if (IsStreamRequest(ex.request())) {
    co_await ex.StartSse();
    const std::string one = ChatChunkEvent("one");
    const std::string two = ChatChunkEvent("two");
    const std::string usage = UsageChunkEvent(kStreamPromptTokens, kStreamCompletionTokens);
    co_await ex.SendEvent(one);
    co_await ex.SendEvent(two);
    co_await ex.SendEvent(usage);
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  } else {
    const std::string body = ChatCompletionJson("hi", kAnswerPromptTokens, kAnswerCompletionTokens);
    co_await ex.RespondJson(200, body);
  }
}

}  // namespace sluice::testing
