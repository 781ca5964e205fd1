// Completion bodies and stream events of sluice-mock (see mock_format.h). The token tables
// are built once on first use and then only read; thread-safe.
#include "mock_format.h"

#include <array>
#include <charconv>
#include <cstring>

#include "core/json_text.h"
#include "http/response_writer.h"
#include "mock_text.h"

namespace sluice {
namespace {

// Per-token middles: the part of an event that depends on the token, prebuilt for both
// dialects (chat: {"content":"<token>"}, completions: "<token>").
struct TokenMiddles {
  std::array<std::string, kWordCount> chat;
  std::array<std::string, kWordCount> completion;
  std::string chat_first;
  std::string completion_first;

  TokenMiddles() {
    for (int64_t k = 0; k < kWordCount; ++k) {
      std::string_view text = TokenText(k == 0 ? kWordCount : k);  // spaced form
      chat[k] = "{\"content\":\"" + std::string(text) + "\"}";
      completion[k] = "\"" + std::string(text) + "\"";
    }
    chat_first = "{\"content\":\"" + std::string(TokenText(0)) + "\"}";
    completion_first = "\"" + std::string(TokenText(0)) + "\"";
  }
};

const TokenMiddles& Middles() {
  static const TokenMiddles middles;
  return middles;
}

std::string_view FinishReason(bool truncated) { return truncated ? "length" : "stop"; }

// {"id":..,"object":..,"created":..,"model":..[,"system_fingerprint":..]
void AppendEnvelope(std::string& out, const CompletionShape& shape, std::string_view object) {
  out.append("{\"id\":");
  AppendJsonString(out, shape.id);
  out.append(",\"object\":\"");
  out.append(object);
  out.append("\",\"created\":");
  AppendDecimal(out, shape.created);
  out.append(",\"model\":");
  AppendJsonString(out, shape.model);
  if (shape.dialect == Dialect::kChat) {
    out.append(",\"system_fingerprint\":\"");
    out.append(kSystemFingerprint);
    out.push_back('"');
  }
}

}  // namespace

std::string_view FormatUsage(char (&buffer)[kUsageBufferSize], int64_t prompt_tokens,
                             int64_t completion_tokens) {
  char* p = buffer;
  char* end = buffer + kUsageBufferSize;
  auto put = [&](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    p += text.size();
  };
  put("{\"prompt_tokens\":");
  p = std::to_chars(p, end, prompt_tokens).ptr;
  put(",\"completion_tokens\":");
  p = std::to_chars(p, end, completion_tokens).ptr;
  put(",\"total_tokens\":");
  p = std::to_chars(p, end, prompt_tokens + completion_tokens).ptr;
  put("}");
  return std::string_view(buffer, static_cast<size_t>(p - buffer));
}

void AppendUsage(std::string& out, int64_t prompt_tokens, int64_t completion_tokens) {
  char buffer[kUsageBufferSize];
  out.append(FormatUsage(buffer, prompt_tokens, completion_tokens));
}

void AppendCompletionBody(std::string& out, const CompletionShape& shape) {
  out.reserve(out.size() + 320 + shape.model.size() + ContentBytes(shape.tokens));
  bool chat = shape.dialect == Dialect::kChat;
  AppendEnvelope(out, shape, chat ? "chat.completion" : "text_completion");
  if (chat) {
    out.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"");
    AppendContent(out, shape.tokens);
    out.append("\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"");
  } else {
    out.append(",\"choices\":[{\"text\":\"");
    AppendContent(out, shape.tokens);
    out.append("\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"");
  }
  out.append(FinishReason(shape.truncated));
  out.append("\"}],\"usage\":");
  AppendUsage(out, shape.prompt_tokens, shape.tokens);
  out.push_back('}');
}

void StreamEmitter::Begin(const CompletionShape& shape, bool chunked) {
  shape_ = shape;
  chunked_ = chunked;
  bool chat = shape.dialect == Dialect::kChat;
  prefix_.assign("data: ");
  AppendEnvelope(prefix_, shape, chat ? "chat.completion.chunk" : "text_completion");
  prefix_.append(",\"choices\":[");
  choices_end_ = prefix_.size();
  prefix_.append(chat ? "{\"index\":0,\"delta\":" : "{\"text\":");
  suffix_.assign(chat ? ",\"logprobs\":null,\"finish_reason\":null}]"
                      : ",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]");
  if (shape.include_usage) suffix_.append(",\"usage\":null");
  suffix_.append("}\n\n");
}

void StreamEmitter::AppendEvent(std::string& out,
                                std::initializer_list<std::string_view> parts) const {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  if (chunked_) AppendChunkHeader(out, size);
  for (std::string_view part : parts) out.append(part);
  if (chunked_) out.append(kChunkTrailer);
}

void StreamEmitter::AppendStart(std::string& out) const {
  if (shape_.dialect != Dialect::kChat) return;
  AppendEvent(out, {prefix_, "{\"role\":\"assistant\",\"content\":\"\"}", suffix_});
}

void StreamEmitter::AppendToken(std::string& out, int64_t i) const {
  const TokenMiddles& m = Middles();
  bool chat = shape_.dialect == Dialect::kChat;
  std::string_view middle;
  if (i == 0) {
    middle = chat ? m.chat_first : m.completion_first;
  } else {
    size_t k = static_cast<size_t>(i % kWordCount);
    middle = chat ? m.chat[k] : m.completion[k];
  }
  AppendEvent(out, {prefix_, middle, suffix_});
}

void StreamEmitter::AppendEnd(std::string& out) const {
  bool chat = shape_.dialect == Dialect::kChat;
  std::string_view usage_null = shape_.include_usage ? ",\"usage\":null" : "";
  // Finish chunk: empty delta (chat) or empty text (completions) with the reason.
  AppendEvent(out, {prefix_, chat ? "{}" : "\"\"",
                    chat ? ",\"logprobs\":null,\"finish_reason\":\""
                         : ",\"index\":0,\"logprobs\":null,\"finish_reason\":\"",
                    FinishReason(shape_.truncated), "\"}]", usage_null, "}\n\n"});
  if (shape_.include_usage) {
    char buffer[kUsageBufferSize];
    AppendEvent(out, {std::string_view(prefix_).substr(0, choices_end_), "],\"usage\":",
                      FormatUsage(buffer, shape_.prompt_tokens, shape_.tokens), "}\n\n"});
  }
  AppendEvent(out, {"data: [DONE]\n\n"});
  if (chunked_) out.append(kLastChunk);
}

}  // namespace sluice
