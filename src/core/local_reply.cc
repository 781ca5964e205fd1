// Builders for gateway-made responses and the HTTP reason phrases.
#include "core/local_reply.h"

#include "core/json_text.h"

namespace sluice {

void AppendOpenAiError(std::string& out, std::string_view message, std::string_view type,
                       std::string_view param, std::string_view code) {
  out.append("{\"error\":{\"message\":");
  AppendJsonString(out, message);
  out.append(",\"type\":");
  AppendJsonString(out, type);
  out.append(",\"param\":");
  if (param.empty()) {
    out.append("null");
  } else {
    AppendJsonString(out, param);
  }
  out.append(",\"code\":");
  if (code.empty()) {
    out.append("null");
  } else {
    AppendJsonString(out, code);
  }
  out.append("}}");
}

LocalReply ErrorReply(ErrorClass error, std::string_view message, std::string_view param,
                      int status_override) {
  const ErrorInfo& info = Describe(error);
  LocalReply reply;
  reply.status = status_override != 0 ? status_override : info.status;
  reply.error = error;
  AppendOpenAiError(reply.body, message, info.type, param, info.code);
  return reply;
}

LocalReply JsonReply(int status, std::string body) {
  LocalReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      break;
  }
  if (status < 200) return "Informational";
  if (status < 300) return "Success";
  if (status < 400) return "Redirection";
  if (status < 500) return "Client Error";
  return "Server Error";
}

}  // namespace sluice
