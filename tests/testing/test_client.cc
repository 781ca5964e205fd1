// TestClient: blocking socket I/O with receive timeouts and strict response parsing.
#include "tests/testing/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "core/http_types.h"
#include "http/http_parser.h"

namespace sluice::testing {

std::string Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

TestClient::TestClient(uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect failed");
  }
  chunked_ = new ChunkedDecoder();
}

TestClient::~TestClient() {
  Close();
  delete static_cast<ChunkedDecoder*>(chunked_);
}

void TestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TestClient::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

void TestClient::Send(std::string_view bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the peer closed; the test will see it when reading
    sent += static_cast<size_t>(n);
  }
}

bool TestClient::Fill() {
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::optional<Response> TestClient::ReadHead() {
  HeadScanner scanner;
  HeadLimits limits;
  limits.max_head_bytes = 1 << 20;
  for (;;) {
    size_t head_size = 0;
    ParseError error;
    ParseStatus status = scanner.Scan(buffer_, limits, false, head_size, error);
    if (status == ParseStatus::kError) return std::nullopt;
    if (status == ParseStatus::kDone) {
      HttpResponseHead head;
      if (!ParseResponseHead(std::string_view(buffer_).substr(0, head_size), limits, head, error)) {
        return std::nullopt;
      }
      Response response;
      response.status = head.status;
      for (const Header& h : head.headers.fields()) {
        response.headers.emplace_back(std::string(h.name), std::string(h.value));
      }
      response.chunked = head.chunked;
      buffer_.erase(0, head_size);
      if (head.status < 200) continue;  // 100 Continue: read the real response
      static_cast<ChunkedDecoder*>(chunked_)->Reset();
      stream_buffer_.clear();
      stream_finished_ = false;
      return response;
    }
    if (!Fill()) return std::nullopt;
  }
}

std::optional<Response> TestClient::ReadResponse(bool head_request) {
  std::optional<Response> response = ReadHead();
  if (!response) return std::nullopt;
  std::string length_text = response->Header("content-length");
  if (head_request || response->status == 204 || response->status == 304) return response;
  if (response->chunked) {
    while (!stream_finished_) {
      if (!FillBody()) return std::nullopt;
    }
    response->body = std::move(stream_buffer_);
    stream_buffer_.clear();
    return response;
  }
  if (!length_text.empty()) {
    size_t length = std::stoul(length_text);
    while (buffer_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    response->body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }
  while (Fill()) {
  }
  response->body = std::move(buffer_);
  buffer_.clear();
  return response;
}

bool TestClient::FillBody() {
  auto* decoder = static_cast<ChunkedDecoder*>(chunked_);
  if (!buffer_.empty()) {
    size_t consumed = 0;
    ParseError error;
    size_t before = stream_buffer_.size();
    ParseStatus status = decoder->Decode(buffer_, stream_buffer_, consumed, error);
    buffer_.erase(0, consumed);
    if (status == ParseStatus::kError) return false;
    if (status == ParseStatus::kDone) {
      stream_finished_ = true;
      return true;
    }
    if (stream_buffer_.size() > before) return true;
  }
  return Fill();
}

std::optional<std::string> TestClient::ReadSseEvent() {
  for (;;) {
    size_t end = stream_buffer_.find("\n\n");
    if (end != std::string::npos) {
      std::string event = stream_buffer_.substr(0, end + 2);
      stream_buffer_.erase(0, end + 2);
      return event;
    }
    if (stream_finished_) return std::nullopt;
    if (!FillBody()) return std::nullopt;
  }
}

bool TestClient::WaitForClose(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
  return false;
}

std::string JsonRequest(std::string_view path, std::string_view body,
                        std::string_view extra_headers, std::string_view method) {
  std::string out;
  out.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: test\r\n");
  out.append("Content-Type: application/json\r\nContent-Length: ");
  out.append(std::to_string(body.size())).append("\r\n");
  out.append(extra_headers);
  out.append("\r\n");
  out.append(body);
  return out;
}

std::string GetRequest(std::string_view path, std::string_view extra_headers) {
  std::string out = "GET ";
  out.append(path).append(" HTTP/1.1\r\nHost: test\r\n").append(extra_headers).append("\r\n");
  return out;
}

std::string SseData(std::string_view event) {
  std::string data;
  size_t pos = 0;
  while (pos < event.size()) {
    size_t eol = event.find('\n', pos);
    if (eol == std::string_view::npos) eol = event.size();
    std::string_view line = event.substr(pos, eol - pos);
    if (line.substr(0, 5) == "data:") {
      std::string_view value = line.substr(5);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (!data.empty()) data.push_back('\n');
      data.append(value);
    }
    pos = eol + 1;
  }
  return data;
}

}  // namespace sluice::testing
