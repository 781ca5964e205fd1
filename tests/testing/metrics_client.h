// GET /metrics from a gateway under test, parsed (prometheus_scrape.h), once or until a
// condition holds. Metrics are recorded just after a response is written, so a test that
// has read its response polls (bounded) instead of sleeping. Test-thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "tests/testing/prometheus_scrape.h"

namespace sluice::testing {

// One scrape of the main listener's /metrics (empty when it does not answer 200).
PrometheusScrape ScrapeMetrics(uint16_t port);
// Scrapes until `done` holds or `timeout` passes; returns the last scrape, which must be a
// valid exposition (failures are added to the running test).
PrometheusScrape ScrapeMetricsUntil(uint16_t port,
                                    const std::function<bool(const PrometheusScrape&)>& done,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace sluice::testing
