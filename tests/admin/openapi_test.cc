// Conformance of the admin API with its OpenAPI document (src/admin/openapi.json, served at
// GET /openapi.json on the admin listener without credentials): the document's operations
// are exactly AdminRoutes(), each names the route's permission in x-sluice-permission and
// declares its path parameters, and live responses (successes and 400/401/403/404/409
// errors) carry every property the documented schema for their status marks required, with
// the documented types ($ref and allOf resolved by a small recursive checker).
#include <gtest/gtest.h>

#include <set>

#include "tests/admin/admin_test_fixture.h"

namespace sluice::testing::admin_test {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Checks JSON values against the schemas of one OpenAPI 3.0 document: required properties,
// types (with nullable), enums, $ref to #/components/schemas/..., allOf, properties and
// array items. Enough of JSON Schema for the admin API's shapes; anything else is ignored.
class SchemaChecker {
 public:
  explicit SchemaChecker(const json::object& document) : document_(document) {}

  // The problems found in `value` (empty: it conforms). `where` names the value in them.
  std::vector<std::string> Check(const json::value& schema, const json::value& value,
                                 const std::string& where = "$") const {
    std::vector<std::string> problems;
    CheckInto(schema, value, where, problems, 0);
    return problems;
  }

 private:
  const json::object* Resolve(const json::value& schema, std::vector<std::string>& problems,
                              const std::string& where) const {
    const json::value* current = &schema;
    for (int hops = 0; hops < 10; ++hops) {
      if (!current->is_object()) break;
      const json::value* ref = current->as_object().if_contains("$ref");
      if (ref == nullptr) return &current->as_object();
      constexpr std::string_view kPrefix = "#/components/schemas/";
      std::string_view target = ref->is_string() ? std::string_view(ref->get_string()) : "";
      const json::value* next = nullptr;
      if (target.starts_with(kPrefix)) {
        const json::value* components = document_.if_contains("components");
        const json::value* schemas = components && components->is_object()
                                         ? components->as_object().if_contains("schemas")
                                         : nullptr;
        if (schemas && schemas->is_object()) {
          next = schemas->as_object().if_contains(target.substr(kPrefix.size()));
        }
      }
      if (next == nullptr) {
        problems.push_back(where + ": unresolvable $ref " + std::string(target));
        return nullptr;
      }
      current = next;
    }
    problems.push_back(where + ": not a schema");
    return nullptr;
  }

  static bool HasType(const json::value& value, std::string_view type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "integer") return value.is_int64() || value.is_uint64();
    if (type == "number") return value.is_number();
    if (type == "boolean") return value.is_bool();
    return false;
  }

  void CheckInto(const json::value& schema_value, const json::value& value,
                 const std::string& where, std::vector<std::string>& problems, int depth) const {
    if (depth > 32) {
      problems.push_back(where + ": schema nesting too deep");
      return;
    }
    const json::object* schema = Resolve(schema_value, problems, where);
    if (schema == nullptr) return;
    if (const json::value* all = schema->if_contains("allOf"); all && all->is_array()) {
      for (const json::value& part : all->as_array()) {
        CheckInto(part, value, where, problems, depth + 1);
      }
    }
    const json::value* nullable = schema->if_contains("nullable");
    if (value.is_null()) {
      if (schema->contains("type") && !(nullable && nullable->is_bool() && nullable->get_bool())) {
        problems.push_back(where + ": null, but the schema is not nullable");
      }
      return;
    }
    if (const json::value* type = schema->if_contains("type"); type && type->is_string()) {
      if (!HasType(value, type->get_string())) {
        problems.push_back(where + ": not of type " + std::string(type->get_string()) + ": " +
                           json::serialize(value));
        return;
      }
    }
    if (const json::value* options = schema->if_contains("enum"); options && options->is_array()) {
      const json::array& list = options->as_array();
      if (std::find(list.begin(), list.end(), value) == list.end()) {
        problems.push_back(where + ": " + json::serialize(value) + " is not in the enum");
      }
    }
    if (value.is_object()) {
      const json::object& object = value.as_object();
      if (const json::value* required = schema->if_contains("required");
          required && required->is_array()) {
        for (const json::value& name : required->as_array()) {
          if (name.is_string() && !object.contains(name.get_string())) {
            problems.push_back(where + ": missing required property '" +
                               std::string(name.get_string()) + "'");
          }
        }
      }
      if (const json::value* properties = schema->if_contains("properties");
          properties && properties->is_object()) {
        for (const auto& [name, sub] : properties->as_object()) {
          if (const json::value* present = object.if_contains(name)) {
            CheckInto(sub, *present, where + "." + std::string(name), problems, depth + 1);
          }
        }
      }
    }
    if (value.is_array()) {
      if (const json::value* items = schema->if_contains("items")) {
        const json::array& array = value.as_array();
        for (size_t i = 0; i < array.size(); ++i) {
          CheckInto(*items, array[i], where + "[" + std::to_string(i) + "]", problems, depth + 1);
        }
      }
    }
  }

  const json::object& document_;
};

TEST(OpenApiChecker, FindsMissingRequiredPropertiesThroughRefAndAllOf) {
  json::object document = json::parse(R"({
    "components": {"schemas": {
      "Base": {"type": "object", "required": ["id"],
               "properties": {"id": {"type": "string"}, "n": {"type": "integer"},
                              "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                              "note": {"type": "string", "nullable": true}}},
      "Tag": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
      "Secret": {"allOf": [{"$ref": "#/components/schemas/Base"},
                           {"type": "object", "required": ["secret"]}]}}}})")
                              .as_object();
  SchemaChecker checker(document);
  json::value secret = json::parse(R"({"$ref": "#/components/schemas/Secret"})");
  EXPECT_TRUE(checker.Check(secret, json::parse(R"({"id":"a","secret":"s","note":null})")).empty());
  EXPECT_EQ(checker.Check(secret, json::parse(R"({"id":"a"})")).size(), 1u);
  EXPECT_EQ(checker.Check(secret, json::parse(R"({"secret":"s"})")).size(), 1u);
  EXPECT_EQ(checker.Check(secret, json::parse(R"({"id":1,"secret":"s"})")).size(), 1u);
  EXPECT_EQ(checker.Check(secret, json::parse(R"({"id":"a","secret":"s","n":null})")).size(), 1u);
  EXPECT_EQ(checker.Check(secret, json::parse(R"({"id":"a","secret":"s","tags":[{}]})")).size(),
            1u);
  EXPECT_EQ(checker.Check(secret, json::parse("[]")).size(), 2u);  // twice "not an object"
  EXPECT_FALSE(
      checker.Check(json::parse(R"({"$ref": "#/components/schemas/Nope"})"), json::parse("{}"))
          .empty());
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Response r = gw_.Call("GET", "/openapi.json");  // no credentials
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/json");
    EXPECT_EQ(r.body, OpenApiDocument());
    document_ = JsonOf(r);
    ASSERT_TRUE(document_.contains("paths")) << r.body.substr(0, 200);
  }

  // The operation object for `method` (lowercase) on `pattern`, or null.
  const json::object* Operation(std::string_view method, std::string_view pattern) const {
    const json::value* item = document_.at("paths").as_object().if_contains(pattern);
    if (item == nullptr || !item->is_object()) return nullptr;
    const json::value* op = item->as_object().if_contains(method);
    return op && op->is_object() ? &op->as_object() : nullptr;
  }

  // Checks `response` (to `method` `pattern`) against the schema documented for its status.
  void ExpectConforms(std::string_view method, std::string_view pattern, const Response& response) {
    SCOPED_TRACE(std::string(method) + " " + std::string(pattern) + " → " +
                 std::to_string(response.status));
    const json::object* op = Operation(Lower(method), pattern);
    ASSERT_NE(op, nullptr) << "undocumented operation";
    const json::value* schema = nullptr;
    if (const json::value* responses = op->if_contains("responses")) {
      if (const json::value* documented =
              responses->as_object().if_contains(std::to_string(response.status))) {
        boost::system::error_code ec;
        schema = documented->find_pointer("/content/application~1json/schema", ec);
      }
    }
    ASSERT_NE(schema, nullptr) << "status not documented: " << response.body;
    boost::system::error_code ec;
    json::value body = json::parse(response.body, ec);
    ASSERT_FALSE(ec) << response.body;
    for (const std::string& problem : SchemaChecker(document_).Check(*schema, body)) {
      ADD_FAILURE() << problem << "\n  in " << response.body;
    }
    ++checked_;
  }

  AdminGateway gw_;
  json::object document_;
  int checked_ = 0;
};

TEST_F(OpenApiTest, IsAnOpenApi3DocumentServedWithoutCredentials) {
  ASSERT_TRUE(document_["openapi"].is_string());
  EXPECT_TRUE(document_["openapi"].as_string().starts_with("3.")) << document_["openapi"];
  EXPECT_TRUE(document_["info"].is_object());
  EXPECT_TRUE(document_["components"].at("schemas").is_object());
  // The data plane does not serve it.
  EXPECT_EQ(gw_.Call("GET", "/openapi.json", "", gw_.admin_key().secret, gw_.data_port()).status,
            404);
}

TEST_F(OpenApiTest, OperationsAreExactlyTheAdminRoutes) {
  static constexpr std::string_view kHttpMethods[] = {"get",     "put",  "post",  "delete",
                                                      "options", "head", "patch", "trace"};
  std::set<std::pair<std::string, std::string>> documented;
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : document_.at("paths").as_object()) {
    if (path == "/openapi.json") continue;
    for (const auto& [method, op] : item.as_object()) {
      if (std::find(std::begin(kHttpMethods), std::end(kHttpMethods), method) ==
          std::end(kHttpMethods)) {
        continue;  // "parameters", "summary", ...
      }
      documented.insert({std::string(method), std::string(path)});
      std::string id = Str(op.as_object(), "operationId");
      EXPECT_FALSE(id.empty()) << method << " " << path;
      EXPECT_TRUE(operation_ids.insert(id).second) << "duplicate operationId " << id;
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const AdminRouteInfo& route : AdminRoutes()) {
    EXPECT_TRUE(served.insert({Lower(MethodName(route.method)), std::string(route.pattern)}).second)
        << "route twice: " << RouteName(route);
  }
  EXPECT_EQ(documented, served);
  EXPECT_NE(Operation("get", "/openapi.json"), nullptr) << "the document describes itself";
}

TEST_F(OpenApiTest, EachOperationNamesItsPermissionAndPathParameters) {
  for (const AdminRouteInfo& route : AdminRoutes()) {
    SCOPED_TRACE(RouteName(route));
    const json::object* op = Operation(Lower(MethodName(route.method)), route.pattern);
    ASSERT_NE(op, nullptr);
    std::string expected;
    for (std::string_view name : PermissionNames(route.permission)) {
      expected += (expected.empty() ? "" : ",") + std::string(name);
    }
    if (route.permission == 0) expected = "none";
    const json::value* documented = op->if_contains("x-sluice-permission");
    ASSERT_NE(documented, nullptr);
    std::string actual;
    if (documented->is_string()) {
      actual = std::string(documented->get_string());
    } else if (documented->is_array()) {
      for (const json::value& name : documented->as_array()) {
        actual += (actual.empty() ? "" : ",") + std::string(name.as_string());
      }
    }
    EXPECT_EQ(actual, expected);

    // Every {name} of the pattern is a required path parameter (on the operation or path).
    std::set<std::string> declared;
    const json::value& item = document_.at("paths").at(route.pattern);
    for (const json::value* list :
         {item.as_object().if_contains("parameters"), op->if_contains("parameters")}) {
      if (list == nullptr) continue;
      for (const json::value& p : list->as_array()) {
        const json::object& param = p.as_object();
        if (Str(param, "in") == "path" && param.contains("required") &&
            param.at("required") == json::value(true)) {
          declared.insert(Str(param, "name"));
        }
      }
    }
    std::set<std::string> in_pattern;
    for (size_t open = route.pattern.find('{'); open != std::string_view::npos;
         open = route.pattern.find('{', open + 1)) {
      size_t close = route.pattern.find('}', open);
      in_pattern.insert(std::string(route.pattern.substr(open + 1, close - open - 1)));
    }
    EXPECT_EQ(declared, in_pattern);
  }
}

TEST_F(OpenApiTest, LiveResponsesCarryTheDocumentedRequiredProperties) {
  TestKey user_key = gw_.CreateKey({.roles = {"user"}});

  // Successes.
  Response whoami = gw_.Admin("GET", "/admin/whoami");
  ExpectConforms("GET", "/admin/whoami", whoami);
  Response key =
      gw_.Admin("POST", "/admin/keys",
                json::parse(R"({"name":"k","metadata":{"a":1},"limits":{"requests_per_minute":60,)"
                            R"("budgets":[{"usd":2.5,"per":"day"},{"tokens":100}]}})")
                    .as_object());
  ExpectConforms("POST", "/admin/keys", key);
  std::string key_id = Str(JsonOf(key), "id");
  Response got = gw_.Admin("GET", "/admin/keys/" + key_id);
  ASSERT_TRUE(JsonOf(got)["limits"].is_object()) << got.body;
  ExpectConforms("GET", "/admin/keys/{id}", got);
  ExpectConforms("PATCH", "/admin/keys/{id}",
                 gw_.Admin("PATCH", "/admin/keys/" + key_id, R"({"tier":"basic"})"));
  ExpectConforms("POST", "/admin/keys/{id}/rotate",
                 gw_.Admin("POST", "/admin/keys/" + key_id + "/rotate"));
  ExpectConforms("GET", "/admin/keys", gw_.Admin("GET", "/admin/keys?limit=1"));
  Response user = gw_.Admin("POST", "/admin/users",
                            json::object{{"username", "u"}, {"password", "long enough pw"}});
  ExpectConforms("POST", "/admin/users", user);
  std::string user_id = Str(JsonOf(user), "id");
  Response team = gw_.Admin("POST", "/admin/teams", json::object{{"name", "t"}});
  ExpectConforms("POST", "/admin/teams", team);
  std::string team_id = Str(JsonOf(team), "id");
  ExpectConforms("PUT", "/admin/teams/{id}/members/{user_id}",
                 gw_.Admin("PUT", "/admin/teams/" + team_id + "/members/" + user_id));
  ExpectConforms("GET", "/admin/users", gw_.Admin("GET", "/admin/users"));
  ExpectConforms("GET", "/admin/users/{id}", gw_.Admin("GET", "/admin/users/" + user_id));
  ExpectConforms("GET", "/admin/teams", gw_.Admin("GET", "/admin/teams"));
  ExpectConforms("GET", "/admin/roles", gw_.Admin("GET", "/admin/roles"));
  ExpectConforms("POST", "/admin/tokens/revoke",
                 gw_.Admin("POST", "/admin/tokens/revoke", R"({"jti":"j1"})"));
  ExpectConforms("POST", "/admin/keys/{id}/revoke",
                 gw_.Admin("POST", "/admin/keys/" + key_id + "/revoke"));
  ASSERT_EQ(gw_.Call("GET", "/admin/keys", "", user_key.secret).status, 403);  // an audit row
  gw_.FlushAudit();
  Response audit = gw_.Admin("GET", "/admin/audit");
  ASSERT_GE(JsonOf(audit)["data"].as_array().size(), 5u) << audit.body;
  ExpectConforms("GET", "/admin/audit", audit);

  // Errors.
  ExpectConforms("POST", "/admin/keys", gw_.Admin("POST", "/admin/keys", "{}"));  // 400
  ExpectConforms("PATCH", "/admin/keys/{id}",
                 gw_.Admin("PATCH", "/admin/keys/" + key_id, R"({"nope":1})"));           // 400
  ExpectConforms("GET", "/admin/audit", gw_.Admin("GET", "/admin/audit?limit=0"));        // 400
  ExpectConforms("GET", "/admin/keys", gw_.Call("GET", "/admin/keys"));                   // 401
  ExpectConforms("GET", "/admin/keys", gw_.Call("GET", "/admin/keys", "", "sk-sl-bad"));  // 401
  ExpectConforms("POST", "/admin/keys",
                 gw_.Call("POST", "/admin/keys", "{}", user_key.secret));  // 403
  ExpectConforms("GET", "/admin/keys/{id}",
                 gw_.Admin("GET", "/admin/keys/key_000000000000000000000000"));  // 404
  ExpectConforms("POST", "/admin/keys/{id}/rotate",
                 gw_.Admin("POST", "/admin/keys/" + key_id + "/rotate"));  // 409: revoked
  ExpectConforms("POST", "/admin/teams", gw_.Admin("POST", "/admin/teams", R"({"name":"t"})"));
  EXPECT_EQ(checked_, 25);
}

}  // namespace
}  // namespace sluice::testing::admin_test
