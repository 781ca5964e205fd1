// Issuers: building policies and key sets from config, picking and verifying tokens,
// JWKS refresh, revoked token ids.
#include "auth/issuers.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>

#include "auth/http_fetch.h"

namespace sluice {
namespace {

constexpr auto kFetchTimeout = std::chrono::seconds(10);

std::string Where(const std::string& source, int line) {
  return line > 0 ? source + ":" + std::to_string(line) : source;
}

// The "iss" of a token, read without verifying anything (only to pick the issuer).
std::string UnverifiedIssuer(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return "";
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return "";
  auto payload = jwt::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload) return "";
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*payload, ec);
  if (ec || !v.is_object()) return "";
  const boost::json::value* iss = v.get_object().if_contains("iss");
  return iss != nullptr && iss->is_string() ? std::string(iss->get_string()) : "";
}

}  // namespace

std::unique_ptr<Issuers> Issuers::Build(const AuthConfig& config, const std::string& source,
                                        std::vector<std::string>& errors) {
  auto issuers = std::make_unique<Issuers>();
  for (const JwtIssuerConfig& c : config.issuers) {
    auto issuer = std::make_unique<Issuer>();
    issuer->config = c;
    issuer->policy.issuer = c.issuer;
    issuer->policy.audiences = c.audiences;
    issuer->policy.leeway = std::chrono::duration_cast<std::chrono::seconds>(c.leeway);
    issuer->policy.required_claims = c.required_claims;
    for (const std::string& name : c.algorithms) {
      if (auto alg = jwt::ParseAlgorithm(name)) issuer->policy.algorithms.push_back(*alg);
    }
    for (const JwtKeySpec& spec : c.keys) {
      std::string error;
      std::optional<jwt::Key> key;
      if (!spec.pem_file.empty()) {
        std::ifstream in(spec.pem_file);
        if (!in) {
          errors.push_back(Where(source, spec.line) + ": cannot read pem_file '" + spec.pem_file +
                           "'");
          continue;
        }
        std::stringstream pem;
        pem << in.rdbuf();
        key = jwt::Key::FromPem(pem.str(), spec.kid, &error);
      } else {
        key = jwt::Key::FromSecret(spec.secret, spec.kid, &error);
      }
      if (!key) {
        errors.push_back(Where(source, spec.line) + ": unusable key: " + error);
        continue;
      }
      issuer->static_keys.Add(std::move(*key));
    }
    if (!c.jwks_url.empty()) {
      issuer->jwks = std::make_unique<jwt::JwksCache>(
          std::chrono::duration_cast<std::chrono::seconds>(c.jwks_refresh),
          std::chrono::duration_cast<std::chrono::seconds>(c.jwks_min_refresh));
    }
    issuers->issuers_.push_back(std::move(issuer));
  }
  boost::system::error_code ec;
  issuers->tls_.set_default_verify_paths(ec);
  return issuers;
}

void Issuers::AddGatewayIssuer(const std::string& secret, const std::string& issuer_name) {
  auto issuer = std::make_unique<Issuer>();
  issuer->gateway = true;
  issuer->config.issuer = issuer_name;
  issuer->policy.issuer = issuer_name;
  issuer->policy.audiences = {issuer_name};
  issuer->policy.algorithms = {jwt::Algorithm::kHS256};
  issuer->policy.leeway = std::chrono::seconds(30);
  issuer->policy.required_claims = {"sub", "jti"};
  auto key = jwt::Key::FromSecret(secret, "sluice-login");
  gateway_key_ = std::make_unique<jwt::Key>(*key);
  issuer->static_keys.Add(*key);
  gateway_issuer_name_ = issuer_name;
  issuers_.push_back(std::move(issuer));
}

const Issuer* Issuers::Find(std::string_view name) const {
  for (const auto& issuer : issuers_) {
    if (issuer->config.issuer == name) return issuer.get();
  }
  return nullptr;
}

boost::asio::awaitable<Issuers::Outcome> Issuers::Verify(std::string_view token,
                                                         boost::asio::io_context& io) {
  Outcome outcome;
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  const Issuer* issuer = Find(UnverifiedIssuer(token));
  if (issuer == nullptr) {
    outcome.error = jwt::VerifyError::kWrongIssuer;
    co_return outcome;
  }
  outcome.issuer = issuer;
  if (auto cached = verified_.Find(token, now)) {
    outcome.token = std::move(cached);
    co_return outcome;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Fetched keys first; keys from config stay valid beside them.
    std::shared_ptr<const jwt::KeySet> fetched;
    if (issuer->jwks) fetched = issuer->jwks->keys();
    jwt::VerifyResult result;
    result.error = jwt::VerifyError::kUnknownKey;
    if (fetched && fetched->size() > 0) result = jwt::Verify(token, issuer->policy, *fetched, now);
    if (result.error == jwt::VerifyError::kUnknownKey && issuer->static_keys.size() > 0) {
      result = jwt::Verify(token, issuer->policy, issuer->static_keys, now);
    }
    if (result.error == jwt::VerifyError::kNone) {
      auto verified = std::make_shared<const jwt::VerifiedToken>(std::move(*result.token));
      verified_.Insert(token, verified);
      outcome.token = std::move(verified);
      co_return outcome;
    }
    outcome.error = result.error;
    bool unknown_kid = result.error == jwt::VerifyError::kUnknownKey;
    if (!unknown_kid || !issuer->jwks || attempt > 0 ||
        !issuer->jwks->BeginRefresh(std::chrono::steady_clock::now(), true)) {
      co_return outcome;
    }
    // Fetch on the runtime's own loop, then retry once with the new keys.
    co_await boost::asio::co_spawn(io, Fetch(const_cast<Issuer&>(*issuer), io),
                                   boost::asio::use_awaitable);
  }
  co_return outcome;
}

boost::asio::awaitable<void> Issuers::Fetch(Issuer& issuer, boost::asio::io_context& io) {
  (void)io;
  FetchResult result = co_await HttpGet(issuer.config.jwks_url, tls_, kFetchTimeout);
  std::optional<jwt::KeySet> keys;
  if (result.error.empty() && result.status == 200) {
    std::vector<std::string> skipped;
    keys = jwt::KeySet::ParseJwks(result.body, &skipped);
    for (const std::string& why : skipped) {
      spdlog::warn("jwks {}: skipped a key: {}", issuer.config.jwks_url, why);
    }
  } else {
    spdlog::warn("jwks {}: fetch failed: {}", issuer.config.jwks_url,
                 result.error.empty() ? "HTTP " + std::to_string(result.status) : result.error);
  }
  issuer.jwks->Finish(std::move(keys), std::chrono::steady_clock::now());
}

boost::asio::awaitable<void> Issuers::RefreshDue(boost::asio::io_context& io) {
  for (auto& issuer : issuers_) {
    if (issuer->jwks && issuer->jwks->BeginRefresh(std::chrono::steady_clock::now(), false)) {
      co_await Fetch(*issuer, io);
    }
  }
}

void Issuers::Revoke(const std::string& jti) {
  std::lock_guard lock(revoked_mutex_);
  revoked_.insert(jti);
  recent_[jti] = std::chrono::steady_clock::now();
}

bool Issuers::IsRevoked(std::string_view jti) const {
  std::lock_guard lock(revoked_mutex_);
  return revoked_.find(jti) != revoked_.end();
}

void Issuers::ReplaceRevoked(std::vector<std::string> jtis) {
  std::set<std::string, std::less<>> fresh(std::make_move_iterator(jtis.begin()),
                                           std::make_move_iterator(jtis.end()));
  std::lock_guard lock(revoked_mutex_);
  // Ids revoked here in the last minute may not have reached the store when it was read.
  auto now = std::chrono::steady_clock::now();
  for (auto it = recent_.begin(); it != recent_.end();) {
    if (now - it->second > std::chrono::minutes(1)) {
      it = recent_.erase(it);
    } else {
      fresh.insert(it->first);
      ++it;
    }
  }
  revoked_.swap(fresh);
}

}  // namespace sluice
