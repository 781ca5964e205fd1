// Readers of the auth:, store: and admin: configuration sections, used by config/loader.
// Errors go to the node's diagnostics with file:line. Not thread-safe (load time only).
#pragma once

#include "config/auth_config.h"
#include "config/config_node.h"

namespace sluice {

void ReadAuth(const ConfigNode& node, AuthConfig& auth);
void ReadStore(const ConfigNode& node, StoreConfig& store);
void ReadAdmin(const ConfigNode& node, AdminConfig& admin);

}  // namespace sluice
