// The long-lived runtime components that filters and handlers need beyond the config
// snapshot (today: identity and access). Passed to the filter registry and the workers by
// the server; absent (nullptr) in `sluice config check`, where factories only validate.
// Forward declarations only, to keep core free of the components' dependencies.
#pragma once

namespace sluice {

class AuthRuntime;

struct Services {
  AuthRuntime* auth = nullptr;
};

}  // namespace sluice
