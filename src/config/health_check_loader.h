// Reader of active health check settings (HealthCheckConfig, config/routing_config.h): the
// `routing.health_check` defaults and each backend's own `health_check:` block over them.
// Used by config/loader and config/routing_loader; errors go to the node's diagnostics with
// file:line. Not thread-safe (load time only).
#pragma once

#include <string_view>

#include "config/config_node.h"
#include "config/routing_config.h"

namespace sluice {

// `routing.health_check`: a mapping turns checks on for every backend without its own
// block (`enabled: false` keeps them off while still giving the defaults).
void ReadHealthCheckDefaults(const ConfigNode& node, HealthCheckConfig& defaults);

// A backend's `health_check`: absent → `defaults`; `false` → no checks; `true` → checks
// with the defaults' settings; a mapping → its keys over `defaults`, checks on unless it
// says `enabled: false`.
void ReadBackendHealthCheck(const ConfigNode& node, const HealthCheckConfig& defaults,
                            HealthCheckConfig& out);

// True when `status` is one of `config.expected_status`.
bool HealthStatusExpected(const HealthCheckConfig& config, int status);

// Why `path` may not be a health check path (empty: it may): it must start with '/', hold
// no spaces, control characters or fragment, and must not name a completion endpoint
// (a health check never makes a paid call).
std::string HealthPathProblem(std::string_view path);

}  // namespace sluice
