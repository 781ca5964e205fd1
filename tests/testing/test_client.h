// A blocking HTTP/1.1 test client over a raw loopback socket: sends exact bytes (so tests
// can send malformed framing) and reads responses with our own strict parser. Every read
// is bounded by a receive timeout, so a hung gateway fails the test instead of hanging it.
// Used by integration tests; one instance per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::testing {

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;
  // First value of header `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

class TestClient {
 public:
  explicit TestClient(uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void Send(std::string_view bytes);
  // Reads one complete response. nullopt on EOF, reset or timeout before it completes.
  std::optional<Response> ReadResponse(bool head_request = false);
  // Reads only the head of a response (for streams); the body is read with ReadSseEvent.
  std::optional<Response> ReadHead();
  // Reads the next SSE event (raw text, up to and including its blank line) from a chunked
  // stream whose head was read with ReadHead(). nullopt at the end of the body or on error.
  std::optional<std::string> ReadSseEvent();
  // True when the body of the current stream ended with the last chunk.
  bool stream_finished() const { return stream_finished_; }
  // Waits until the peer closes the connection (reads and discards). False on timeout.
  bool WaitForClose(std::chrono::milliseconds timeout = std::chrono::milliseconds(5'000));
  void ShutdownWrite();
  void Close();
  int fd() const { return fd_; }

 private:
  bool Fill();      // reads more bytes into buffer_; false on EOF/error/timeout
  bool FillBody();  // decodes more of a chunked stream into stream_buffer_

  int fd_ = -1;
  std::string buffer_;
  std::string stream_buffer_;
  bool stream_finished_ = false;
  void* chunked_ = nullptr;  // ChunkedDecoder, opaque to keep this header light
};

// A complete request with a JSON body. `extra_headers` are "Name: value\r\n" lines.
std::string JsonRequest(std::string_view path, std::string_view body,
                        std::string_view extra_headers = "", std::string_view method = "POST");
std::string GetRequest(std::string_view path, std::string_view extra_headers = "");

// The chat request bodies most integration tests send to a model named "m".
inline constexpr std::string_view kChatRequestBody =
    R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
inline constexpr std::string_view kStreamRequestBody =
    R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
// The "data:" payload of one SSE event text, or "" when it has none.
std::string SseData(std::string_view event);

}  // namespace sluice::testing
