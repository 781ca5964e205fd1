// OtlpExporter: option validation, the queue, the batching thread with retries, and the
// synchronous Beast client it uses (Asio operations run to completion on a private
// io_context, so every step of an attempt shares one deadline). The client lives here,
// not in a file of its own, because nothing else may use it.
#include "observability/otlp_exporter.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>
#include <random>

#include "observability/otlp_json.h"

namespace sluice {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kMaxResponseBodyBytes = 1024 * 1024;

struct Endpoint {
  bool tls = false;
  std::string host;         // for DNS and TLS (no brackets around IPv6)
  std::string port;         // decimal
  std::string host_header;  // Host: as written in the URL
  std::string target;       // path and query
};

bool ParseEndpoint(const std::string& url, Endpoint& out, std::string& error) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    error = "tracing endpoint is not an absolute URL";
    return false;
  }
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::http) {
    out.tls = false;
  } else if (u.scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
  } else {
    error = "tracing endpoint must use http or https";
    return false;
  }
  if (u.has_userinfo()) {
    error = "tracing endpoint must not carry credentials (use headers)";
    return false;
  }
  if (u.has_fragment()) {
    error = "tracing endpoint must not have a fragment";
    return false;
  }
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = u.host_ipv6_address().to_string();
  } else {
    out.host = u.host();
  }
  if (out.host.empty()) {
    error = "tracing endpoint has no host";
    return false;
  }
  if (u.has_port()) {
    std::string_view text = u.port();
    uint32_t port = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
      error = "tracing endpoint has an invalid port";
      return false;
    }
    out.port = std::to_string(port);
  } else {
    out.port = out.tls ? "443" : "80";
  }
  out.host_header = u.encoded_host_and_port();
  std::string_view path = u.encoded_path();
  out.target = path.empty() || path == "/" ? "/v1/traces" : std::string(path);
  if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  return true;
}

bool IsTokenChar(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kSpecials.find(c) != std::string_view::npos;
}

bool ValidHeader(const std::pair<std::string, std::string>& header, std::string& error) {
  const auto& [name, value] = header;
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
    error = "tracing header name '" + name + "' is not a valid HTTP token";
    return false;
  }
  for (std::string_view reserved :
       {"host", "content-length", "transfer-encoding", "connection", "content-type"}) {
    if (beast::iequals(name, reserved)) {
      error = "tracing header '" + name + "' is set by the exporter";
      return false;
    }
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      error = "tracing header '" + name + "' has a control character in its value";
      return false;  // the value itself may be a secret: never echoed
    }
  }
  return true;
}

bool RetryableStatus(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// Retry-After as delta-seconds (the HTTP-date form is ignored: backoff applies instead).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  uint32_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) return std::nullopt;
  return std::chrono::seconds(seconds);
}

struct PostResult {
  int status = 0;  // 0: no HTTP response (connect, TLS, I/O or timeout failure)
  std::optional<std::chrono::seconds> retry_after;
  std::string error;  // when status is 0
};

}  // namespace

// One keep-alive connection to the collector, used by the exporter thread only.
class OtlpHttpClient {
 public:
  OtlpHttpClient(Endpoint endpoint, const OtlpExporter::Options& options)
      : endpoint_(std::move(endpoint)),
        timeout_(options.timeout),
        tls_context_(options.tls_context) {
    if (endpoint_.tls && tls_context_ == nullptr) {
      // The error_code overloads: a missing CA bundle shows up as a failed handshake
      // (reported through last_error()) instead of an exception here.
      error_code ignore;
      tls_context_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      tls_context_->set_default_verify_paths(ignore);
      tls_context_->set_verify_mode(asio::ssl::verify_peer, ignore);
    }
    request_.method(http::verb::post);
    request_.target(endpoint_.target);
    request_.version(11);
    request_.set(http::field::host, endpoint_.host_header);
    request_.set(http::field::user_agent, "sluice");
    request_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : options.headers) request_.insert(name, value);
    request_.keep_alive(true);
  }

  const Endpoint& endpoint() const { return endpoint_; }

  void SetBody(std::string body) {
    request_.body() = std::move(body);
    request_.prepare_payload();
  }

  // POSTs the current body. A kept-alive connection the collector closed meanwhile (reset
  // or end of stream before any response byte) is retried once on a fresh connection: the
  // collector never processed that request.
  PostResult Post() {
    bool reused = connected();
    PostResult result = Attempt();
    if (result.status == 0 && reused && !got_response_bytes_ && PeerClosed(io_error_))
      result = Attempt();
    return result;
  }

  void Close() {
    if (connected()) {
      error_code ignore;
      Lowest().socket().shutdown(tcp::socket::shutdown_both, ignore);
      Lowest().close();
    }
    tls_stream_.reset();
    tcp_.reset();
    buffer_.clear();
  }

 private:
  bool connected() const { return tcp_ != nullptr || tls_stream_ != nullptr; }
  beast::tcp_stream& Lowest() {
    return tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : *tcp_;
  }

  // Runs the io_context until the started operation (and its deadline timer) completes.
  void RunToCompletion() {
    io_.restart();
    io_.run();
  }

  static bool PeerClosed(error_code ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted;
  }

  PostResult Attempt() {
    got_response_bytes_ = false;
    io_error_ = {};
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    PostResult result;
    if (!connected() && !Connect(deadline, result.error)) {
      Close();
      return result;
    }
    Lowest().expires_at(deadline);
    error_code ec = tls_stream_ ? Exchange(*tls_stream_, result) : Exchange(*tcp_, result);
    if (ec) {
      io_error_ = ec;
      result.status = 0;
      result.error = std::string(stage_) + ": " + ec.message();
      Close();
    }
    return result;
  }

  bool Connect(std::chrono::steady_clock::time_point deadline, std::string& error) {
    tcp::resolver resolver(io_);
    asio::steady_timer timer(io_, deadline);
    tcp::resolver::results_type addresses;
    error_code ec = asio::error::would_block;
    resolver.async_resolve(endpoint_.host, endpoint_.port,
                           [&](error_code e, tcp::resolver::results_type results) {
                             ec = e;
                             addresses = std::move(results);
                             timer.cancel();
                           });
    timer.async_wait([&](error_code e) {
      if (!e) resolver.cancel();
    });
    RunToCompletion();
    if (ec) {
      error = "resolving: " + ec.message();
      return false;
    }
    if (endpoint_.tls) {
      tls_stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, *tls_context_);
    } else {
      tcp_ = std::make_unique<beast::tcp_stream>(io_);
    }
    Lowest().expires_at(deadline);
    ec = asio::error::would_block;
    Lowest().async_connect(addresses, [&](error_code e, const tcp::endpoint&) { ec = e; });
    RunToCompletion();
    if (ec) {
      error = "connecting: " + ec.message();
      return false;
    }
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (!endpoint_.tls) return true;

    if (!SSL_set_tlsext_host_name(tls_stream_->native_handle(), endpoint_.host.c_str())) {
      error = "TLS: cannot set the server name";
      return false;
    }
    tls_stream_->set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
    ec = asio::error::would_block;
    tls_stream_->async_handshake(asio::ssl::stream_base::client, [&](error_code e) { ec = e; });
    RunToCompletion();
    if (ec) {
      error = "TLS handshake: " + ec.message();
      return false;
    }
    return true;
  }

  template <typename Stream>
  error_code Exchange(Stream& stream, PostResult& result) {
    stage_ = "sending";
    error_code ec = asio::error::would_block;
    http::async_write(stream, request_, [&](error_code e, size_t) { ec = e; });
    RunToCompletion();
    if (ec) return ec;

    stage_ = "reading the response";
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBodyBytes);
    ec = asio::error::would_block;
    http::async_read(stream, buffer_, parser, [&](error_code e, size_t) { ec = e; });
    RunToCompletion();
    got_response_bytes_ = parser.got_some();
    if (ec) return ec;

    const auto& response = parser.get();
    result.status = static_cast<int>(response.result_int());
    if (auto it = response.find(http::field::retry_after); it != response.end())
      result.retry_after = ParseRetryAfter(it->value());
    if (!response.keep_alive()) Close();
    return {};
  }

  const Endpoint endpoint_;
  const std::chrono::milliseconds timeout_;
  asio::io_context io_{1};
  std::shared_ptr<asio::ssl::context> tls_context_;
  // One of the two while connected: plain HTTP, or TLS over a tcp_stream (the lowest layer
  // carries the deadline either way).
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  bool got_response_bytes_ = false;
  error_code io_error_;     // of the last Attempt's write or read
  const char* stage_ = "";  // where it failed
};

std::unique_ptr<OtlpExporter> OtlpExporter::Create(Options options, std::string& error) {
  Endpoint endpoint;
  if (!ParseEndpoint(options.endpoint, endpoint, error)) return nullptr;
  for (const auto& header : options.headers) {
    if (!ValidHeader(header, error)) return nullptr;
  }
  if (options.max_queue_spans == 0 || options.max_batch_spans == 0) {
    error = "tracing max_queue_spans and max_batch_spans must be positive";
    return nullptr;
  }
  if (options.flush_interval.count() <= 0 || options.timeout.count() <= 0) {
    error = "tracing flush_interval and timeout must be positive";
    return nullptr;
  }
  if (options.max_attempts < 1 || options.initial_backoff.count() < 0 ||
      options.max_backoff.count() < 0 || options.shutdown_timeout.count() < 0) {
    error = "tracing retry settings must not be negative (max_attempts >= 1)";
    return nullptr;
  }
  auto client = std::make_unique<OtlpHttpClient>(std::move(endpoint), options);
  return std::unique_ptr<OtlpExporter>(new OtlpExporter(std::move(options), std::move(client)));
}

OtlpExporter::OtlpExporter(Options options, std::unique_ptr<OtlpHttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {
  std::random_device device;
  jitter_.Seed(static_cast<uint64_t>(device()) << 32 ^ device());
  thread_ = std::thread([this] { Run(); });
}

OtlpExporter::~OtlpExporter() { Shutdown(); }

void OtlpExporter::Submit(std::vector<SpanRecord>&& spans) {
  size_t count = spans.size();
  if (count == 0) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stop_ || held_ + count > options_.max_queue_spans) {
      dropped_queue_full_.fetch_add(count, std::memory_order_relaxed);
      return;
    }
    // Moves the records (strings are stolen, not copied). The queue's capacity survives the
    // swap with the exporter's batch vector, so this allocates only while the queue grows
    // towards its high-water mark (bounded by max_queue_spans).
    queue_.insert(queue_.end(), std::make_move_iterator(spans.begin()),
                  std::make_move_iterator(spans.end()));
    held_ += count;
    accepted_ += count;
    depth_.store(held_, std::memory_order_relaxed);
    size_t batch = options_.max_batch_spans;
    wake = queue_.size() >= batch && queue_.size() - count < batch;
  }
  spans.clear();
  if (wake) wake_.notify_one();
}

bool OtlpExporter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  uint64_t target = accepted_;
  if (done_ >= target) return true;
  flush_requested_ = true;
  wake_.notify_one();
  return finished_.wait_for(lock, timeout, [&] { return done_ >= target; });
}

void OtlpExporter::Shutdown() {
  if (shut_down_.exchange(true)) return;
  Flush(options_.shutdown_timeout);
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  client_->Close();
}

std::string OtlpExporter::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

void OtlpExporter::SetLastError(std::string error) {
  std::lock_guard lock(error_mutex_);
  last_error_ = std::move(error);
}

void OtlpExporter::Run() {
  std::vector<SpanRecord> sending;
  std::unique_lock lock(mutex_);
  for (;;) {
    auto next_send = std::chrono::steady_clock::now() + options_.flush_interval;
    wake_.wait_until(lock, next_send, [&] {
      return stop_ || flush_requested_ || queue_.size() >= options_.max_batch_spans;
    });
    flush_requested_ = false;
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    sending.swap(queue_);
    lock.unlock();
    std::span<const SpanRecord> all(sending);
    for (size_t offset = 0; offset < all.size(); offset += options_.max_batch_spans) {
      std::span<const SpanRecord> batch =
          all.subspan(offset, std::min(options_.max_batch_spans, all.size() - offset));
      ExportBatch(batch);
      std::lock_guard done_lock(mutex_);
      held_ -= batch.size();
      done_ += batch.size();
      depth_.store(held_, std::memory_order_relaxed);
      finished_.notify_all();
    }
    sending.clear();
    lock.lock();
  }
}

void OtlpExporter::ExportBatch(std::span<const SpanRecord> batch) {
  client_->SetBody(EncodeOtlpTraces(batch, options_.service_name));
  const std::string where = client_->endpoint().host_header + ": ";
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
    }
    PostResult result = client_->Post();
    if (result.status >= 200 && result.status < 300) {
      exported_.fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    export_failures_.fetch_add(1, std::memory_order_relaxed);
    bool retryable = result.status == 0 || RetryableStatus(result.status);
    SetLastError(where +
                 (result.status == 0 ? result.error : "HTTP " + std::to_string(result.status)));
    if (!retryable || attempt >= options_.max_attempts) break;
    std::chrono::milliseconds delay = Backoff(attempt);
    if (result.retry_after) {
      delay = std::min<std::chrono::milliseconds>(*result.retry_after, options_.max_backoff);
    }
    if (WaitForStop(delay)) break;
  }
  dropped_export_failed_.fetch_add(batch.size(), std::memory_order_relaxed);
}

// Exponential backoff with "equal jitter": half the step fixed, half random, so retries
// from several gateways spread out but never collapse to zero.
std::chrono::milliseconds OtlpExporter::Backoff(int attempt) {
  int64_t step = options_.initial_backoff.count();
  for (int i = 1; i < attempt && step < options_.max_backoff.count(); ++i) step *= 2;
  step = std::min<int64_t>(step, options_.max_backoff.count());
  int64_t half = step / 2;
  int64_t jitter = static_cast<int64_t>(jitter_.Next() % static_cast<uint64_t>(step - half + 1));
  return std::chrono::milliseconds(half + jitter);
}

bool OtlpExporter::WaitForStop(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, delay, [&] { return stop_; });
}

}  // namespace sluice
