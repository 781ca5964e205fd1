// OtlpReceiver: a Beast server on its own io_context thread (one coroutine per connection)
// and the OTLP JSON → ReceivedSpan decoding.
#include "tests/testing/otlp_receiver.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <charconv>

namespace sluice::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string StringField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

// AnyValue → text: strings as they are, intValue as its decimal text, doubles in the
// shortest round-trip form, booleans as "true"/"false".
std::string AnyValueText(const json::value& any) {
  if (!any.is_object()) return "";
  const json::object& object = any.get_object();
  if (const json::value* v = object.if_contains("stringValue"); v && v->is_string())
    return std::string(v->get_string());
  if (const json::value* v = object.if_contains("intValue")) {
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
  }
  if (const json::value* v = object.if_contains("doubleValue")) {
    if (v->is_string()) return std::string(v->get_string());  // "NaN", "Infinity"
    if (v->is_number()) {
      char text[32];
      auto [end, ec] = std::to_chars(text, text + sizeof(text), v->to_number<double>());
      return std::string(text, ec == std::errc() ? end : text);
    }
  }
  if (const json::value* v = object.if_contains("boolValue"); v && v->is_bool())
    return v->get_bool() ? "true" : "false";
  return "";
}

std::map<std::string, std::string> Attributes(const json::object& owner) {
  std::map<std::string, std::string> out;
  const json::value* list = owner.if_contains("attributes");
  if (list == nullptr || !list->is_array()) return out;
  for (const json::value& item : list->get_array()) {
    if (!item.is_object()) continue;
    const json::object& attribute = item.get_object();
    const json::value* value = attribute.if_contains("value");
    out[StringField(attribute, "key")] = value != nullptr ? AnyValueText(*value) : "";
  }
  return out;
}

const json::array* ArrayField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_array() ? &value->get_array() : nullptr;
}

// False when the body is not an ExportTraceServiceRequest.
bool DecodeSpans(const std::string& body, std::vector<ReceivedSpan>& out) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return false;
  const json::array* resource_spans = ArrayField(root.get_object(), "resourceSpans");
  if (resource_spans == nullptr) return false;
  for (const json::value& rs : *resource_spans) {
    if (!rs.is_object()) return false;
    std::string service_name;
    if (const json::value* resource = rs.get_object().if_contains("resource");
        resource != nullptr && resource->is_object()) {
      service_name = Attributes(resource->get_object())["service.name"];
    }
    const json::array* scope_spans = ArrayField(rs.get_object(), "scopeSpans");
    if (scope_spans == nullptr) return false;
    for (const json::value& ss : *scope_spans) {
      if (!ss.is_object()) return false;
      const json::array* spans = ArrayField(ss.get_object(), "spans");
      if (spans == nullptr) return false;
      for (const json::value& item : *spans) {
        if (!item.is_object()) return false;
        const json::object& span = item.get_object();
        ReceivedSpan received;
        received.service_name = service_name;
        received.trace_id = StringField(span, "traceId");
        received.span_id = StringField(span, "spanId");
        received.parent_span_id = StringField(span, "parentSpanId");
        received.name = StringField(span, "name");
        if (const json::value* kind = span.if_contains("kind"); kind && kind->is_int64())
          received.kind = static_cast<int>(kind->get_int64());
        received.start_time_unix_nano = StringField(span, "startTimeUnixNano");
        received.end_time_unix_nano = StringField(span, "endTimeUnixNano");
        received.attributes = Attributes(span);
        if (const json::value* status = span.if_contains("status");
            status != nullptr && status->is_object()) {
          const json::object& s = status->get_object();
          if (const json::value* code = s.if_contains("code"); code && code->is_int64())
            received.status_code = static_cast<int>(code->get_int64());
          received.status_message = StringField(s, "message");
        }
        out.push_back(std::move(received));
      }
    }
  }
  return true;
}

}  // namespace

class OtlpReceiver::Connection {
 public:
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
};

OtlpReceiver::OtlpReceiver() {
  tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(local.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(local);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, AcceptLoop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

OtlpReceiver::~OtlpReceiver() { Stop(); }

std::string OtlpReceiver::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces";
}

void OtlpReceiver::Stop() {
  if (stopped_.exchange(true)) return;
  asio::post(io_, [this] {
    boost::system::error_code ignore;
    acceptor_.close(ignore);
    for (Connection* connection : open_) connection->stream.socket().close(ignore);
  });
  thread_.join();
}

asio::awaitable<void> OtlpReceiver::AcceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
    if (ec) co_return;
    {
      std::lock_guard lock(mutex_);
      ++connections_;
    }
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> OtlpReceiver::Serve(tcp::socket socket) {
  Connection connection(std::move(socket));
  open_.insert(&connection);
  beast::flat_buffer buffer;
  // A connection accepted just before Stop() may start after Stop() closed the others.
  while (!stopped_.load()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [read_error, read_bytes] =
        co_await http::async_read(connection.stream, buffer, parser, kAwait);
    if (read_error) break;
    const auto& request = parser.get();
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& field : request) {
      headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    Answer answer =
        Handle(std::string(request.method_string()), std::string(request.target()),
               std::string(request[http::field::content_type]), request.body(), std::move(headers));
    http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                               request.version()};
    response.set(http::field::content_type, "application/json");
    if (!answer.retry_after.empty()) response.set(http::field::retry_after, answer.retry_after);
    response.body() = answer.status / 100 == 2 ? "{}" : R"({"code":14,"message":"refused"})";
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(connection.stream, response, kAwait);
    if (write_error || !response.keep_alive() || drop_idle_.load()) break;
  }
  open_.erase(&connection);
  boost::system::error_code ignore;
  connection.stream.socket().shutdown(tcp::socket::shutdown_both, ignore);
  connection.stream.socket().close(ignore);
}

OtlpReceiver::Answer OtlpReceiver::Handle(
    const std::string& method, const std::string& target, const std::string& content_type,
    const std::string& body, std::vector<std::pair<std::string, std::string>> headers) {
  std::vector<ReceivedSpan> decoded;
  bool valid = DecodeSpans(body, decoded);
  std::lock_guard lock(mutex_);
  ++requests_;
  last_headers_ = std::move(headers);
  Answer answer{status_, ""};
  if (method != "POST") {
    answer = {405, ""};
  } else if (target != "/v1/traces") {
    answer = {404, ""};
  } else if (content_type.rfind("application/json", 0) != 0) {
    answer = {415, ""};
  } else if (!valid) {
    answer = {400, ""};
  } else if (fail_count_ > 0) {
    --fail_count_;
    answer = {fail_status_, fail_retry_after_};
  }
  if (answer.status / 100 == 2) {
    batch_sizes_.push_back(decoded.size());
    for (ReceivedSpan& span : decoded) spans_.push_back(std::move(span));
  }
  changed_.notify_all();
  return answer;
}

std::vector<ReceivedSpan> OtlpReceiver::spans() const {
  std::lock_guard lock(mutex_);
  return spans_;
}

std::vector<size_t> OtlpReceiver::batch_sizes() const {
  std::lock_guard lock(mutex_);
  return batch_sizes_;
}

size_t OtlpReceiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t OtlpReceiver::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

std::string OtlpReceiver::last_header(const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (const auto& [key, value] : last_headers_) {
    if (beast::iequals(key, name)) return value;
  }
  return "";
}

bool OtlpReceiver::WaitForSpans(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return spans_.size() >= n; });
}

bool OtlpReceiver::WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_ >= n; });
}

void OtlpReceiver::SetStatus(int status) {
  std::lock_guard lock(mutex_);
  status_ = status;
}

void OtlpReceiver::FailNext(int count, int status, std::string retry_after) {
  std::lock_guard lock(mutex_);
  fail_count_ = count;
  fail_status_ = status;
  fail_retry_after_ = std::move(retry_after);
}

void OtlpReceiver::SetDropIdleConnections(bool drop) { drop_idle_.store(drop); }

}  // namespace sluice::testing
