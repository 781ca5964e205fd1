// authorize filter implementation.
#include "filters/authorize/authorize_filter.h"

#include "auth/auth_runtime.h"

namespace sluice::filters {
namespace {

// The permission a data-plane route needs (0: none).
uint64_t RequiredPermission(RouteKind route) {
  switch (route) {
    case RouteKind::kChatCompletions:
    case RouteKind::kCompletions:
    case RouteKind::kEmbeddings:
    case RouteKind::kListModels:
    case RouteKind::kRetrieveModel:
      return kPermModelsInvoke;
    case RouteKind::kUsage:
      return kPermUsageRead;
    default:
      return 0;
  }
}

class AuthorizeFilter final : public Filter {
 public:
  explicit AuthorizeFilter(AuthRuntime* auth) : auth_(auth) {}

  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    if (!ctx.principal || auth_ == nullptr) return Verdict::Continue();
    const Principal& principal = *ctx.principal;
    uint64_t needed = RequiredPermission(ctx.route);
    if (needed != 0 && !principal.Can(needed)) {
      Deny(ctx, "permission.denied", "");
      std::string message = "Your credentials do not allow this operation (missing permission ";
      message.append(PermissionNames(needed).front());
      message.append(").");
      return Verdict::Reply(ErrorReply(ErrorClass::kPermissionDenied, message));
    }
    if (ctx.route == RouteKind::kListModels) return Verdict::Reply(ListModels(ctx));
    if (IsModelRoute(ctx.route) || ctx.route == RouteKind::kRetrieveModel) {
      const ModelConfig* model = ctx.Model();
      // With a traffic split, Model() is the arm's model: the caller needs both the model it
      // asked for and the arm's (a split never lends a model the caller may not use).
      const ModelConfig* asked = ctx.split_model != nullptr ? ctx.split_model : model;
      if (asked != nullptr &&
          !auth_->policy().ModelAllowed(principal, *asked, ctx.requested_model)) {
        Deny(ctx, "model.denied", ctx.requested_model);
        std::string message = "You are not allowed to use the model `";
        message.append(ctx.requested_model);
        message.append("`.");
        return Verdict::Reply(ErrorReply(ErrorClass::kModelNotAllowed, message, "model"));
      }
      if (ctx.split_model != nullptr && model != nullptr &&
          !auth_->policy().ModelAllowed(principal, *model, model->name)) {
        Deny(ctx, "model.denied", model->name);
        std::string message = "You are not allowed to use the model `";
        message.append(model->name);
        message.append("`, which serves the experiment arm `");
        message.append(ctx.experiment_arm);
        message.append("` of `");
        message.append(ctx.requested_model);
        message.append("`.");
        return Verdict::Reply(ErrorReply(ErrorClass::kModelNotAllowed, message, "model"));
      }
    }
    return Verdict::Continue();
  }

 private:
  void Deny(const RequestContext& ctx, std::string_view action, std::string_view model) {
    AuditRecord record;
    record.principal = ctx.principal->id;
    record.key_prefix = ctx.principal->key_prefix;
    record.action = std::string(action);
    record.target = model.empty() ? std::string(ctx.request().path) : "model:" + std::string(model);
    record.result = "denied";
    record.client_ip = std::string(ctx.client_ip);
    record.request_id = ctx.request_id;
    auth_->audit().RecordAuthFailure(std::move(record), std::chrono::steady_clock::now());
  }

  LocalReply ListModels(const RequestContext& ctx) {
    return JsonReply(200, ctx.snapshot().ModelsJson([&](const ModelConfig& model) {
      return auth_->policy().ModelAllowed(*ctx.principal, model, model.name);
    }));
  }

  AuthRuntime* auth_;
};

}  // namespace

std::unique_ptr<Filter> AuthorizeFilterFactory::NewFilter() const {
  return std::make_unique<AuthorizeFilter>(services_ != nullptr ? services_->auth : nullptr);
}

}  // namespace sluice::filters
