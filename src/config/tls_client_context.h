// The TLS client context of an outbound connection the config describes (a backend, the
// tracing collector): peer verification on by default, against the system CAs or one CA
// file; a CA file that cannot be loaded is a config error at the `tls:` node. Load time only.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/config_node.h"

namespace sluice {

std::shared_ptr<boost::asio::ssl::context> MakeTlsClientContext(const ConfigNode& tls, bool verify,
                                                                const std::string& ca_file);

}  // namespace sluice
