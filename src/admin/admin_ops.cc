// The identity operations shared by the admin API and the CLI (see admin_ops.h): request
// validation, store calls, JSON views and the cache invalidations each change implies.
#include "admin/admin_ops.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <initializer_list>

#include "admin/key_limits_json.h"
#include "auth/access_policy.h"
#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "config/units.h"
#include "core/principal.h"

namespace sluice {
namespace {

namespace json = boost::json;

constexpr size_t kMaxName = 200;
constexpr size_t kMaxListItems = 100;
constexpr size_t kMaxMetadataBytes = 8192;

OpResult Fail(ErrorClass error, std::string message, std::string param = "") {
  OpResult result;
  result.error = error;
  result.status = Describe(error).status;
  result.message = std::move(message);
  result.param = std::move(param);
  return result;
}

OpResult Invalid(std::string message, std::string param) {
  return Fail(ErrorClass::kInvalidRequest, std::move(message), std::move(param));
}

OpResult NotFound(std::string_view what, std::string_view id) {
  return Fail(ErrorClass::kResourceNotFound,
              std::string(what) + " '" + std::string(id) + "' does not exist.");
}

OpResult StoreFailure(const StoreError& error, std::string_view what) {
  if (error.code == StoreErrorCode::kConflict) {
    return Fail(ErrorClass::kConflict, std::string(what) + " already exists.");
  }
  if (error.code == StoreErrorCode::kNotFound) return NotFound(what, "");
  return Fail(ErrorClass::kUnavailable, "The store is unavailable; try again shortly.");
}

OpResult Ok(json::value body, std::string target, int status = 200) {
  OpResult result;
  result.status = status;
  result.body = std::move(body);
  result.target = std::move(target);
  return result;
}

json::value TimeOrNull(int64_t t) { return t == 0 ? json::value(nullptr) : json::value(t); }

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

// Reads the optional fields of create/update requests, reporting the first problem.
class Fields {
 public:
  explicit Fields(const json::object& request) : request_(request) {}

  bool Has(std::string_view name) const { return request_.contains(name); }
  const std::optional<OpResult>& error() const { return error_; }

  // Rejects fields outside `known` (a typo must not silently do nothing).
  void Known(std::initializer_list<std::string_view> known) {
    for (const auto& entry : request_) {
      bool found = false;
      for (std::string_view k : known) found = found || entry.key() == k;
      if (!found) Set(Invalid("Unknown field '" + std::string(entry.key()) + "'.", entry.key()));
    }
  }

  std::optional<std::string> String(std::string_view name, size_t max = kMaxName) {
    const json::value* v = request_.if_contains(name);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_string() || v->get_string().size() > max) {
      Set(Invalid("'" + std::string(name) + "' must be a string of at most " + std::to_string(max) +
                      " characters.",
                  std::string(name)));
      return std::nullopt;
    }
    return std::string(v->get_string());
  }

  std::optional<std::vector<std::string>> List(std::string_view name) {
    const json::value* v = request_.if_contains(name);
    if (v == nullptr || v->is_null()) return std::nullopt;
    std::vector<std::string> out;
    bool ok = v->is_array() && v->get_array().size() <= kMaxListItems;
    if (ok) {
      for (const json::value& item : v->get_array()) {
        if (!item.is_string() || item.get_string().empty() || item.get_string().size() > kMaxName) {
          ok = false;
          break;
        }
        out.emplace_back(item.get_string());
      }
    }
    if (!ok) {
      Set(Invalid("'" + std::string(name) + "' must be a list of non-empty strings.",
                  std::string(name)));
      return std::nullopt;
    }
    return out;
  }

  std::optional<bool> Bool(std::string_view name) {
    const json::value* v = request_.if_contains(name);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_bool()) {
      Set(Invalid("'" + std::string(name) + "' must be true or false.", std::string(name)));
      return std::nullopt;
    }
    return v->get_bool();
  }

  // expires_at (unix seconds, 0 clears) or expires_in ("30d", "12h"); nullopt: not given.
  std::optional<int64_t> Expiry(int64_t now) {
    if (const json::value* at = request_.if_contains("expires_at"); at && !at->is_null()) {
      if (!at->is_int64() || at->get_int64() < 0) {
        Set(Invalid("'expires_at' must be a Unix time in seconds.", "expires_at"));
        return std::nullopt;
      }
      return at->get_int64();
    }
    if (auto in = String("expires_in")) {
      auto duration = ParseDuration(*in);
      if (!duration || duration->count() <= 0) {
        Set(Invalid("'expires_in' must be a duration such as \"30d\" or \"12h\".", "expires_in"));
        return std::nullopt;
      }
      return now + duration->count() / 1000;
    }
    return std::nullopt;
  }

  std::optional<std::string> Metadata() {
    const json::value* v = request_.if_contains("metadata");
    if (v == nullptr || v->is_null()) return std::nullopt;
    std::string text = v->is_object() ? json::serialize(*v) : "";
    if (text.empty() || text.size() > kMaxMetadataBytes) {
      Set(Invalid("'metadata' must be a JSON object of at most 8 KiB.", "metadata"));
      return std::nullopt;
    }
    return text;
  }

  // `limits` (null clears; an object is merged, see ApplyKeyLimits) into `limits`.
  void Limits(KeyLimits& limits) {
    const json::value* v = request_.if_contains("limits");
    if (v == nullptr) return;
    if (auto problem = ApplyKeyLimits(*v, limits)) {
      Set(Invalid(std::move(problem->message), std::move(problem->param)));
    }
  }

  void Set(OpResult error) {
    if (!error_) error_ = std::move(error);
  }

 private:
  const json::object& request_;
  std::optional<OpResult> error_;
};

std::string_view QueryValue(const Query& query, std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return {};
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads optional Unix-millisecond parameters (since/until, from/to) into their fields; the
// problem, if any, goes to `error`.
void ReadMillisParams(const Query& query,
                      std::initializer_list<std::pair<const char*, int64_t*>> params,
                      std::optional<OpResult>& error) {
  for (auto [name, out] : params) {
    std::string_view text = QueryValue(query, name);
    if (text.empty()) continue;
    auto parsed = ParseInt(text);
    if (!parsed || *parsed < 0) {
      error = Invalid(std::string("'") + name + "' must be a Unix time in milliseconds.", name);
    } else {
      *out = *parsed;
    }
  }
}

// Reads limit/after; the problem, if any, goes to `error`.
Page ReadPage(const Query& query, std::optional<OpResult>& error) {
  Page page;
  if (std::string_view limit = QueryValue(query, "limit"); !limit.empty()) {
    auto parsed = ParseInt(limit);
    if (!parsed || *parsed < 1 || *parsed > 1000) {
      error = Invalid("'limit' must be a number from 1 to 1000.", "limit");
    } else {
      page.limit = static_cast<int>(*parsed);
    }
  }
  page.after = std::string(QueryValue(query, "after"));
  return page;
}

std::optional<bool> ReadBoolQuery(const Query& query, std::string_view name,
                                  std::optional<OpResult>& error) {
  std::string_view value = QueryValue(query, name);
  if (value.empty()) return std::nullopt;
  if (value == "true") return true;
  if (value == "false") return false;
  error = Invalid("'" + std::string(name) + "' must be true or false.", std::string(name));
  return std::nullopt;
}

// A list response: {"object":"list","data":[...],"has_more":bool,"next_after":id|null}.
template <class Record, class ToJson>
json::object ListJson(const std::vector<Record>& records, const Page& page, ToJson to_json,
                      std::string (*id_of)(const Record&)) {
  json::array data;
  for (const Record& record : records) data.push_back(to_json(record));
  json::object out;
  out["object"] = "list";
  out["data"] = std::move(data);
  bool has_more = static_cast<int>(records.size()) == page.limit;
  out["has_more"] = has_more;
  out["next_after"] = has_more ? json::value(id_of(records.back())) : json::value(nullptr);
  return out;
}

}  // namespace

// --- JSON views.

json::object AdminOps::KeyJson(const ApiKeyRecord& key) {
  json::object out;
  out["object"] = "api_key";
  out["id"] = key.id;
  out["name"] = key.name;
  out["prefix"] = key.prefix;
  out["user_id"] = key.user_id.empty() ? json::value(nullptr) : json::value(key.user_id);
  out["team_id"] = key.team_id.empty() ? json::value(nullptr) : json::value(key.team_id);
  out["roles"] = Strings(key.roles);
  out["tier"] = key.tier.empty() ? json::value(nullptr) : json::value(key.tier);
  out["allowed_models"] = Strings(key.allowed_models);
  boost::system::error_code ec;
  json::value metadata = json::parse(key.metadata_json, ec);
  out["metadata"] = ec || !metadata.is_object() ? json::value(json::object()) : metadata;
  out["limits"] = KeyLimitsJson(key.limits);
  out["created_at"] = key.created_at;
  out["expires_at"] = TimeOrNull(key.expires_at);
  out["revoked_at"] = TimeOrNull(key.revoked_at);
  out["last_used_at"] = TimeOrNull(key.last_used_at);
  out["request_count"] = key.request_count;
  return out;
}

json::object AdminOps::UserJson(const UserRecord& user, const std::vector<std::string>& teams) {
  json::object out;
  out["object"] = "user";
  out["id"] = user.id;
  out["username"] = user.username;
  out["email"] = user.email.empty() ? json::value(nullptr) : json::value(user.email);
  out["disabled"] = user.disabled;
  out["roles"] = Strings(user.roles);
  out["tier"] = user.tier.empty() ? json::value(nullptr) : json::value(user.tier);
  out["teams"] = Strings(teams);
  out["has_password"] = !user.password_hash.empty();
  out["created_at"] = user.created_at;
  out["updated_at"] = user.updated_at;
  return out;
}

json::object AdminOps::TeamJson(const TeamRecord& team) {
  json::object out;
  out["object"] = "team";
  out["id"] = team.id;
  out["name"] = team.name;
  out["tier"] = team.tier.empty() ? json::value(nullptr) : json::value(team.tier);
  out["created_at"] = team.created_at;
  return out;
}

json::object AdminOps::AuditJson(const AuditRecord& record) {
  json::object out;
  out["object"] = "audit_event";
  out["id"] = record.id;
  out["time_ms"] = record.time_ms;
  out["principal"] = record.principal;
  out["key_prefix"] = record.key_prefix;
  out["action"] = record.action;
  out["target"] = record.target;
  out["result"] = record.result;
  out["client_ip"] = record.client_ip;
  out["request_id"] = record.request_id;
  boost::system::error_code ec;
  json::value details = json::parse(record.details_json, ec);
  out["details"] = ec ? json::value(json::object()) : details;
  return out;
}

// --- Keys.

namespace {

// Applies the mutable key fields of `request` to `key`; false (with `fields.error()`) on a
// bad value. Role and tier names are checked against the policy when there is one.
bool ApplyKeyFields(Fields& fields, const AccessPolicy* policy, Store& store, int64_t now,
                    ApiKeyRecord& key) {
  fields.Known({"name", "user_id", "team_id", "roles", "tier", "allowed_models", "metadata",
                "expires_at", "expires_in", "limits"});
  if (auto name = fields.String("name")) key.name = *name;
  if (auto user = fields.String("user_id")) {
    auto found = store.GetUser(*user);
    if (found.ok() && !found.value()) fields.Set(Invalid("No user '" + *user + "'.", "user_id"));
    key.user_id = *user;
  }
  if (auto team = fields.String("team_id")) {
    auto found = store.GetTeam(*team);
    if (found.ok() && !found.value()) fields.Set(Invalid("No team '" + *team + "'.", "team_id"));
    key.team_id = *team;
  }
  if (auto roles = fields.List("roles")) {
    for (const std::string& role : *roles) {
      if (policy && !policy->IsRole(role)) fields.Set(Invalid("No role '" + role + "'.", "roles"));
    }
    key.roles = *roles;
  }
  if (auto tier = fields.String("tier")) {
    if (policy && !tier->empty() && !policy->IsTier(*tier)) {
      fields.Set(Invalid("No tier '" + *tier + "'.", "tier"));
    }
    key.tier = *tier;
  }
  if (auto models = fields.List("allowed_models")) key.allowed_models = *models;
  if (auto metadata = fields.Metadata()) key.metadata_json = *metadata;
  if (auto expiry = fields.Expiry(now)) key.expires_at = *expiry;
  fields.Limits(key.limits);
  return !fields.error();
}

// The audit detail of a change of limits: {"limits": {"from": ..., "to": ...}}; nothing when
// they did not change.
void AuditLimitsChange(const KeyLimits& before, const KeyLimits& after, OpResult& result) {
  if (before == after) return;
  result.audit_details["limits"] =
      json::object{{"from", KeyLimitsJson(before)}, {"to", KeyLimitsJson(after)}};
}

std::string KeyId(const ApiKeyRecord& key) { return key.id; }
std::string UserId(const UserRecord& user) { return user.id; }
std::string TeamId(const TeamRecord& team) { return team.id; }
std::string AuditId(const AuditRecord& record) { return record.id; }

}  // namespace

OpResult AdminOps::CreateKey(const json::object& request, int64_t now) {
  ApiKeyRecord key;
  Fields fields(request);
  if (!ApplyKeyFields(fields, policy_, store_, now, key)) return *fields.error();
  // Without roles a user's key acts with its owner's roles; an unowned key is an app key.
  if (!fields.Has("roles") && key.user_id.empty()) key.roles = {"user"};
  if (key.name.empty()) return Invalid("'name' is required.", "name");
  NewApiKey secret = GenerateApiKey();
  key.id = NewId("key");
  key.hash = secret.hash;
  key.prefix = secret.prefix;
  key.created_at = now;
  if (auto stored = store_.InsertKey(key); !stored.ok()) {
    return StoreFailure(stored.error(), "A key with this id");
  }
  json::object body = KeyJson(key);
  body["secret"] = secret.secret;
  OpResult result = Ok(std::move(body), "key:" + key.id, 201);
  result.secret = secret.secret;
  AuditLimitsChange(KeyLimits{}, key.limits, result);
  return result;
}

OpResult AdminOps::ListKeys(const Query& query) {
  std::optional<OpResult> error;
  Page page = ReadPage(query, error);
  KeyFilter filter;
  filter.user_id = std::string(QueryValue(query, "user_id"));
  filter.team_id = std::string(QueryValue(query, "team_id"));
  filter.revoked = ReadBoolQuery(query, "revoked", error);
  if (error) return *error;
  auto keys = store_.ListKeys(filter, page);
  if (!keys.ok()) return StoreFailure(keys.error(), "keys");
  return Ok(ListJson(keys.value(), page, &KeyJson, &KeyId), "keys");
}

OpResult AdminOps::GetKey(std::string_view id) {
  auto key = store_.GetKey(id);
  if (!key.ok()) return StoreFailure(key.error(), "key");
  if (!key.value()) return NotFound("Key", id);
  return Ok(KeyJson(**key), "key:" + std::string(id));
}

OpResult AdminOps::UpdateKey(std::string_view id, const json::object& request, int64_t now) {
  auto found = store_.GetKey(id);
  if (!found.ok()) return StoreFailure(found.error(), "key");
  if (!found.value()) return NotFound("Key", id);
  ApiKeyRecord key = std::move(**found);
  const KeyLimits limits_before = key.limits;
  Fields fields(request);
  if (!ApplyKeyFields(fields, policy_, store_, now, key)) return *fields.error();
  if (key.name.empty()) return Invalid("'name' must not be empty.", "name");
  if (auto stored = store_.UpdateKey(key); !stored.ok()) return StoreFailure(stored.error(), "key");
  OpResult result = Ok(KeyJson(key), "key:" + key.id);
  // Any change (limits included) drops the cached principal: the next request reads it anew.
  result.stale_key_hashes.push_back(key.hash);
  AuditLimitsChange(limits_before, key.limits, result);
  return result;
}

OpResult AdminOps::RevokeKey(std::string_view id, int64_t now) {
  auto found = store_.GetKey(id);
  if (!found.ok()) return StoreFailure(found.error(), "key");
  if (!found.value()) return NotFound("Key", id);
  ApiKeyRecord key = std::move(**found);
  if (key.revoked_at == 0) {
    if (auto stored = store_.RevokeKey(id, now); !stored.ok()) {
      return StoreFailure(stored.error(), "key");
    }
    key.revoked_at = now;
  }
  OpResult result = Ok(KeyJson(key), "key:" + key.id);
  result.stale_key_hashes.push_back(key.hash);
  return result;
}

OpResult AdminOps::RotateKey(std::string_view id, int64_t now) {
  (void)now;
  auto found = store_.GetKey(id);
  if (!found.ok()) return StoreFailure(found.error(), "key");
  if (!found.value()) return NotFound("Key", id);
  ApiKeyRecord key = std::move(**found);
  if (key.revoked_at != 0) {
    return Fail(ErrorClass::kConflict, "Key '" + key.id + "' is revoked; create a new one.");
  }
  std::string old_hash = key.hash;
  NewApiKey secret = GenerateApiKey();
  key.hash = secret.hash;
  key.prefix = secret.prefix;
  if (auto stored = store_.UpdateKey(key); !stored.ok()) return StoreFailure(stored.error(), "key");
  json::object body = KeyJson(key);
  body["secret"] = secret.secret;
  OpResult result = Ok(std::move(body), "key:" + key.id);
  result.secret = secret.secret;
  result.stale_key_hashes.push_back(old_hash);
  return result;
}

// --- Users.

namespace {

bool ApplyUserFields(Fields& fields, const AccessPolicy* policy, UserRecord& user) {
  if (auto email = fields.String("email")) user.email = *email;
  if (auto hash = fields.String("password_hash", 512)) user.password_hash = *hash;
  if (auto roles = fields.List("roles")) {
    for (const std::string& role : *roles) {
      if (policy && !policy->IsRole(role)) fields.Set(Invalid("No role '" + role + "'.", "roles"));
    }
    user.roles = *roles;
  }
  if (auto tier = fields.String("tier")) {
    if (policy && !tier->empty() && !policy->IsTier(*tier)) {
      fields.Set(Invalid("No tier '" + *tier + "'.", "tier"));
    }
    user.tier = *tier;
  }
  if (auto disabled = fields.Bool("disabled")) user.disabled = *disabled;
  return !fields.error();
}

bool ValidUsername(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

OpResult AdminOps::CreateUser(const json::object& request, int64_t now) {
  UserRecord user;
  user.roles = {"user"};
  Fields fields(request);
  fields.Known({"username", "email", "password_hash", "roles", "tier", "disabled", "teams"});
  user.username = fields.String("username").value_or("");
  std::vector<std::string> teams = fields.List("teams").value_or(std::vector<std::string>{});
  if (!ApplyUserFields(fields, policy_, user)) return *fields.error();
  if (!ValidUsername(user.username)) {
    return Invalid("'username' must be 1 to 64 letters, digits or _ - . @", "username");
  }
  for (const std::string& team : teams) {
    auto found = store_.GetTeam(team);
    if (found.ok() && !found.value()) return Invalid("No team '" + team + "'.", "teams");
  }
  user.id = NewId("usr");
  user.created_at = now;
  user.updated_at = now;
  if (auto stored = store_.InsertUser(user); !stored.ok()) {
    return StoreFailure(stored.error(), "A user named '" + user.username + "'");
  }
  for (const std::string& team : teams) store_.AddTeamMember(team, user.id);
  return Ok(UserJson(user, teams), "user:" + user.id, 201);
}

OpResult AdminOps::ListUsers(const Query& query) {
  std::optional<OpResult> error;
  Page page = ReadPage(query, error);
  UserFilter filter;
  filter.team_id = std::string(QueryValue(query, "team_id"));
  filter.disabled = ReadBoolQuery(query, "disabled", error);
  if (error) return *error;
  auto users = store_.ListUsers(filter, page);
  if (!users.ok()) return StoreFailure(users.error(), "users");
  auto to_json = [this](const UserRecord& user) {
    auto teams = store_.ListUserTeams(user.id);
    return UserJson(user, teams.ok() ? teams.value() : std::vector<std::string>{});
  };
  return Ok(ListJson(users.value(), page, to_json, &UserId), "users");
}

std::optional<UserRecord> AdminOps::FindUser(std::string_view id_or_name) {
  auto by_id = store_.GetUser(id_or_name);
  if (by_id.ok() && by_id.value()) return std::move(*by_id.value());
  auto by_name = store_.FindUserByName(id_or_name);
  if (by_name.ok() && by_name.value()) return std::move(*by_name.value());
  return std::nullopt;
}

OpResult AdminOps::GetUser(std::string_view id) {
  auto user = store_.GetUser(id);
  if (!user.ok()) return StoreFailure(user.error(), "user");
  if (!user.value()) return NotFound("User", id);
  auto teams = store_.ListUserTeams(id);
  return Ok(UserJson(**user, teams.ok() ? teams.value() : std::vector<std::string>{}),
            "user:" + std::string(id));
}

OpResult AdminOps::UpdateUser(std::string_view id, const json::object& request, int64_t now) {
  auto found = store_.GetUser(id);
  if (!found.ok()) return StoreFailure(found.error(), "user");
  if (!found.value()) return NotFound("User", id);
  UserRecord user = std::move(**found);
  Fields fields(request);
  fields.Known({"email", "password_hash", "roles", "tier", "disabled"});
  if (!ApplyUserFields(fields, policy_, user)) return *fields.error();
  user.updated_at = now;
  if (auto stored = store_.UpdateUser(user); !stored.ok()) {
    return StoreFailure(stored.error(), "user");
  }
  auto teams = store_.ListUserTeams(id);
  OpResult result = Ok(UserJson(user, teams.ok() ? teams.value() : std::vector<std::string>{}),
                       "user:" + user.id);
  result.flush_all_keys = true;  // the user's keys carry the owner's status and roles
  return result;
}

// --- Teams.

OpResult AdminOps::CreateTeam(const json::object& request, int64_t now) {
  TeamRecord team;
  Fields fields(request);
  fields.Known({"name", "tier"});
  team.name = fields.String("name").value_or("");
  if (auto tier = fields.String("tier")) {
    if (policy_ && !tier->empty() && !policy_->IsTier(*tier)) {
      fields.Set(Invalid("No tier '" + *tier + "'.", "tier"));
    }
    team.tier = *tier;
  }
  if (fields.error()) return *fields.error();
  if (team.name.empty()) return Invalid("'name' is required.", "name");
  team.id = NewId("team");
  team.created_at = now;
  if (auto stored = store_.InsertTeam(team); !stored.ok()) {
    return StoreFailure(stored.error(), "A team named '" + team.name + "'");
  }
  return Ok(TeamJson(team), "team:" + team.id, 201);
}

OpResult AdminOps::ListTeams(const Query& query) {
  std::optional<OpResult> error;
  Page page = ReadPage(query, error);
  if (error) return *error;
  auto teams = store_.ListTeams(page);
  if (!teams.ok()) return StoreFailure(teams.error(), "teams");
  return Ok(ListJson(teams.value(), page, &TeamJson, &TeamId), "teams");
}

OpResult AdminOps::GetTeam(std::string_view id) {
  auto team = store_.GetTeam(id);
  if (!team.ok()) return StoreFailure(team.error(), "team");
  if (!team.value()) return NotFound("Team", id);
  return Ok(TeamJson(**team), "team:" + std::string(id));
}

OpResult AdminOps::UpdateTeam(std::string_view id, const json::object& request) {
  auto found = store_.GetTeam(id);
  if (!found.ok()) return StoreFailure(found.error(), "team");
  if (!found.value()) return NotFound("Team", id);
  TeamRecord team = std::move(**found);
  Fields fields(request);
  fields.Known({"name", "tier"});
  if (auto name = fields.String("name")) team.name = *name;
  if (auto tier = fields.String("tier")) {
    if (policy_ && !tier->empty() && !policy_->IsTier(*tier)) {
      fields.Set(Invalid("No tier '" + *tier + "'.", "tier"));
    }
    team.tier = *tier;
  }
  if (fields.error()) return *fields.error();
  if (team.name.empty()) return Invalid("'name' must not be empty.", "name");
  if (auto stored = store_.UpdateTeam(team); !stored.ok()) {
    return StoreFailure(stored.error(), "A team named '" + team.name + "'");
  }
  OpResult result = Ok(TeamJson(team), "team:" + team.id);
  result.flush_all_keys = true;  // team keys carry the team's tier
  return result;
}

OpResult AdminOps::AddMember(std::string_view team_id, std::string_view user_id) {
  auto team = store_.GetTeam(team_id);
  if (!team.ok()) return StoreFailure(team.error(), "team");
  if (!team.value()) return NotFound("Team", team_id);
  auto user = store_.GetUser(user_id);
  if (!user.ok()) return StoreFailure(user.error(), "user");
  if (!user.value()) return NotFound("User", user_id);
  if (auto stored = store_.AddTeamMember(team_id, user_id); !stored.ok()) {
    return StoreFailure(stored.error(), "membership");
  }
  OpResult result = GetUser(user_id);
  result.target = "team:" + std::string(team_id);
  result.flush_all_keys = true;
  return result;
}

OpResult AdminOps::RemoveMember(std::string_view team_id, std::string_view user_id) {
  auto team = store_.GetTeam(team_id);
  if (!team.ok()) return StoreFailure(team.error(), "team");
  if (!team.value()) return NotFound("Team", team_id);
  if (auto stored = store_.RemoveTeamMember(team_id, user_id); !stored.ok()) {
    if (stored.error().code == StoreErrorCode::kNotFound) return NotFound("Member", user_id);
    return StoreFailure(stored.error(), "membership");
  }
  OpResult result = GetUser(user_id);
  result.target = "team:" + std::string(team_id);
  result.flush_all_keys = true;
  return result;
}

// --- Tokens.

OpResult AdminOps::RevokeToken(const json::object& request) {
  Fields fields(request);
  fields.Known({"jti", "expires_at"});
  std::string jti = fields.String("jti", 512).value_or("");
  std::optional<int64_t> expires_at = fields.Expiry(0);
  if (fields.error()) return *fields.error();
  if (jti.empty()) return Invalid("'jti' is required.", "jti");
  int64_t until = expires_at.value_or(0);
  if (until == 0) until = NowSeconds() + 24 * 3600;
  if (auto stored = store_.RevokeTokenId(jti, until); !stored.ok()) {
    return StoreFailure(stored.error(), "token");
  }
  OpResult result =
      Ok(json::object{{"object", "revoked_token"}, {"jti", jti}, {"expires_at", until}},
         "token:" + jti);
  result.revoked_jti = jti;
  return result;
}

// --- Roles and audit.

OpResult AdminOps::ListRoles() const {
  json::array data;
  if (policy_ != nullptr) {
    for (const RoleInfo& role : policy_->roles()) {
      json::array permissions;
      for (std::string_view p : PermissionNames(role.permissions)) permissions.emplace_back(p);
      data.push_back(json::object{{"object", "role"},
                                  {"name", role.name},
                                  {"built_in", role.built_in},
                                  {"permissions", std::move(permissions)}});
    }
  }
  return Ok(json::object{{"object", "list"}, {"data", std::move(data)}, {"has_more", false}},
            "roles");
}

OpResult AdminOps::ListAudit(const Query& query) {
  std::optional<OpResult> error;
  Page page = ReadPage(query, error);
  AuditFilter filter;
  filter.principal = std::string(QueryValue(query, "principal"));
  filter.action = std::string(QueryValue(query, "action"));
  filter.target = std::string(QueryValue(query, "target"));
  filter.result = std::string(QueryValue(query, "result"));
  ReadMillisParams(query, {{"since", &filter.since_ms}, {"until", &filter.until_ms}}, error);
  if (error) return *error;
  auto records = store_.ListAudit(filter, page);
  if (!records.ok()) {
    if (records.error().code == StoreErrorCode::kInvalid) {
      return Invalid("'after' names no audit event.", "after");
    }
    return StoreFailure(records.error(), "audit");
  }
  return Ok(ListJson(records.value(), page, &AuditJson, &AuditId), "audit");
}

namespace {

constexpr std::pair<std::string_view, UsageGroupBy> kUsageGroups[] = {
    {"day", UsageGroupBy::kDay},   {"key", UsageGroupBy::kKey},     {"user", UsageGroupBy::kUser},
    {"team", UsageGroupBy::kTeam}, {"model", UsageGroupBy::kModel},
};

json::object UsageSumsJson(const UsageSums& sums) {
  return {{"requests", sums.requests},
          {"prompt_tokens", sums.prompt_tokens},
          {"completion_tokens", sums.completion_tokens},
          {"cached_tokens", sums.cached_tokens},
          {"cost_micros", sums.cost_micros},
          {"errors", sums.errors}};
}

}  // namespace

OpResult AdminOps::QueryUsage(const Query& query) {
  std::optional<OpResult> error;
  UsageFilter filter;
  filter.key_id = std::string(QueryValue(query, "key_id"));
  filter.user_id = std::string(QueryValue(query, "user_id"));
  filter.team_id = std::string(QueryValue(query, "team_id"));
  filter.model = std::string(QueryValue(query, "model"));
  ReadMillisParams(query, {{"from", &filter.from_ms}, {"to", &filter.to_ms}}, error);
  std::string_view group_name = QueryValue(query, "group_by");
  if (group_name.empty()) group_name = "day";
  std::optional<UsageGroupBy> group_by;
  for (const auto& [name, value] : kUsageGroups) {
    if (name == group_name) group_by = value;
  }
  if (!group_by)
    error = Invalid("'group_by' must be one of day, key, user, team, model.", "group_by");
  int limit = 1000;
  if (std::string_view text = QueryValue(query, "limit"); !text.empty()) {
    auto parsed = ParseInt(text);
    if (!parsed || *parsed < 1 || *parsed > 10000) {
      error = Invalid("'limit' must be a number from 1 to 10000.", "limit");
    } else {
      limit = static_cast<int>(*parsed);
    }
  }
  if (error) return *error;
  auto report = store_.QueryUsage(filter, *group_by, limit);
  if (!report.ok()) return StoreFailure(report.error(), "usage");
  json::array rows;
  for (const UsageGroupRow& row : report->rows) {
    json::object out = UsageSumsJson(row.sums);
    out["day"] = row.day;
    out["group"] = row.group;
    rows.push_back(std::move(out));
  }
  json::object body;
  body["object"] = "usage_report";
  body["group_by"] = group_name;
  body["rows"] = std::move(rows);
  body["totals"] = UsageSumsJson(report->totals);
  body["truncated"] = report->truncated;
  return Ok(std::move(body), "usage");
}

}  // namespace sluice
