// Tests of the error table and the OpenAI-shaped error bodies built from it.
#include "core/errors.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>

#include "core/local_reply.h"

namespace sluice {
namespace {

// The documented status of every class (errors.h). The table is the spec.
struct ErrorRow {
  ErrorClass error;
  int status;
  const char* type;
};

constexpr ErrorRow kErrorTable[] = {
    {ErrorClass::kBadFraming, 400, "invalid_request_error"},
    {ErrorClass::kHeaderTooLarge, 431, "invalid_request_error"},
    {ErrorClass::kUriTooLong, 414, "invalid_request_error"},
    {ErrorClass::kBodyTooLarge, 413, "invalid_request_error"},
    {ErrorClass::kUnsupportedVersion, 505, "invalid_request_error"},
    {ErrorClass::kNotImplemented, 501, "invalid_request_error"},
    {ErrorClass::kLengthRequired, 411, "invalid_request_error"},
    {ErrorClass::kClientTimeout, 408, "invalid_request_error"},
    {ErrorClass::kRouteNotFound, 404, "invalid_request_error"},
    {ErrorClass::kMethodNotAllowed, 405, "invalid_request_error"},
    {ErrorClass::kInvalidJson, 400, "invalid_request_error"},
    {ErrorClass::kInvalidRequest, 400, "invalid_request_error"},
    {ErrorClass::kModelNotFound, 404, "invalid_request_error"},
    {ErrorClass::kClientClosed, 499, "invalid_request_error"},
    {ErrorClass::kAuthMissing, 401, "authentication_error"},
    {ErrorClass::kAuthInvalid, 401, "authentication_error"},
    {ErrorClass::kAuthExpired, 401, "authentication_error"},
    {ErrorClass::kAuthRevoked, 401, "authentication_error"},
    {ErrorClass::kAccountDisabled, 401, "authentication_error"},
    {ErrorClass::kPermissionDenied, 403, "permission_error"},
    {ErrorClass::kModelNotAllowed, 403, "permission_error"},
    {ErrorClass::kConflict, 409, "invalid_request_error"},
    {ErrorClass::kResourceNotFound, 404, "invalid_request_error"},
    {ErrorClass::kRateLimited, 429, "requests"},
    {ErrorClass::kQuotaExceeded, 429, "insufficient_quota"},
    {ErrorClass::kBudgetExceeded, 429, "insufficient_quota"},
    {ErrorClass::kRepeatOffender, 429, "requests"},
    {ErrorClass::kUpstreamUnreachable, 502, "server_error"},
    {ErrorClass::kUpstreamTimeout, 504, "server_error"},
    {ErrorClass::kUpstreamReset, 502, "server_error"},
    {ErrorClass::kUpstreamBadResponse, 502, "server_error"},
    {ErrorClass::kUpstreamAuth, 502, "server_error"},
    {ErrorClass::kUpstreamError, 502, "server_error"},
    {ErrorClass::kStreamTruncated, 502, "server_error"},
    {ErrorClass::kUnavailable, 503, "server_error"},
    {ErrorClass::kInternal, 500, "server_error"},
};

TEST(Errors, TableCoversEveryClassWithItsDocumentedStatus) {
  ASSERT_EQ(std::size(kErrorTable), static_cast<size_t>(ErrorClass::kInternal));
  std::set<std::string_view> names;
  for (size_t i = 0; i < std::size(kErrorTable); ++i) {
    const ErrorRow& row = kErrorTable[i];
    ASSERT_EQ(static_cast<size_t>(row.error), i + 1) << "table out of enum order";
    const ErrorInfo& info = Describe(row.error);
    SCOPED_TRACE(info.name);
    EXPECT_EQ(info.status, row.status);
    EXPECT_EQ(info.type, row.type);
    EXPECT_FALSE(info.name.empty());
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate name";
    // Names are stable identifiers for logs and metrics: lowercase snake_case.
    for (char c : info.name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << info.name;
  }
  EXPECT_EQ(Describe(ErrorClass::kNone).status, 200);
  EXPECT_TRUE(Describe(ErrorClass::kNone).name.empty());
}

TEST(Errors, ModelNotFoundUsesOpenAiCode) {
  EXPECT_EQ(Describe(ErrorClass::kModelNotFound).code, "model_not_found");
  EXPECT_EQ(Describe(ErrorClass::kInvalidRequest).code, "");
  EXPECT_EQ(Describe(ErrorClass::kRouteNotFound).code, "");
}

// A JSON string's text, or a marker that fails comparisons.
std::string Str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string())
                       : "<not a string: " + boost::json::serialize(v) + ">";
}

boost::json::object ParseObject(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.get_object() : boost::json::object();
}

TEST(ErrorReply, BodyIsOpenAiShapedForEveryClass) {
  for (const ErrorRow& row : kErrorTable) {
    const ErrorInfo& info = Describe(row.error);
    SCOPED_TRACE(info.name);
    LocalReply reply = ErrorReply(row.error, "Something \"bad\"\nhappened.");
    EXPECT_EQ(reply.status, row.status);
    EXPECT_EQ(reply.error, row.error);
    EXPECT_EQ(reply.content_type, "application/json");
    boost::json::object body = ParseObject(reply.body);
    ASSERT_EQ(body.size(), 1u);
    ASSERT_TRUE(body.contains("error"));
    const boost::json::object& error = body.at("error").as_object();
    EXPECT_EQ(error.size(), 4u);
    EXPECT_EQ(Str(error.at("message")), "Something \"bad\"\nhappened.");
    EXPECT_EQ(Str(error.at("type")), row.type);
    EXPECT_TRUE(error.at("param").is_null());
    if (info.code.empty()) {
      EXPECT_TRUE(error.at("code").is_null());
    } else {
      EXPECT_EQ(Str(error.at("code")), info.code);
    }
  }
}

TEST(ErrorReply, ParamAndStatusOverride) {
  LocalReply reply = ErrorReply(ErrorClass::kInvalidRequest, "bad model", "model");
  boost::json::object error = ParseObject(reply.body).at("error").as_object();
  EXPECT_EQ(Str(error.at("param")), "model");
  EXPECT_TRUE(error.at("code").is_null());
  EXPECT_EQ(reply.status, 400);
  LocalReply limited = ErrorReply(ErrorClass::kInvalidRequest, "slow down", {}, 429);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.error, ErrorClass::kInvalidRequest);
}

TEST(ErrorReply, AppendOpenAiErrorExactText) {
  std::string out = "data: ";
  AppendOpenAiError(out, "m", "server_error", "", "upstream_timeout");
  EXPECT_EQ(out,
            "data: {\"error\":{\"message\":\"m\",\"type\":\"server_error\",\"param\":null,"
            "\"code\":\"upstream_timeout\"}}");
}

TEST(LocalReply, JsonReplyKeepsBody) {
  LocalReply reply = JsonReply(200, "{\"status\":\"ok\"}");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "{\"status\":\"ok\"}");
  EXPECT_EQ(reply.error, ErrorClass::kNone);
  EXPECT_EQ(reply.content_type, "application/json");
}

TEST(LocalReply, ReasonPhrases) {
  const struct {
    int status;
    const char* phrase;
  } kCases[] = {
      {200, "OK"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {413, "Content Too Large"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {502, "Bad Gateway"},
      {504, "Gateway Timeout"},
      {102, "Informational"},
      {250, "Success"},
      {302, "Redirection"},
      {451, "Client Error"},
      {599, "Server Error"},
  };
  for (const auto& c : kCases) EXPECT_EQ(ReasonPhrase(c.status), c.phrase) << c.status;
  // Every status the error table uses has a specific phrase.
  for (const ErrorRow& row : kErrorTable) {
    std::string_view phrase = ReasonPhrase(row.status);
    EXPECT_NE(phrase, "Client Error") << row.status;
    EXPECT_NE(phrase, "Server Error") << row.status;
  }
}

}  // namespace
}  // namespace sluice
