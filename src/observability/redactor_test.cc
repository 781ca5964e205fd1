// Tests of the Redactor: a table of secrets and personal data per kind that must disappear,
// a table of look-alikes (ids, dates, prices, model names, prose) that must stay unchanged,
// the Luhn check, mixed text, idempotence, and adversarial 1 MiB inputs that must finish
// (linear scan; ctest's timeout is the bound).
#include "observability/redactor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

struct Positive {
  std::string text;
  std::string secret;  // must not survive in any part
  std::string marker;  // must appear
};

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++count;
  return count;
}

const std::string kSluiceKey = "sk-sl-4fQk9xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456abc123";

std::vector<Positive> PositiveCases() {
  return {
      // Provider keys, anywhere in text.
      {"using key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 now",
       "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "[REDACTED:api_key]"},
      {"sk-AbCdEfGhIjKlMnOpQrStUvWxYz012345678901234567",
       "AbCdEfGhIjKlMnOpQrStUvWxYz012345678901234567", "[REDACTED:api_key]"},
      {"key " + kSluiceKey + " revoked", kSluiceKey, "[REDACTED:api_key]"},
      {"test key sk-test1234 rejected", "sk-test1234", "[REDACTED:api_key]"},
      {"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "api03-AbCdEf", "[REDACTED:api_key]"},
      {"aws AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE", "[REDACTED:api_key]"},
      {"google=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "AIzaSyDdI0hCZtE6vySjMm", "[REDACTED:"},
      {"(AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI)", "AIzaSyDdI0hCZtE6vySjMm", "[REDACTED:api_key]"},
      {"gh: ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
       "[REDACTED:api_key]"},
      {"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "11ABCDEFG0123456789",
       "[REDACTED:api_key]"},
      {"slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
       "123456789012-1234567890123", "[REDACTED:api_key]"},
      {"slack xoxp-123456789012-AbCdEfGhIj", "xoxp-123456789012", "[REDACTED:api_key]"},
      {"hf hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345678", "hf_AbCdEf", "[REDACTED:api_key]"},
      // JWTs.
      {"token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U expired",
       "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "[REDACTED:jwt]"},
      {"id_token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "eyJzdWIiOiJ4In0", "[REDACTED:"},
      // Authorization values.
      {"Authorization: Bearer abcDEF123456", "abcDEF123456", "Bearer [REDACTED:token]"},
      {"header was 'Bearer sk-abc123'", "sk-abc123", "Bearer [REDACTED:token]"},
      {"bearer eyJhbGciOiJIUzI1NiJ9.e30.sig_nature-x", "eyJhbGciOiJIUzI1NiJ9", "[REDACTED:token]"},
      {"Bearer shorty", "shorty", "[REDACTED:token]"},
      {"got Basic dXNlcjpwYXNzd29yZA== from client", "dXNlcjpwYXNzd29yZA",
       "Basic [REDACTED:token]"},
      {"authorization=Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l",
       "[REDACTED:token]"},
      {"{\"authorization\":\"Token abc\"}", "abc", "\"Token [REDACTED:token]\""},
      {"Cookie: session=abc123def456; theme=dark", "abc123def456", "[REDACTED:token]"},
      // Generic secrets after a telling name (query string, JSON, headers, env).
      {"GET /v1/x?api_key=abcdef1234567890&x=1", "abcdef1234567890",
       "api_key=[REDACTED:secret]&x=1"},
      {"token=0123456789abcdef0123", "0123456789abcdef0123", "token=[REDACTED:secret]"},
      {"{\"client_secret\":\"s3cr3tV4lue!xyz\"}", "s3cr3tV4lue", "\"[REDACTED:secret]\""},
      {"{\"key\": \"ab12cd34ef56gh78\"}", "ab12cd34ef56gh78", "[REDACTED:secret]"},
      {"x-api-key: 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706", "x-api-key: [REDACTED:secret]"},
      {"ACCESS_TOKEN=ya29.a0AfH6SMBx", "ya29.a0AfH6SMBx", "[REDACTED:secret]"},
      {"apiKey: 'AbCdEf1234567890'", "AbCdEf1234567890", "'[REDACTED:secret]'"},
      {"SECRET = 0123456789ABCDEF", "0123456789ABCDEF", "[REDACTED:secret]"},
      {"{\\\"api_key\\\":\\\"abcd1234efgh5678\\\"}", "abcd1234efgh5678", "[REDACTED:secret]"},
      {"accessToken=\"zzzz9yyyyxxxx\"", "zzzz9yyyyxxxx", "[REDACTED:secret]"},
      {"client_secret=AbCdEfGhIjKlMnOpQrStUv", "AbCdEfGhIjKlMnOpQrStUv", "[REDACTED:secret]"},
      {"&X-Amz-Signature=0a1b2c3d4e5f6a7b8c9d", "0a1b2c3d4e5f6a7b8c9d", "[REDACTED:secret]"},
      // Passwords.
      {"password=hunter2", "hunter2", "password=[REDACTED:password]"},
      {"{\"password\":\"correct horse battery staple\"}", "horse",
       "{\"password\":\"[REDACTED:password]\"}"},
      {"Passwd: 'x'", "'x'", "[REDACTED:password]"},
      {"--pwd=abc", "abc", "--pwd=[REDACTED:password]"},
      {"DB_PASSWORD=p@ssw0rd next", "ssw0rd", "DB_PASSWORD=[REDACTED:password] next"},
      {"newPassword : \"a\\\"b\"", "a\\\"b", "[REDACTED:password]"},
      {"passphrase=[secret]", "secret", "[REDACTED:password]"},
      // User information in URLs.
      {"postgres://admin:s3cret@db.internal:5432/app", "s3cret",
       "postgres://[REDACTED:credentials]@db.internal"},
      {"https://x-access-token:ghs_abc@github.com/o/r.git", "ghs_abc", "[REDACTED:credentials]"},
      {"redis://:redispass@127.0.0.1:6379", "redispass", "[REDACTED:credentials]"},
      // Emails.
      {"contact jane.doe+tag@example.co.uk today", "jane.doe+tag@example.co.uk",
       "contact [REDACTED:email] today"},
      {"<john_smith@mail.example.com>", "john_smith", "<[REDACTED:email]>"},
      {"mailto:a@b.io.", "a@b.io", "mailto:[REDACTED:email]."},
      // Phones.
      {"call +1 (555) 123-4567 now", "555) 123-4567", "call [REDACTED:phone] now"},
      {"+44 20 7946 0958", "7946 0958", "[REDACTED:phone]"},
      {"tel:+4915112345678", "4915112345678", "[REDACTED:phone]"},
      {"+33 6 12 34 56 78.", "12 34 56", "[REDACTED:phone]."},
      {"(555) 123-4567", "123-4567", "[REDACTED:phone]"},
      {"phone 555-123-4567", "555-123-4567", "[REDACTED:phone]"},
      {"phone 555.123.4567", "555.123.4567", "[REDACTED:phone]"},
      {"1-555-123-4567", "555-123-4567", "[REDACTED:phone]"},
      {"020 7946 0958", "7946 0958", "[REDACTED:phone]"},
      {"06 12 34 56 78", "12 34 56", "[REDACTED:phone]"},
      // Cards (Luhn-valid).
      {"card 4111 1111 1111 1111 exp 12/27", "1111 1111", "card [REDACTED:card] exp 12/27"},
      {"4111-1111-1111-1111", "4111-1111", "[REDACTED:card]"},
      {"n=4111111111111111", "4111111111111111", "[REDACTED:card]"},
      {"amex 378282246310005", "378282246310005", "[REDACTED:card]"},
      {"amex 3782 822463 10005", "822463", "[REDACTED:card]"},
      {"mc 5555555555554444", "5555555555554444", "[REDACTED:card]"},
      {"discover 6011111111111117", "6011111111111117", "[REDACTED:card]"},
      {"card:4012888888881881", "4012888888881881", "[REDACTED:card]"},
  };
}

TEST(Redactor, MasksEveryKind) {
  for (const Positive& c : PositiveCases()) {
    std::string out = Redacted(c.text);
    EXPECT_EQ(out.find(c.secret), std::string::npos) << c.text << " -> " << out;
    EXPECT_NE(out.find(c.marker), std::string::npos) << c.text << " -> " << out;
    EXPECT_TRUE(ContainsSensitive(c.text)) << c.text;
    // Idempotent: redacted text has nothing left to redact.
    EXPECT_EQ(Redacted(out), out) << c.text;
    EXPECT_FALSE(ContainsSensitive(out)) << out;
  }
}

TEST(Redactor, LeavesLookAlikesUnchanged) {
  const std::vector<std::string> negatives = {
      "req_01J9ZK8WQ3T5V7X9Y1A2B3C4D5",
      "request 01J9ZK8WQ3T5V7X9Y1A2B3C4D5 failed",
      "chatcmpl-9aBcDeFgHiJkLmNoPqRsTuVwXyZ",
      "550e8400-e29b-41d4-a716-446655440000",
      "12345678-1234-4234-9234-123456789012",
      "2026-11-26T10:00:00.123Z",
      "2026-11-26 10:00:00",
      "on 2026-11-26 at 10:00",
      "ts=1767225600123 or 1767225600",
      "price 0.15 per 1K tokens, $0.0015, 1,234,567 tokens",
      "\"prompt_tokens\": 1234, \"completion_tokens\": 5678, \"total_tokens\": 6912",
      "max_tokens=4096 temperature: 0.7 top_p=1",
      "model gpt-4o-mini, gpt-3.5-turbo, claude-3-5-sonnet-20241022, o1-preview",
      "The quick brown fox jumps over the lazy dog.",
      "Basic usage of the API is simple; Basic auth works.",
      "a Bearer token is required",
      "WWW-Authenticate: Bearer realm=\"sluice\"",
      "Authorization header missing",
      "unknown key: routes",
      "hash_key: header:X-Session",
      "sk-learn and task-sk-force",
      "192.168.100.200 and 10.0.0.1:8080",
      "4111111111111112 and 4111 1111 1111 1112",
      "1234567890123456789",
      "http://localhost:8080/v1/chat/completions",
      "ssh://git@github.com/o/r",
      "version 1.2.3 HTTP/1.1 200 OK",
      "status 503 after 1234 ms; retry in 30 s",
      "budget 1 000 000 tokens; batches 1200 1300 1400",
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "user@localhost",
      "the password is wrong",
      "\"token\": \"short\"",
      "secret=notdigits",
      "\"api_key\": null",
      "",
  };
  for (const std::string& text : negatives) {
    EXPECT_EQ(Redacted(text), text);
    EXPECT_FALSE(ContainsSensitive(text)) << text;
  }
}

TEST(Redactor, CardsNeedTheLuhnCheck) {
  // Luhn-valid test numbers of several lengths and networks...
  for (std::string valid :
       {"4111111111111111", "4012888888881881", "5105105105105100", "371449635398431",
        "6011000990139424", "4222222222222", "3530111333300000", "2223003122003222"}) {
    EXPECT_EQ(Redacted("n " + valid), "n [REDACTED:card]") << valid;
  }
  // ...and the same with the last digit changed.
  for (std::string invalid :
       {"4111111111111112", "4012888888881882", "5105105105105101", "371449635398432",
        "6011000990139425", "4222222222223", "3530111333300001", "2223003122003223"}) {
    EXPECT_EQ(Redacted("n " + invalid), "n " + invalid) << invalid;
  }
  // A Luhn-valid run starting with 1 (a timestamp, an id) is not a card.
  EXPECT_EQ(Redacted("id 1000000000000008"), "id 1000000000000008");
}

TEST(Redactor, MixedTextMasksEverySecret) {
  std::string text =
      "user jane@example.com (phone +1 555 123 4567) sent Authorization: Bearer sk-abc123xyz; "
      "upstream https://bot:pa55word@api.example.com/v1?api_key=0123456789abcdef&model=gpt-4o "
      "paid with 4111 1111 1111 1111, password=\"hunter2\", request req_01J9ZK8WQ3 at "
      "2026-11-26T10:00:00Z cost 0.15";
  std::string out = Redacted(text);
  for (std::string secret :
       {"jane@", "555 123", "sk-abc123xyz", "pa55word", "0123456789abcdef", "4111", "hunter2"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in " << out;
  }
  EXPECT_EQ(Count(out, "[REDACTED:"), 7u) << out;
  for (std::string kept : {"model=gpt-4o", "req_01J9ZK8WQ3", "2026-11-26T10:00:00Z", "cost 0.15",
                           "api.example.com/v1"}) {
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost from " << out;
  }
}

TEST(Redactor, RedactReplacesAppendRedactedAppends) {
  std::string out = "old";
  Redact("mail a@b.io", out);
  EXPECT_EQ(out, "mail [REDACTED:email]");
  AppendRedacted(" and c@d.io", out);
  EXPECT_EQ(out, "mail [REDACTED:email] and [REDACTED:email]");
}

TEST(Redactor, CleanTextIsCopiedIntoTheExistingBuffer) {
  std::string out;
  out.reserve(256);
  const char* buffer = out.data();
  std::string clean = "upstream 503 from backend openai after 1234 ms (model gpt-4o-mini)";
  Redact(clean, out);
  EXPECT_EQ(out, clean);
  EXPECT_EQ(out.data(), buffer) << "no new allocation for clean text";
}

// Inputs built to make a backtracking or quadratic matcher blow up. No timing assertion:
// each must simply finish within ctest's timeout.
TEST(Redactor, MegabyteInputsFinish) {
  constexpr size_t kSize = 1 << 20;
  auto repeat = [](const std::string& unit) {
    std::string out;
    out.reserve(kSize + unit.size());
    while (out.size() < kSize) out += unit;
    return out;
  };
  const std::vector<std::string> units = {
      "@",      "a@",        "a.",   "1 ",     "1-",   "+1 ",          "(",      "(1",
      "://",    "a://a@",    "key=", "key=\"", "eyJ.", "eyJhbGciOiJ.", "Basic ", "Bearer ",
      "bearer", "password=", "0",    "a",      "\\\"", "sk-",          "x-",     "Authorization: ",
      "4111 ",  "a@b.",      "-",    "aB",
  };
  for (const std::string& unit : units) {
    std::string text = repeat(unit);
    EXPECT_FALSE(Redacted(text).empty()) << unit;
  }
  // A megabyte of prose is unchanged; a megabyte of keys is all masked.
  std::string prose = repeat("The gateway relayed 1234 tokens for model gpt-4o-mini at 0.15. ");
  EXPECT_EQ(Redacted(prose), prose);
  std::string keys = repeat(kSluiceKey + " ");
  std::string masked = Redacted(keys);
  EXPECT_EQ(masked.find("sk-sl-"), std::string::npos);
  EXPECT_EQ(Count(masked, "[REDACTED:api_key]"), Count(keys, "sk-sl-"));
  // One unbroken run of a megabyte (a pasted blob) is one word.
  std::string run(kSize, 'x');
  EXPECT_EQ(Redacted(run), run);
}

}  // namespace
}  // namespace sluice
