// Masks secrets and personal data in free text before it is logged: error messages, header
// values, the application log and (opt-in) prompt text in the access log. A hand-written,
// single-pass scanner (no regex): linear in the input, no allocation beyond the output.
// Each finding is replaced by "[REDACTED:<kind>]"; nothing of the secret is kept (no
// prefix), and where a name says what a value is ("password=", "Bearer ") the name stays.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// Kinds, as they appear in the marker "[REDACTED:<kind>]":
//   api_key      provider key formats: sk-… (OpenAI, sk-proj-, Sluice's sk-sl-, sk-ant-),
//                sk_live_/sk_test_/rk_live_, AKIA/ASIA (AWS), AIza (Google), ghp_/gho_/ghu_/
//                ghs_/ghr_/github_pat_ (GitHub), xoxb-/xoxp-/xoxa-/xoxr-/xoxs- (Slack),
//                hf_ (Hugging Face), gsk_ (Groq), glpat- (GitLab)
//   jwt          eyJ….….… (three base64url parts)
//   token        the credentials after "Bearer ", "Basic " (when they decode to user:pass),
//                and the value of Authorization / Cookie headers
//   secret       the value (8+ characters) after a name ending in key, apikey, token,
//                secret, credential(s), sig/signature: key=…, "api_key":"…", x-api-key: …
//   password     any value after password, passwd, pwd, pass, passphrase
//   credentials  user:password in a URL (scheme://user:pass@host)
//   email        local@domain.tld
//   phone        +CC numbers with 9–15 digits; national numbers written in groups
//                ((555) 123-4567, 555.123.4567, 020 7946 0958); bare digit runs are not
//   card         13–19 digits (optionally grouped by spaces or dashes) starting 2–6 and
//                passing the Luhn check
// Names are matched case-insensitively; the provider prefixes are case-sensitive.

// Replaces `out` with `in`, sensitive parts masked. When nothing matches, `out` is a plain
// copy (reusing its capacity).
void Redact(std::string_view in, std::string& out);
// The same, appended to `out` (for building log lines without a temporary).
void AppendRedacted(std::string_view in, std::string& out);
std::string Redacted(std::string_view in);
// True when Redact would change `in`.
bool ContainsSensitive(std::string_view in);

}  // namespace sluice
