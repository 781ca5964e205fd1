// Arm choice of traffic splits: header, sticky hash, weighted random.
#include "routing/traffic_split.h"

#include "routing/stable_hash.h"

namespace sluice::routing {

const SplitArm& ArmAt(const SplitConfig& split, uint64_t point) {
  // Splits have a handful of arms (at most 32): a linear scan beats a binary search.
  for (const SplitArm& arm : split.arms) {
    if (point < arm.weight_end) return arm;
  }
  return split.arms.back();
}

uint64_t WeightPoint(const SplitConfig& split, uint64_t draw) {
  // total_weight < 2^32 (32 arms of at most 1e6), so the product fits in 64 bits.
  return ((draw >> 32) * split.total_weight) >> 32;
}

const SplitArm* FindArm(const SplitConfig& split, std::string_view name) {
  for (const SplitArm& arm : split.arms) {
    if (arm.name == name) return &arm;
  }
  return nullptr;
}

std::string_view StickyKey(SplitSticky sticky, const RequestContext& ctx) {
  const Principal* who = ctx.principal.get();
  // Anonymous callers share one principal id: they are told apart by their address.
  if (who != nullptr && who->kind == Principal::Kind::kAnonymous) who = nullptr;
  std::string_view key;
  switch (sticky) {
    case SplitSticky::kNone:
      return {};
    case SplitSticky::kUser:
      if (who != nullptr) key = who->user_id.empty() ? who->id : who->user_id;
      break;
    case SplitSticky::kAuto:
    case SplitSticky::kApiKey:
      if (who != nullptr) key = who->key_id.empty() ? who->id : who->key_id;
      break;
    case SplitSticky::kClientIp:
      break;
  }
  return key.empty() ? ctx.client_ip : key;
}

uint64_t StickyHash(std::string_view split_model, std::string_view key) {
  // Hashing the model name costs a few nanoseconds per request; keeping the salt in the
  // config would need config/ to depend on routing/.
  return StableHash64(key, StableHash64(split_model));
}

ArmChoice ChooseArm(const ModelConfig& model, const RequestContext& ctx, Xoshiro256& random) {
  const SplitConfig& split = model.split;
  ArmChoice choice;
  if (!split.header.empty()) {
    choice.header_value = ctx.request().headers.Get(split.header);
    if (!choice.header_value.empty()) {
      choice.arm = FindArm(split, choice.header_value);
      return choice;
    }
  }
  std::string_view key = StickyKey(split.sticky, ctx);
  uint64_t draw = key.empty() ? random.Next() : StickyHash(model.name, key);
  choice.arm = &ArmAt(split, WeightPoint(split, draw));
  return choice;
}

LocalReply UnknownArmReply(const ModelConfig& model, std::string_view header_value) {
  constexpr size_t kMaxEcho = 64;  // the value is the caller's own; keep the echo short
  std::string message = "Unknown experiment arm '";
  message.append(header_value.substr(0, kMaxEcho));
  if (header_value.size() > kMaxEcho) message.append("...");
  message.append("' in header ");
  message.append(model.split.header);
  message.append(" for model '");
  message.append(model.name);
  message.append("'. Allowed arms: ");
  for (size_t i = 0; i < model.split.arms.size(); ++i) {
    if (i > 0) message.append(", ");
    message.append(model.split.arms[i].name);
  }
  message.append(".");
  return ErrorReply(ErrorClass::kInvalidRequest, message);
}

}  // namespace sluice::routing
