// Sign(): the compact JWS for tokens the gateway issues itself. The header is always
// {"alg":…,"typ":"JWT"[,"kid":…]} and the claims keep the order they were given in, so
// the same input always gives the same token (HS256/RS256; ES256 signatures are random).
// Thread-safe.
#include <boost/json/serialize.hpp>

#include "auth/jwt/key_impl.h"
#include "core/json_text.h"

namespace sluice::jwt {

std::string Sign(const boost::json::object& claims, const Key& key) {
  if (!key.can_sign()) return {};
  std::string header = "{\"alg\":\"";
  header += AlgorithmName(key.algorithm());
  header += "\",\"typ\":\"JWT\"";
  if (!key.kid().empty()) {
    header += ",\"kid\":";
    AppendJsonString(header, key.kid());
  }
  header += '}';
  std::string token = Base64UrlEncode(header);
  token += '.';
  token += Base64UrlEncode(boost::json::serialize(claims));
  const std::string signature = CreateSignature(key, token);
  if (signature.empty()) return {};
  token += '.';
  token += Base64UrlEncode(signature);
  return token;
}

}  // namespace sluice::jwt
