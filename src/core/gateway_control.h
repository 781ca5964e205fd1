// What the admin API may ask of the running gateway beyond the store: reload the
// configuration and describe the gateway's state. Implemented by the server (server.h);
// reached through Services::control (null when the gateway runs without one, e.g. in
// tests that drive a bare worker). Thread-safe: implementations serialise reloads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct ReloadOutcome {
  bool ok = false;
  uint64_t version = 0;             // the generation serving new requests after the attempt
  std::string content_id;           // "sha256:…" of the file that generation was loaded from
  std::vector<std::string> errors;  // why the file was rejected ("file:line: message")
  bool unchanged = false;           // ok, and the file was identical: nothing was swapped
};

class GatewayControl {
 public:
  virtual ~GatewayControl() = default;
  // Loads and validates the configuration file again and, when it is valid, makes it the
  // configuration of new requests. `trigger` names the cause in logs ("SIGHUP", "admin
  // API", "file watch"). Blocks for the load (milliseconds); never throws.
  virtual ReloadOutcome ReloadConfig(std::string_view trigger) = 0;
  // The body of GET /admin/status (a JSON object; see docs/routing.md, "Status").
  virtual std::string StatusJson() = 0;
};

}  // namespace sluice
