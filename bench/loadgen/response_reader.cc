// ResponseReader: head → framing → (SSE) events, incrementally.
#include "bench/loadgen/response_reader.h"

#include <algorithm>

namespace sluice::loadgen {
namespace {
constexpr std::string_view kTooLarge = "SSE event too large";
}  // namespace

void ResponseReader::Reset() {
  phase_ = Phase::kHead;
  head_.clear();
  scanner_.Reset();
  chunked_.Reset();
  events_.Reset();
  remaining_ = 0;
  status_ = 0;
  keep_alive_ = true;
  trace_ = StreamTrace{};
  error_ = {};
}

ResponseReader::Status ResponseReader::Fail(std::string_view why) {
  error_ = why;
  return Status::kError;
}

ResponseReader::Status ResponseReader::Feed(std::string_view bytes, int64_t now,
                                            EventObserver* observer) {
  if (phase_ == Phase::kDone) return bytes.empty() ? Status::kDone : Fail("unexpected bytes");
  if (phase_ != Phase::kHead) return FeedBody(bytes, now, observer);

  head_.append(bytes);
  static const HeadLimits kLimits;
  size_t head_size = 0;
  ParseError error;
  ParseStatus scan = scanner_.Scan(head_, kLimits, /*is_request=*/false, head_size, error);
  if (scan == ParseStatus::kIncomplete) return Status::kIncomplete;
  if (scan == ParseStatus::kError) return Fail(error.message);
  parsed_.Reset();
  if (!ParseResponseHead(std::string_view(head_).substr(0, head_size), kLimits, parsed_, error)) {
    return Fail(error.message);
  }
  status_ = parsed_.status;
  keep_alive_ = parsed_.keep_alive;
  if (status_ < 200) return Fail("interim response");  // the generator never sends Expect
  if (parsed_.BodyForbidden(false)) {
    phase_ = Phase::kLength;
    remaining_ = 0;
  } else if (parsed_.chunked) {
    phase_ = Phase::kChunked;
  } else if (parsed_.has_content_length) {
    phase_ = Phase::kLength;
    remaining_ = parsed_.content_length;
  } else {
    phase_ = Phase::kUntilClose;
    keep_alive_ = false;
  }
  // The body's first bytes live in head_; move them out before head_ is reused.
  std::string rest = head_.substr(head_size);
  head_.clear();
  return FeedBody(rest, now, observer);
}

ResponseReader::Status ResponseReader::FeedBody(std::string_view body, int64_t now,
                                                EventObserver* observer) {
  switch (phase_) {
    case Phase::kLength: {
      uint64_t take = std::min<uint64_t>(remaining_, body.size());
      if (sse_ && !TakeEvents(body.substr(0, take), now, observer)) return Fail(kTooLarge);
      remaining_ -= take;
      if (take < body.size()) return Fail("bytes after the response");
      if (remaining_ > 0) return Status::kIncomplete;
      phase_ = Phase::kDone;
      return Status::kDone;
    }
    case Phase::kChunked: {
      decoded_.clear();
      size_t consumed = 0;
      ParseError error;
      ParseStatus status = chunked_.Decode(body, decoded_, consumed, error);
      if (status == ParseStatus::kError) return Fail(error.message);
      if (sse_ && !decoded_.empty() && !TakeEvents(decoded_, now, observer)) {
        return Fail(kTooLarge);
      }
      if (status == ParseStatus::kIncomplete) return Status::kIncomplete;
      if (consumed < body.size()) return Fail("bytes after the response");
      phase_ = Phase::kDone;
      return Status::kDone;
    }
    case Phase::kUntilClose:
      if (sse_ && !TakeEvents(body, now, observer)) return Fail(kTooLarge);
      return Status::kIncomplete;
    case Phase::kHead:
    case Phase::kDone:
      break;
  }
  return Fail("reader misuse");
}

ResponseReader::Status ResponseReader::FeedEof(int64_t now, EventObserver* observer) {
  (void)now;
  (void)observer;
  if (phase_ == Phase::kUntilClose) {
    phase_ = Phase::kDone;
    return Status::kDone;
  }
  return Fail("connection closed before the response was complete");
}

bool ResponseReader::TakeEvents(std::string_view decoded, int64_t now, EventObserver* observer) {
  events_.Feed(decoded);
  SseEvent event;
  while (true) {
    SseParser::Result result = events_.Next(event);
    if (result == SseParser::Result::kNeedMore) return true;
    if (result == SseParser::Result::kTooLarge) return false;
    if (!event.has_data) continue;
    if (trace_.saw_done) trace_.data_after_done = true;
    if (event.data == "[DONE]") trace_.saw_done = true;
    int64_t previous = trace_.last_event;
    if (trace_.first_event == 0) trace_.first_event = now;
    trace_.last_event = now;
    ++trace_.events;
    if (observer != nullptr) observer->OnEvent(now, previous);
  }
}

}  // namespace sluice::loadgen
