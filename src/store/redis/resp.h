// RESP (the Redis protocol) on the client side: AppendCommand encodes a command as a RESP
// array of bulk strings into a caller's buffer; RespReader parses replies with hiredis's
// redisReader (the only part of hiredis Sluice uses) straight into RedisReply values.
// Used by redis_client. Not thread-safe: one reader per connection.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "store/redis/redis_reply.h"

struct redisReader;

namespace sluice::redis {

// Appends `*N\r\n$len\r\narg\r\n...` to `out`. Integers are formatted in place (no
// temporary strings), so the only memory touched is `out`'s (reused) capacity.
void AppendCommand(std::string& out, std::span<const RedisArg> args);

class RespReader {
 public:
  RespReader();
  ~RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  enum class Status { kReply, kNeedMore, kProtocolError };

  // Hands received bytes to the parser (copied into its buffer).
  bool Feed(std::string_view bytes);
  // Takes the next complete reply, if any. A reply costs one allocation for its root and
  // one per array (the element vector) and string longer than the SSO buffer: a limiter
  // decision's reply (an array of integers) costs two, next to a network round trip.
  Status Next(RedisReply& reply);
  // A fresh parser (after a reconnect: leftovers of the old connection are dropped).
  void Reset();
  std::string_view error() const;

 private:
  redisReader* reader_ = nullptr;
};

}  // namespace sluice::redis
