// Traffic splits between model versions (docs/routing.md, "Traffic splits and
// experiments"): which arm of a split model serves a request. The arm the experiment header
// names wins; otherwise the principal's sticky arm (its key hashed into the weight space,
// so the same principal always lands in the same arm); otherwise a weighted random one.
// Used by routing/model_resolver when a request names a split model, before the filters
// that check access and charge money see the model. Pure functions over the immutable
// SplitConfig; they allocate nothing (except the 400 reply); thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/snapshot.h"
#include "core/local_reply.h"
#include "core/random.h"
#include "core/request_context.h"

namespace sluice::routing {

// Sent upstream and echoed to the client: "<split model>=<arm>".
inline constexpr std::string_view kExperimentHeader = "x-sluice-experiment";

struct ArmChoice {
  const SplitArm* arm = nullptr;  // null: the header named no arm of the split
  std::string_view header_value;  // what the experiment header said ("" if absent)
};

// The arm that owns `point` of the weight space. REQUIRES: split.active(),
// point < split.total_weight.
const SplitArm& ArmAt(const SplitConfig& split, uint64_t point);

// A point of the weight space for a 64-bit draw (a hash or a random number): its upper 32
// bits scaled to [0, total_weight), so each arm owns a contiguous share in proportion to its
// weight, and raising the last arm's weight only moves principals into it.
uint64_t WeightPoint(const SplitConfig& split, uint64_t draw);

// The arm called `name`, or nullptr.
const SplitArm* FindArm(const SplitConfig& split, std::string_view name);

// The key sticky assignment hashes for this request, "" for weighted random: the API key
// (user: the user) of the principal, or the client address when there is no principal.
std::string_view StickyKey(SplitSticky sticky, const RequestContext& ctx);

// StableHash64 of `key` salted with the split model's name, so that two experiments do not
// put the same principals in their first arms.
uint64_t StickyHash(std::string_view split_model, std::string_view key);

// The arm that serves `ctx`. REQUIRES: model.split.active().
ArmChoice ChooseArm(const ModelConfig& model, const RequestContext& ctx, Xoshiro256& random);

// 400 invalid_request_error for an experiment header naming no arm of `model`, listing the
// allowed arms.
LocalReply UnknownArmReply(const ModelConfig& model, std::string_view header_value);

}  // namespace sluice::routing
