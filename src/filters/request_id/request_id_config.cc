// Parsing of the request_id filter settings.
#include "filters/request_id/request_id_config.h"

#include <cctype>

namespace sluice::filters {

std::optional<RequestIdConfig> ParseRequestIdConfig(const ConfigNode& node) {
  RequestIdConfig config;
  node.AllowKeys({"trust_incoming", "upstream_header"});
  config.trust_incoming = node.Bool("trust_incoming", config.trust_incoming);
  config.upstream_header = node.String("upstream_header", config.upstream_header);
  for (char c : config.upstream_header) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
      node.Child("upstream_header").Error("must be a header name (letters, digits and '-')");
      return std::nullopt;
    }
  }
  return config;
}

}  // namespace sluice::filters
