// The token estimate of token_estimator.h: a walk over the parsed body, no allocation.
#include "limits/token_estimator.h"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

namespace sluice::limits {
namespace {

namespace json = boost::json;

int64_t DecimalDigits(uint64_t v) {
  int64_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

std::string_view StringField(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}

// A non-negative integer, or -1 when absent (null) or not a non-negative integer.
int64_t CountValue(const json::value* v) {
  if (v == nullptr) return -1;
  if (v->is_int64()) return v->get_int64() >= 0 ? v->get_int64() : -1;
  if (v->is_uint64())
    return v->get_uint64() <= INT64_MAX ? static_cast<int64_t>(v->get_uint64()) : -1;
  return -1;
}

int64_t ContentTokens(const json::value& content) {
  if (content.is_string()) return TextTokens(content.get_string());
  if (content.is_null()) return 0;
  if (!content.is_array()) return JsonTokens(content);
  int64_t tokens = 0;
  for (const json::value& part : content.get_array()) {
    if (part.is_string()) {
      tokens += TextTokens(part.get_string());
      continue;
    }
    if (!part.is_object()) {
      tokens += JsonTokens(part);
      continue;
    }
    const json::object& p = part.get_object();
    const std::string_view type = StringField(p, "type");
    if (type == "text") {
      tokens += TextTokens(StringField(p, "text"));
    } else if (type == "image_url") {
      const json::value* image = p.if_contains("image_url");
      const bool low = image != nullptr && image->is_object() &&
                       StringField(image->get_object(), "detail") == "low";
      tokens += low ? kLowDetailImageTokens : kImageTokens;
    } else {
      tokens += JsonTokens(part);
    }
  }
  return tokens;
}

int64_t MessageTokens(const json::value& message) {
  if (!message.is_object()) return kTokensPerMessage + JsonTokens(message);
  int64_t tokens = kTokensPerMessage;
  for (const auto& field : message.get_object()) {
    if (field.key() == "content") {
      tokens += ContentTokens(field.value());
    } else if (field.value().is_string()) {
      tokens += TextTokens(field.value().get_string());
      if (field.key() == "name") tokens += kTokensPerName;
    } else {
      tokens += JsonTokens(field.value());
    }
  }
  return tokens;
}

// A completions prompt or an embeddings input.
int64_t PromptTokens(const json::value& prompt) {
  if (prompt.is_string()) return TextTokens(prompt.get_string());
  if (!prompt.is_array()) return JsonTokens(prompt);
  int64_t tokens = 0;
  for (const json::value& item : prompt.get_array()) {
    if (item.is_string()) {
      tokens += TextTokens(item.get_string());
    } else if (item.is_int64() || item.is_uint64()) {
      tokens += 1;
    } else if (item.is_array()) {
      tokens += static_cast<int64_t>(item.get_array().size());
    } else {
      tokens += JsonTokens(item);
    }
  }
  return tokens;
}

}  // namespace

int64_t TextTokens(std::string_view text) { return static_cast<int64_t>((text.size() + 3) / 4); }

int64_t CompactJsonSize(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return 4;
    case json::kind::bool_:
      return value.get_bool() ? 4 : 5;
    case json::kind::int64: {
      const int64_t v = value.get_int64();
      return v < 0 ? 1 + DecimalDigits(0 - static_cast<uint64_t>(v)) : DecimalDigits(v);
    }
    case json::kind::uint64:
      return DecimalDigits(value.get_uint64());
    case json::kind::double_:
      return 8;
    case json::kind::string:
      return static_cast<int64_t>(value.get_string().size()) + 2;
    case json::kind::array: {
      const json::array& a = value.get_array();
      int64_t size = 2 + (a.empty() ? 0 : static_cast<int64_t>(a.size()) - 1);
      for (const json::value& item : a) size += CompactJsonSize(item);
      return size;
    }
    case json::kind::object: {
      const json::object& o = value.get_object();
      int64_t size = 2 + (o.empty() ? 0 : static_cast<int64_t>(o.size()) - 1);
      for (const auto& field : o) {
        size += static_cast<int64_t>(field.key().size()) + 3 + CompactJsonSize(field.value());
      }
      return size;
    }
  }
  return 0;
}

int64_t JsonTokens(const json::value& value) { return (CompactJsonSize(value) + 3) / 4; }

TokenEstimate EstimateTokens(const json::object& body, int64_t default_completion_tokens) {
  // The fields that matter, found in one pass over the body (its keys are unique) rather
  // than a lookup each: this runs for every model request.
  const json::value *messages = nullptr, *tools = nullptr, *functions = nullptr;
  const json::value *prompt = nullptr, *input = nullptr;
  const json::value *max_completion_tokens = nullptr, *max_tokens = nullptr, *n_field = nullptr;
  for (const auto& field : body) {
    const std::string_view key = field.key();
    const json::value* value = &field.value();
    if (key == "messages") {
      messages = value;
    } else if (key == "max_tokens") {
      max_tokens = value;
    } else if (key == "max_completion_tokens") {
      max_completion_tokens = value;
    } else if (key == "n") {
      n_field = value;
    } else if (key == "tools") {
      tools = value;
    } else if (key == "functions") {
      functions = value;
    } else if (key == "prompt") {
      prompt = value;
    } else if (key == "input") {
      input = value;
    }
  }
  TokenEstimate estimate;
  bool embeddings = false;
  if (messages != nullptr) {
    if (messages->is_array()) {
      for (const json::value& m : messages->get_array()) estimate.prompt += MessageTokens(m);
    }
    estimate.prompt += kReplyPrimingTokens;
    if (tools != nullptr) estimate.prompt += JsonTokens(*tools);
    if (functions != nullptr) estimate.prompt += JsonTokens(*functions);
  } else if (prompt != nullptr) {
    estimate.prompt = PromptTokens(*prompt);
  } else if (input != nullptr) {
    estimate.prompt = PromptTokens(*input);
    embeddings = true;
  }
  if (embeddings) return estimate;
  int64_t reserve = CountValue(max_completion_tokens);
  if (reserve < 0) reserve = CountValue(max_tokens);
  if (reserve < 0) reserve = default_completion_tokens;
  const int64_t n = CountValue(n_field);
  int64_t total = 0;
  if (__builtin_mul_overflow(reserve, n >= 1 ? n : 1, &total)) total = INT64_MAX;
  estimate.completion_reserve = total;
  return estimate;
}

}  // namespace sluice::limits
