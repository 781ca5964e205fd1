// Construction of the benchmark inputs.
#include "bench/micro/bench_data.h"

#include <cstdio>

namespace sluice::bench {
namespace {

std::string MakeBody() {
  return R"({"model":"gpt-4o-mini","temperature":0.2,"max_tokens":256,"messages":[)"
         R"({"role":"system","content":"You are a concise assistant for an internal )"
         R"(engineering help desk. Answer in plain English, cite the runbook section )"
         R"(when you know it, and say so when you are unsure. Never invent commands."},)"
         R"({"role":"user","content":"Our nightly export job failed with 'connection )"
         R"(reset by peer' after about forty minutes. What should I check first?"},)"
         R"({"role":"assistant","content":"Start with the load balancer idle timeout: )"
         R"(long exports that stream slowly are often cut at 30 or 60 minutes. Then )"
         R"(check the database server log for the same timestamp."},)"
         R"({"role":"user","content":"The load balancer timeout is 3600 seconds and the )"
         R"(database log shows nothing unusual. The job runs in a Kubernetes pod with )"
         R"(512Mi memory. Could it be the pod being restarted?"},)"
         R"({"role":"user","content":"Please also tell me which metrics to look at."}],)"
         R"("user":"helpdesk-42"})";
}

std::string MakeHead(size_t body_size) {
  return "POST /v1/chat/completions HTTP/1.1\r\n"
         "Host: gateway.internal.example.com\r\n"
         "Accept-Encoding: gzip, deflate\r\n"
         "Connection: keep-alive\r\n"
         "Accept: application/json\r\n"
         "Content-Type: application/json\r\n"
         "User-Agent: OpenAI/Python 1.40.0\r\n"
         "X-Stainless-Lang: python\r\n"
         "X-Stainless-Package-Version: 1.40.0\r\n"
         "X-Stainless-OS: Linux\r\n"
         "X-Stainless-Arch: x64\r\n"
         "X-Stainless-Runtime: CPython\r\n"
         "Authorization: Bearer sk-sluice-0123456789abcdef0123456789abcdef\r\n"
         "Content-Length: " +
         std::to_string(body_size) + "\r\n\r\n";
}

std::string MakeResponse() {
  std::string content;
  while (content.size() < 1000) content += "Yes, an OOM kill would look exactly like that. ";
  return R"({"id":"chatcmpl-9xYz0123456789","object":"chat.completion","created":1718000000,)"
         R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789",)"
         R"("choices":[{"index":0,"message":{"role":"assistant","content":")" +
         content +
         R"("},"logprobs":null,"finish_reason":"stop"}],)"
         R"("usage":{"prompt_tokens":187,"completion_tokens":240,"total_tokens":427,)"
         R"("prompt_tokens_details":{"cached_tokens":0}}})";
}

std::string MakeSse() {
  std::string out;
  char event[512];
  for (int i = 0; i < 64; ++i) {
    std::snprintf(event, sizeof(event),
                  R"(data: {"id":"chatcmpl-9xYz0123456789","object":"chat.completion.chunk",)"
                  R"("created":1718000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,)"
                  R"("delta":{"content":"token%d "},"finish_reason":null}]})"
                  "\n\n",
                  i);
    out += event;
  }
  out += R"(data: {"id":"chatcmpl-9xYz0123456789","object":"chat.completion.chunk",)"
         R"("choices":[],"usage":{"prompt_tokens":187,"completion_tokens":64,"total_tokens":251}})"
         "\n\ndata: [DONE]\n\n";
  return out;
}

std::string Chunk(std::string_view payload) {
  char size[24];
  std::snprintf(size, sizeof(size), "%zx\r\n", payload.size());
  std::string out = size;
  out.append(payload);
  out.append("\r\n");
  return out;
}

std::string MakeChunked(const std::string& sse) {
  std::string out;
  size_t start = 0;
  while (start < sse.size()) {
    size_t end = sse.find("\n\n", start) + 2;
    out += Chunk(std::string_view(sse).substr(start, end - start));
    start = end;
  }
  out += "0\r\n\r\n";
  return out;
}

}  // namespace

const std::string& ChatBody() {
  static const std::string body = MakeBody();
  return body;
}

const std::string& ChatRequestHead() {
  static const std::string head = MakeHead(ChatBody().size());
  return head;
}

const std::string& ChatResponse() {
  static const std::string response = MakeResponse();
  return response;
}

const std::string& SseStream() {
  static const std::string sse = MakeSse();
  return sse;
}

const std::string& ChunkedSseBody() {
  static const std::string body = MakeChunked(SseStream());
  return body;
}

}  // namespace sluice::bench
