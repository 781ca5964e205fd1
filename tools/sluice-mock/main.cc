// sluice-mock: a simulated OpenAI-compatible model server. Flags → MockConfig → MockServer;
// prints "sluice-mock listening on http://HOST:PORT" when ready and exits 0 on SIGTERM or
// SIGINT. See docs/sluice-mock.md. Single-threaded until the server starts its workers.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "mock_server.h"

int main(int argc, char** argv) {
  sluice::MockConfig config;
  CLI::App app{
      "sluice-mock: a simulated OpenAI-compatible upstream (chat/completions, completions,\n"
      "embeddings, models) with deterministic content, configurable timing and fault\n"
      "injection. Per-request overrides go in the body field \"mock\" (see docs/sluice-mock.md)."};
  app.get_formatter()->column_width(34);
  app.add_option("--listen", config.listen, "Address to listen on, HOST:PORT (port 0: any free)")
      ->capture_default_str();
  app.add_option("--workers", config.workers, "Worker threads, each with its own listener")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--models", config.models, "Comma-separated models listed by /v1/models")
      ->delimiter(',')
      ->capture_default_str();
  app.add_flag("--strict-models", config.strict_models,
               "Answer 404 model_not_found for models not in --models");
  app.add_option("--tokens", config.tokens, "Completion tokens per reply")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxTokens))
      ->capture_default_str();
  app.add_option("--ttft-ms", config.ttft_ms, "Stream: delay before the first token")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxDelayMs))
      ->capture_default_str();
  app.add_option("--itl-ms", config.itl_ms, "Stream: delay between tokens")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxDelayMs))
      ->capture_default_str();
  app.add_option("--jitter-ms", config.jitter_ms, "Uniform random +/- added to every delay")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxDelayMs))
      ->capture_default_str();
  app.add_option("--latency-ms", config.latency_ms, "Delay before a non-stream response")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxDelayMs))
      ->capture_default_str();
  app.add_option("--response-bytes", config.response_bytes,
                 "If > 0: reply with the fewest tokens whose text has >= N bytes")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxResponseBytes))
      ->capture_default_str();
  app.add_option("--embedding-dims", config.embedding_dims, "Embedding vector dimension")
      ->check(CLI::Range(int64_t{1}, sluice::kMaxEmbeddingDims))
      ->capture_default_str();
  app.add_option("--error-rate", config.error_rate, "Fraction of /v1/ requests failed on purpose")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--error-status", config.error_status, "HTTP status of injected errors")
      ->check(CLI::Range(400, 599))
      ->capture_default_str();
  app.add_option("--reset-rate", config.reset_rate, "Fraction of streams cut by a TCP reset")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--reset-after", config.reset_after, "Content tokens sent before such a reset")
      ->check(CLI::Range(int64_t{0}, sluice::kMaxTokens))
      ->capture_default_str();
  uint64_t seed = 0;
  CLI::Option* seed_option =
      app.add_option("--seed", seed, "Seed for random choices (default: time-based)");
  app.add_option("--api-key", config.api_key,
                 "Require 'Authorization: Bearer KEY' on /v1/ requests (or $SLUICE_MOCK_API_KEY)")
      ->envname("SLUICE_MOCK_API_KEY");
  app.add_option("--health-status", config.health_status,
                 "Status of GET /health (change it at run time with POST /mock/health)")
      ->check(CLI::Range(100, 599))
      ->capture_default_str();
  app.add_option("--max-body-bytes", config.max_body_bytes, "Largest accepted request body")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (seed_option->count() > 0) config.seed = seed;

  std::signal(SIGPIPE, SIG_IGN);
  // Install the signal handlers before announcing readiness, so a SIGTERM sent right after
  // the ready line still ends the process cleanly.
  boost::asio::io_context signal_io(1);
  boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});

  sluice::MockServer server(config);
  std::string error;
  if (!server.Listen(error)) {
    std::cerr << "sluice-mock: " << error << "\n";
    return 1;
  }
  server.Start();
  std::cout << "sluice-mock listening on http://" << server.address() << std::endl;
  signal_io.run();  // returns once a signal has been handled
  server.Stop();
  return 0;
}
