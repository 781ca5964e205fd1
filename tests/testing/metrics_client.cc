// ScrapeMetrics, ScrapeMetricsUntil.
#include "tests/testing/metrics_client.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/testing/test_client.h"

namespace sluice::testing {

PrometheusScrape ScrapeMetrics(uint16_t port) {
  TestClient client(port);
  client.Send(GetRequest("/metrics"));
  std::optional<Response> response = client.ReadResponse();
  if (!response || response->status != 200) return {};
  return PrometheusScrape::Parse(response->body);
}

PrometheusScrape ScrapeMetricsUntil(uint16_t port,
                                    const std::function<bool(const PrometheusScrape&)>& done,
                                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  PrometheusScrape scrape = ScrapeMetrics(port);
  while (!done(scrape) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    scrape = ScrapeMetrics(port);
  }
  EXPECT_FALSE(scrape.samples().empty()) << "no scrape";
  for (const std::string& error : scrape.errors()) ADD_FAILURE() << error;
  return scrape;
}

}  // namespace sluice::testing
