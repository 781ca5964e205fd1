// auth filter implementation.
#include "filters/auth/auth_filter.h"

#include "auth/auth_reply.h"
#include "auth/auth_runtime.h"

namespace sluice::filters {
namespace {

class AuthFilter final : public Filter {
 public:
  explicit AuthFilter(AuthRuntime& auth) : auth_(auth) {}

  // A public route, or an API key whose state is cached: decided without suspending.
  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    if (IsPublicRoute(ctx.route)) return Verdict::Continue();
    std::string_view credentials = Authenticator::Credentials(ctx.request());
    // One clock read: the wall time follows from the request's start (a request may have
    // waited for its body, so ctx.start itself could be too old for the cache's TTL).
    SteadyTime now = std::chrono::steady_clock::now();
    int64_t unix_now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.WallAt(now).time_since_epoch())
            .count();
    std::optional<AuthResult> cached = auth_.authenticator().TryCached(credentials, now, unix_now);
    if (!cached) return std::nullopt;
    return Decide(ctx, credentials, *cached);
  }

  // Anything else (a key not cached, a JWT, a malformed credential) may need the store.
  boost::asio::awaitable<Verdict> OnRequest(RequestContext& ctx) override {
    std::string_view credentials = Authenticator::Credentials(ctx.request());
    AuthResult result = co_await auth_.authenticator().Authenticate(credentials);
    co_return Decide(ctx, credentials, result);
  }

 private:
  Verdict Decide(RequestContext& ctx, std::string_view credentials, AuthResult& result) {
    if (result.principal) {
      ctx.principal = std::move(result.principal);
      return Verdict::Continue();
    }
    return Verdict::Reply(RejectCredentials(auth_, ctx, credentials, result));
  }

  AuthRuntime& auth_;
};

// Answers 503 when the gateway was started without the auth runtime (cannot happen in a
// server; guards against a misuse of the factory).
class UnavailableFilter final : public Filter {
 public:
  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    (void)ctx;
    return Verdict::Reply(ErrorReply(ErrorClass::kUnavailable, "Authentication is not available."));
  }
};

}  // namespace

bool IsPublicRoute(RouteKind route) {
  switch (route) {
    case RouteKind::kHealthLive:
    case RouteKind::kHealthReady:
    case RouteKind::kHealthStartup:
    case RouteKind::kMetrics:  // on the admin listener (loopback); opt-in on the main one
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
