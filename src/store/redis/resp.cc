// AppendCommand and RespReader: RESP encoding, and hiredis's reader with object functions
// that build RedisReply trees directly (no hiredis redisReply objects to convert and free).
#include "store/redis/resp.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <charconv>

namespace sluice::redis {
namespace {

void AppendHeader(std::string& out, char type, size_t n) {
  char buf[24];
  buf[0] = type;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  (void)ec;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, static_cast<size_t>(end - buf));
}

// The reader builds a tree: a top-level reply is allocated; an element of an array is the
// parent's pre-sized `elements[idx]`, so only the root is ever freed (which is also how
// hiredis frees: freeObject is called on roots only).
RedisReply* Place(const redisReadTask* task, RedisReplyKind kind) {
  RedisReply* r = nullptr;
  if (task->parent != nullptr) {
    auto* parent = static_cast<RedisReply*>(task->parent->obj);
    r = &parent->elements[static_cast<size_t>(task->idx)];
  } else {
    r = new RedisReply();
  }
  r->kind = kind;
  return r;
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  RedisReplyKind kind = task->type == REDIS_REPLY_ERROR    ? RedisReplyKind::kError
                        : task->type == REDIS_REPLY_STATUS ? RedisReplyKind::kStatus
                                                           : RedisReplyKind::kString;
  RedisReply* r = Place(task, kind);
  r->str.assign(str, len);
  return r;
}

#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
void* CreateArray(const redisReadTask* task, size_t elements) {
#else
void* CreateArray(const redisReadTask* task, int elements) {
#endif
  RedisReply* r = Place(task, RedisReplyKind::kArray);
  r->elements.resize(static_cast<size_t>(elements));
  return r;
}

void* CreateInteger(const redisReadTask* task, long long value) {
  RedisReply* r = Place(task, RedisReplyKind::kInteger);
  r->integer = value;
  return r;
}

void* CreateNil(const redisReadTask* task) { return Place(task, RedisReplyKind::kNil); }

#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
void* CreateDouble(const redisReadTask* task, double value, char* str, size_t len) {
  (void)value;
  RedisReply* r = Place(task, RedisReplyKind::kString);  // RESP3 only; not used by Sluice
  r->str.assign(str, len);
  return r;
}
void* CreateBool(const redisReadTask* task, int value) {
  RedisReply* r = Place(task, RedisReplyKind::kInteger);  // RESP3 only; not used by Sluice
  r->integer = value;
  return r;
}
#endif

void FreeObject(void* obj) { delete static_cast<RedisReply*>(obj); }

redisReplyObjectFunctions kFunctions = {
  CreateString,
  CreateArray,
  CreateInteger,
#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
  CreateDouble,
  CreateNil,
  CreateBool,
  FreeObject,
#else
  CreateNil,
  FreeObject,
#endif
};

}  // namespace

void AppendCommand(std::string& out, std::span<const RedisArg> args) {
  AppendHeader(out, '*', args.size());
  for (const RedisArg& arg : args) {
    if (arg.is_number()) {
      char digits[24];
      auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), arg.number());
      (void)ec;
      size_t len = static_cast<size_t>(end - digits);
      AppendHeader(out, '$', len);
      out.append(digits, len);
    } else {
      AppendHeader(out, '$', arg.text().size());
      out.append(arg.text());
    }
    out.append("\r\n", 2);
  }
}

const char* RedisFailureName(RedisFailure failure) {
  switch (failure) {
    case RedisFailure::kNone:
      return "none";
    case RedisFailure::kTimeout:
      return "timeout";
    case RedisFailure::kNotConnected:
      return "not connected";
    case RedisFailure::kDisconnected:
      return "disconnected";
    case RedisFailure::kOverloaded:
      return "overloaded";
    case RedisFailure::kClosed:
      return "closed";
  }
  return "unknown";
}

RespReader::RespReader() { Reset(); }

RespReader::~RespReader() {
  if (reader_ != nullptr) redisReaderFree(reader_);
}

void RespReader::Reset() {
  if (reader_ != nullptr) redisReaderFree(reader_);
  reader_ = redisReaderCreateWithFunctions(&kFunctions);
}

bool RespReader::Feed(std::string_view bytes) {
  return reader_ != nullptr && redisReaderFeed(reader_, bytes.data(), bytes.size()) == REDIS_OK;
}

RespReader::Status RespReader::Next(RedisReply& reply) {
  if (reader_ == nullptr) return Status::kProtocolError;
  void* obj = nullptr;
  if (redisReaderGetReply(reader_, &obj) != REDIS_OK) return Status::kProtocolError;
  if (obj == nullptr) return Status::kNeedMore;
  std::unique_ptr<RedisReply> owned(static_cast<RedisReply*>(obj));
  reply = std::move(*owned);
  return Status::kReply;
}

std::string_view RespReader::error() const {
  return reader_ != nullptr ? std::string_view(reader_->errstr) : "no reader";
}

}  // namespace sluice::redis
