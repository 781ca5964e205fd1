// The values exchanged with Redis: RedisArg (one argument of a command, a string or an
// integer, borrowed, encoded straight into the write buffer) and RedisReply (one parsed RESP
// reply, an owning tree). Used by store/redis/redis_client and the Redis limiter store.
// Plain values; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::redis {

// One command argument. Borrows its text: the referenced characters must outlive the call
// that encodes the command.
class RedisArg {
 public:
  RedisArg() = default;
  RedisArg(std::string_view text) : text_(text) {}                 // NOLINT: implicit on purpose
  RedisArg(const char* text) : text_(text) {}                      // NOLINT
  RedisArg(const std::string& text) : text_(text) {}               // NOLINT
  RedisArg(int64_t number) : number_(number), is_number_(true) {}  // NOLINT
  RedisArg(int number) : number_(number), is_number_(true) {}      // NOLINT

  bool is_number() const { return is_number_; }
  std::string_view text() const { return text_; }
  int64_t number() const { return number_; }

 private:
  std::string_view text_;
  int64_t number_ = 0;
  bool is_number_ = false;
};

enum class RedisReplyKind : uint8_t {
  kNil,
  kInteger,
  kString,  // bulk string
  kStatus,  // simple string (+OK)
  kError,   // an error reply from the server (-ERR ..., -NOSCRIPT ...)
  kArray,
  kNoReply,  // the client got no reply: see `failure`
};

// Why a command got no reply.
enum class RedisFailure : uint8_t {
  kNone,
  kTimeout,       // no reply within the command's timeout (the server may still run it)
  kNotConnected,  // the client was not connected (or is reconnecting)
  kDisconnected,  // the connection broke while the command was in flight
  kOverloaded,    // too many commands in flight on the connection
  kClosed,        // the client was closed
};

const char* RedisFailureName(RedisFailure failure);

struct RedisReply {
  RedisReplyKind kind = RedisReplyKind::kNil;
  RedisFailure failure = RedisFailure::kNone;
  int64_t integer = 0;
  std::string str;                   // kString, kStatus, kError (the message)
  std::vector<RedisReply> elements;  // kArray

  static RedisReply NoReply(RedisFailure why) {
    RedisReply r;
    r.kind = RedisReplyKind::kNoReply;
    r.failure = why;
    return r;
  }
  bool ok() const { return kind != RedisReplyKind::kError && kind != RedisReplyKind::kNoReply; }
  bool is_error() const { return kind == RedisReplyKind::kError; }
  bool is_no_reply() const { return kind == RedisReplyKind::kNoReply; }
  // True for an error reply whose code (first word) is `code`, e.g. "NOSCRIPT".
  bool IsErrorCode(std::string_view code) const {
    return kind == RedisReplyKind::kError && str.size() >= code.size() &&
           std::string_view(str).substr(0, code.size()) == code &&
           (str.size() == code.size() || str[code.size()] == ' ');
  }
};

}  // namespace sluice::redis
