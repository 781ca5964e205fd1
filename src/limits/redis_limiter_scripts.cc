// The Lua source of the Redis limiter scripts (see redis_limiter_scripts.h). Redis runs
// Lua 5.1: numbers are doubles, exact for integers below 2^53 (Unix µs are ~2^51), and floor
// divisions are corrected to be exact. Numbers go into redis.call as Lua numbers: Redis 7
// formats them with %.17g, every digit of such an integer (tostring's %.14g would lose some,
// and string.format per value cost ~0.4 µs). What a call costs inside Redis (measured, 7.0):
// ~2.4 µs the EVALSHA itself, ~0.2 µs each tonumber() of a string argument (hence one
// struct.unpack of all numbers), ~1 µs each SET.
#include "limits/redis_limiter_scripts.h"

#include <string>

namespace sluice::limits {

namespace {

// Shared by both scripts: argument access, exact floor division, GCRA parameters
// (T = ceil(period / limit) >= 1, tau = T * burst, burst >= 1: gcra.h).
constexpr std::string_view kCommon = R"lua(
local A = {struct.unpack(ARGV[1], ARGV[2])}
local now = A[1]
local lease_ms = A[2]
local slack_ms = A[3]
local function arg(i, field) return A[3 + (i - 1) * 6 + field] end
local function floordiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local function gcra(i)
  local limit, period, burst = arg(i, 2), arg(i, 3), arg(i, 4)
  if limit < 1 then limit = 1 end
  if period < 1 then period = 1 end
  if burst < 1 then burst = 1 end
  local t = floordiv(period, limit)
  if t * limit < period then t = t + 1 end
  if t < 1 then t = 1 end
  return t, t * burst, burst
end
local function ceil_ms(us) return math.max(1, floordiv(us + 999, 1000)) end
-- Writes a counter with its expiry: rate until its TAT passes, concurrency for the lease,
-- budget until the window ends plus slack. A counter back at its idle value is deleted.
local function store(i, key, v)
  local kind = arg(i, 1)
  if kind == 0 then
    if v > now then
      redis.call('SET', key, v, 'PX', ceil_ms(v - now))
    else
      redis.call('DEL', key)
    end
  elseif kind == 1 then
    if v > 0 then
      redis.call('SET', key, v, 'PX', lease_ms)
    else
      redis.call('DEL', key)
    end
  else
    local window_end = arg(i, 5)
    if window_end > now then
      redis.call('SET', key, v, 'PX', ceil_ms(window_end - now) + slack_ms)
    end
  end
end
-- The counter's value, and whether it exists.
local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return 0, false end
  return tonumber(raw) or 0, true
end
)lua";

constexpr std::string_view kDecideBody = R"lua(
-- What charging `amount` to check i, holding `v`, gives:
-- allowed, new value, retry_after_us (-1: never), remaining, reset_us.
local function evaluate(i, v, amount)
  local kind, limit = arg(i, 1), arg(i, 2)
  if kind == 0 then
    local t, tau, burst = gcra(i)
    local cur = math.max(v, now) - now
    if amount > burst then
      return false, v, -1, floordiv(math.max(0, tau - cur), t), cur
    end
    local new_tat = math.max(v, now) + amount * t
    local ahead = new_tat - now
    if ahead <= tau then return true, new_tat, 0, floordiv(tau - ahead, t), ahead end
    return false, v, new_tat - tau - now, floordiv(math.max(0, tau - cur), t), cur
  end
  if limit < 0 then limit = 0 end
  local reset = 0
  if kind == 2 then reset = math.max(0, arg(i, 5) - now) end
  local allowed = amount <= limit and v <= limit - amount
  local new_value = v
  local retry = 0
  if allowed then
    new_value = v + amount
  elseif amount > limit then
    retry = -1
  else
    retry = reset
  end
  return allowed, new_value, retry, math.max(0, limit - new_value), reset
end

local n = #KEYS
local original, value, last = {}, {}, {}
local out = {1, -1, 0}
for i = 1, n do
  local key = KEYS[i]
  if original[key] == nil then
    original[key] = load(key)
    value[key] = original[key]
  end
end
for i = 1, n do
  local key = KEYS[i]
  local amount = math.max(0, arg(i, 6))
  local ok, new_value, retry, remaining, reset = evaluate(i, value[key], amount)
  if not ok then
    -- All or nothing: nothing is written; every counter reports its state as stored.
    out = {0, i - 1, retry}
    for j = 1, n do
      local _, _, _, r, s = evaluate(j, original[KEYS[j]], 0)
      out[2 + 2 * j] = r
      out[3 + 2 * j] = s
    end
    return out
  end
  value[key] = new_value
  if amount > 0 then last[key] = i end
  out[2 + 2 * i] = remaining
  out[3 + 2 * i] = reset
end
for key, i in pairs(last) do store(i, key, value[key]) end
return out
)lua";

constexpr std::string_view kAdjustBody = R"lua(
-- Deltas: negative refunds or releases, positive extra charges (no limit check).
for i = 1, #KEYS do
  local key = KEYS[i]
  local delta = arg(i, 6)
  local kind = arg(i, 1)
  local v, exists = load(key)
  if delta ~= 0 and (exists or delta > 0) then
    local new_value = v
    if kind == 0 then
      local t = gcra(i)
      if delta > 0 then
        new_value = math.max(v, now) + delta * t
      elseif v > now then
        new_value = math.max(v + delta * t, now)
      end
    else
      new_value = math.max(0, v + delta)
    end
    store(i, key, new_value)
  end
end
return #KEYS
)lua";

}  // namespace

std::string_view DecideScript() {
  static const std::string script = std::string(kCommon) + std::string(kDecideBody);
  return script;
}

std::string_view AdjustScript() {
  static const std::string script = std::string(kCommon) + std::string(kAdjustBody);
  return script;
}

}  // namespace sluice::limits
