// Response head and chunk framing (see response_writer.h).
#include "http/response_writer.h"

#include <charconv>
#include <ctime>

#include "core/json_text.h"
#include "core/local_reply.h"

namespace sluice {

std::string_view HttpDateNow() {
  thread_local std::time_t cached_second = 0;
  thread_local char text[40];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return std::string_view(text, length);
}

void AppendResponseHead(std::string& out, int status, std::string_view content_type,
                        const HeaderBlock& extra, std::string_view request_id,
                        const HeadFraming& framing) {
  out.append(framing.minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char code[4];
  std::to_chars(code, code + 4, status);
  out.append(code, 3);
  out.push_back(' ');
  out.append(ReasonPhrase(status));
  out.append("\r\nDate: ");
  out.append(HttpDateNow());
  out.append("\r\n");
  if (!content_type.empty()) {
    out.append("Content-Type: ");
    out.append(content_type);
    out.append("\r\n");
  }
  switch (framing.kind) {
    case HeadFraming::Kind::kLength:
      out.append("Content-Length: ");
      AppendDecimal(out, static_cast<int64_t>(framing.content_length));
      out.append("\r\n");
      break;
    case HeadFraming::Kind::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case HeadFraming::Kind::kClose:
      break;
  }
  if (!request_id.empty()) {
    out.append("X-Request-Id: ");
    out.append(request_id);
    out.append("\r\n");
  }
  out.append(extra.wire());
  bool keep_alive = framing.keep_alive && framing.kind != HeadFraming::Kind::kClose;
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (framing.minor_version == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void AppendChunkHeader(std::string& out, size_t size) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), size, 16);
  out.append(buf, end);
  out.append("\r\n");
}

}  // namespace sluice
