// auth filter implementation.
#include "filters/auth/auth_filter.h"

#include "auth/auth_reply.h"
#include "auth/auth_runtime.h"

namespace sluice::filters {
namespace {

class AuthFilter final : public Filter {
 public:
  explicit AuthFilter(AuthRuntime& auth) : auth_(auth) {}

  boost::asio::awaitable<Verdict> OnRequest(RequestContext& ctx) override {
    if (IsPublicRoute(ctx.route)) co_return Verdict::Continue();
    std::string_view credentials = Authenticator::Credentials(ctx.request());
    Authenticator& authenticator = auth_.authenticator();
    std::optional<AuthResult> cached = authenticator.TryCached(credentials);
    AuthResult result;
    if (cached) {
      result = std::move(*cached);
    } else {
      result = co_await authenticator.Authenticate(credentials);
    }
    if (result.principal) {
      ctx.principal = std::move(result.principal);
      co_return Verdict::Continue();
    }
    LocalReply reply = RejectCredentials(auth_, ctx, credentials, result);
    co_return Verdict::Reply(std::move(reply));
  }

 private:
  AuthRuntime& auth_;
};

// Answers 503 when the gateway was started without the auth runtime (cannot happen in a
// server; guards against a misuse of the factory).
class UnavailableFilter final : public Filter {
 public:
  boost::asio::awaitable<Verdict> OnRequest(RequestContext& ctx) override {
    (void)ctx;
    co_return Verdict::Reply(
        ErrorReply(ErrorClass::kUnavailable, "Authentication is not available."));
  }
};

}  // namespace

bool IsPublicRoute(RouteKind route) {
  switch (route) {
    case RouteKind::kHealthLive:
    case RouteKind::kHealthReady:
    case RouteKind::kAuthLogin:
    case RouteKind::kAuthRefresh:
    case RouteKind::kAuthLogout:
    case RouteKind::kAuthRegister:
    case RouteKind::kOpenApi:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<Filter> AuthFilterFactory::NewFilter() const {
  if (services_ == nullptr || services_->auth == nullptr) {
    return std::make_unique<UnavailableFilter>();
  }
  return std::make_unique<AuthFilter>(*services_->auth);
}

}  // namespace sluice::filters
