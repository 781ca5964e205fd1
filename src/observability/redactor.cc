// The redaction scanner. One pass over the text: at each word start, '+', '(', '@' and "://"
// a matcher looks at a bounded stretch (numbers, emails, URL authorities) or at a run it then
// skips (words, values), so the whole scan is linear in the input. Findings are reported in
// order and never overlap; Redact copies the text between them and a marker for each.
// This file is over 500 lines because the matchers share the scanner's state and helpers;
// splitting them would spread one grammar across files.
#include "observability/redactor.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sluice {
namespace {

enum class Kind { kApiKey, kJwt, kToken, kSecret, kPassword, kCredentials, kEmail, kPhone, kCard };

std::string_view Marker(Kind kind) {
  switch (kind) {
    case Kind::kApiKey:
      return "[REDACTED:api_key]";
    case Kind::kJwt:
      return "[REDACTED:jwt]";
    case Kind::kToken:
      return "[REDACTED:token]";
    case Kind::kSecret:
      return "[REDACTED:secret]";
    case Kind::kPassword:
      return "[REDACTED:password]";
    case Kind::kCredentials:
      return "[REDACTED:credentials]";
    case Kind::kEmail:
      return "[REDACTED:email]";
    case Kind::kPhone:
      return "[REDACTED:phone]";
    case Kind::kCard:
      return "[REDACTED:card]";
  }
  return "[REDACTED]";
}

struct Finding {
  size_t begin;
  size_t end;
  Kind kind;
};

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
constexpr bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
// Characters of identifiers, header names and base64url: a word never starts inside a run.
constexpr bool IsWordChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }

// What a character can start, for the scan loop: most characters start nothing.
enum CharClass : uint8_t { kPlain, kWord, kNumberSign, kAtSign, kColon };
constexpr std::array<uint8_t, 256> kCharClass = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    if (IsWordChar(static_cast<char>(c))) table[c] = kWord;
  }
  table['+'] = kNumberSign;
  table['('] = kNumberSign;
  table['@'] = kAtSign;
  table[':'] = kColon;
  return table;
}();
uint8_t ClassOf(char c) { return kCharClass[static_cast<unsigned char>(c)]; }
constexpr bool IsSpace(char c) { return c == ' ' || c == '\t'; }
constexpr char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != lower[i]) return false;
  }
  return true;
}

bool EndsWithIgnoreCase(std::string_view a, std::string_view lower) {
  return a.size() >= lower.size() && EqualsIgnoreCase(a.substr(a.size() - lower.size()), lower);
}

// Provider key formats, recognised by prefix (case-sensitive) and length. A shorter key
// still counts when it contains a digit (test keys such as "sk-test1234").
struct KeyPrefix {
  std::string_view prefix;
  size_t min_length;
  size_t min_length_with_digit;
};
constexpr std::array<KeyPrefix, 20> kKeyPrefixes{{
    {"sk-", 20, 11},      {"sk_live_", 20, 20}, {"sk_test_", 20, 20}, {"rk_live_", 20, 20},
    {"rk_test_", 20, 20}, {"AIza", 35, 35},     {"ghp_", 30, 30},     {"gho_", 30, 30},
    {"ghu_", 30, 30},     {"ghs_", 30, 30},     {"ghr_", 30, 30},     {"github_pat_", 30, 30},
    {"xoxb-", 15, 15},    {"xoxp-", 15, 15},    {"xoxa-", 15, 15},    {"xoxr-", 15, 15},
    {"xoxs-", 15, 15},    {"hf_", 30, 30},      {"gsk_", 40, 40},     {"glpat-", 20, 20},
}};

bool HasDigit(std::string_view s) {
  for (char c : s) {
    if (IsDigit(c)) return true;
  }
  return false;
}

bool IsProviderKey(std::string_view run) {
  // Every format is 11+ characters and starts with one of these letters: most words stop here.
  if (run.size() < 11) return false;
  switch (run[0]) {
    case 'A':
    case 'g':
    case 'h':
    case 'r':
    case 's':
    case 'x':
      break;
    default:
      return false;
  }
  if (run.size() == 20 && (run.starts_with("AKIA") || run.starts_with("ASIA"))) {
    for (char c : run) {
      if (!IsUpper(c) && !IsDigit(c)) return false;
    }
    return true;
  }
  for (const KeyPrefix& key : kKeyPrefixes) {
    if (run[0] != key.prefix[0] || !run.starts_with(key.prefix)) continue;
    if (run.size() >= key.min_length) return true;
    return run.size() >= key.min_length_with_digit && HasDigit(run.substr(key.prefix.size()));
  }
  return false;
}

enum class NameClass { kNone, kSecret, kPassword, kHeader };

// What a name says about the value after it: "x-api-key", "accessToken", "DB_PASSWORD".
NameClass ClassifyName(std::string_view name) {
  if (EqualsIgnoreCase(name, "authorization") || EqualsIgnoreCase(name, "proxy-authorization") ||
      EqualsIgnoreCase(name, "cookie") || EqualsIgnoreCase(name, "set-cookie")) {
    return NameClass::kHeader;
  }
  // The last component: after the last '_' or '-', or the last lower→upper (camelCase) step.
  size_t start = 0;
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i - 1] == '_' || name[i - 1] == '-' || (IsLower(name[i - 1]) && IsUpper(name[i]))) {
      start = i;
    }
  }
  std::string_view last = name.substr(start);
  for (std::string_view word : {"password", "passwd", "pwd", "pass", "passphrase"}) {
    if (EqualsIgnoreCase(last, word)) return NameClass::kPassword;
  }
  for (std::string_view word :
       {"key", "apikey", "token", "secret", "credential", "credentials", "sig", "signature"}) {
    if (EqualsIgnoreCase(last, word)) return NameClass::kSecret;
  }
  // Run-together names: "newpassword", "accesstoken", "clientsecret".
  if (EndsWithIgnoreCase(name, "password") || EndsWithIgnoreCase(name, "passwd")) {
    return NameClass::kPassword;
  }
  if (EndsWithIgnoreCase(name, "token") || EndsWithIgnoreCase(name, "secret") ||
      EndsWithIgnoreCase(name, "apikey")) {
    return NameClass::kSecret;
  }
  return NameClass::kNone;
}

// Words that follow "Bearer" in prose ("a Bearer token is required"), not credentials.
bool IsBearerProse(std::string_view word) {
  if (word.size() > 14) return false;
  for (std::string_view prose :
       {"token", "tokens", "auth", "authentication", "authorization", "realm", "scheme", "header",
        "credential", "credentials", "is", "was", "required", "missing", "invalid", "expected"}) {
    if (EqualsIgnoreCase(word, prose)) return true;
  }
  return false;
}

bool IsToken68Char(char c) {
  return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int Base64Value(char c) {
  if (IsUpper(c)) return c - 'A';
  if (IsLower(c)) return c - 'a' + 26;
  if (IsDigit(c)) return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Whether base64 `text` (no padding) decodes to bytes containing ':' (user:password).
bool Base64DecodesToColon(std::string_view text) {
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    bits = (bits << 6) | static_cast<uint32_t>(Base64Value(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      if (((bits >> count) & 0xFF) == ':') return true;
    }
  }
  return false;
}

bool IsValueDelimiter(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '&':
    case ',':
    case ';':
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case '<':
    case '>':
    case '\\':
      return true;
    default:
      return false;
  }
}

// An unquoted Authorization or Cookie value runs to the end of the line or of the text
// that encloses it.
bool IsHeaderValueEnd(char c) {
  return c == '\r' || c == '\n' || c == '"' || c == '\'' || c == ')' || c == '<' || c == '>';
}

bool IsEmailLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

bool IsAuthorityEnd(char c) {
  switch (c) {
    case '/':
    case '?':
    case '#':
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '"':
    case '\'':
    case '<':
    case '>':
    case '\\':
      return true;
    default:
      return false;
  }
}

constexpr size_t kMaxEmailLocal = 64;
constexpr size_t kMaxEmailDomain = 253;
constexpr size_t kMaxAuthority = 256;
constexpr size_t kMinSecretValue = 8;
constexpr size_t kLongSecretValue = 20;
constexpr int kMaxDigits = 19;
constexpr int kMaxGroups = 24;

class Scanner {
 public:
  explicit Scanner(std::string_view in) : in_(in) {}

  // Calls `on_finding(const Finding&)` for each finding, in order; stops when it returns false.
  template <typename OnFinding>
  void Run(OnFinding&& on_finding) {
    size_t i = 0;
    while (i < in_.size()) {
      uint8_t char_class = ClassOf(in_[i]);
      if (char_class == kPlain) {
        ++i;
        continue;
      }
      Step step{std::nullopt, i + 1};
      if (char_class == kWord) {
        // Runs are skipped whole, so a word character here starts a run unless the scan
        // resumed inside one (after a finding or a value).
        if (i == 0 || ClassOf(in_[i - 1]) != kWord) step = AtWord(i);
      } else if (char_class == kNumberSign) {
        if (i == 0 || !IsAlnum(in_[i - 1])) step.finding = MatchNumber(i);
      } else if (char_class == kAtSign) {
        step.finding = MatchEmail(i);
      } else {
        step = AtSchemeSeparator(i);
      }
      if (step.finding) {
        if (!on_finding(*step.finding)) return;
        floor_ = step.finding->end;
        i = std::max(step.next, step.finding->end);
      } else {
        i = step.next;
      }
    }
  }

 private:
  struct Step {
    std::optional<Finding> finding;
    size_t next;
  };

  char At(size_t i) const { return i < in_.size() ? in_[i] : '\0'; }

  // A word-character run starting at a word boundary: a number, a provider key, a JWT, or a
  // name followed by its value. Without a finding the scan resumes after the run.
  Step AtWord(size_t start) {
    size_t end = start + 1;
    while (end < in_.size() && ClassOf(in_[end]) == kWord) ++end;
    std::string_view run = in_.substr(start, end - start);
    if (IsDigit(run[0]) && IsNumberBoundary(start)) {
      if (auto number = MatchNumber(start)) return {number, number->end};
    }
    if (IsProviderKey(run)) return {Finding{start, end, Kind::kApiKey}, end};
    if (run.size() >= 10 && run[0] == 'e' && run[1] == 'y' && run[2] == 'J') {
      if (auto jwt = MatchJwt(start, end)) return {jwt, jwt->end};
    }
    if (auto value = MatchNamedValue(run, end)) return {value, value->end};
    return {std::nullopt, end};
  }

  bool IsNumberBoundary(size_t start) const {
    if (start == 0) return true;
    char prev = in_[start - 1];
    return !IsAlnum(prev) && prev != '_' && prev != '-' && prev != '.' && prev != '+';
  }

  // header.payload.signature, each base64url; the signature may be empty (alg "none").
  std::optional<Finding> MatchJwt(size_t start, size_t header_end) const {
    if (header_end - start < 10 || At(header_end) != '.') return std::nullopt;
    size_t payload_end = header_end + 1;
    while (payload_end < in_.size() && IsWordChar(in_[payload_end])) ++payload_end;
    if (payload_end - header_end - 1 < 2 || At(payload_end) != '.') return std::nullopt;
    size_t end = payload_end + 1;
    while (end < in_.size() && IsWordChar(in_[end])) ++end;
    return Finding{start, end, Kind::kJwt};
  }

  // A JSON object, or a value redacted already (so Redact is idempotent).
  bool IsStructureOrMarker(size_t begin) const {
    if (begin >= in_.size()) return true;
    return in_[begin] == '{' || in_.substr(begin).starts_with("[REDACTED:");
  }

  // "Bearer x", "Basic x", or name [quote] [spaces] (= or :) [spaces] value.
  std::optional<Finding> MatchNamedValue(std::string_view name, size_t name_end) const {
    if (IsSpace(At(name_end))) {
      if (EqualsIgnoreCase(name, "bearer")) return MatchBearer(name_end);
      if (EqualsIgnoreCase(name, "basic")) return MatchBasic(name_end);
    }
    size_t p = name_end;
    if (At(p) == '\\' && At(p + 1) == '"') {
      p += 2;
    } else if (At(p) == '"' || At(p) == '\'') {
      ++p;
    }
    while (IsSpace(At(p))) ++p;
    char separator = At(p);
    if (separator != '=' && separator != ':') return std::nullopt;
    if (separator == ':' && At(p + 1) == '/' && At(p + 2) == '/') return std::nullopt;  // a URL
    NameClass name_class = ClassifyName(name);
    if (name_class == NameClass::kNone) return std::nullopt;
    ++p;
    while (IsSpace(At(p))) ++p;
    return MatchValue(p, name_class);
  }

  std::optional<Finding> MatchBearer(size_t after_scheme) const {
    size_t begin = after_scheme;
    while (IsSpace(At(begin))) ++begin;
    size_t end = begin;
    while (end < in_.size() && IsToken68Char(in_[end])) ++end;
    size_t word_end = end;
    while (At(end) == '=') ++end;
    if (word_end == begin || IsBearerProse(in_.substr(begin, word_end - begin))) {
      return std::nullopt;
    }
    return Finding{begin, end, Kind::kToken};
  }

  // Basic credentials are base64("user:password"); decoding tells them from prose ("Basic
  // usage").
  std::optional<Finding> MatchBasic(size_t after_scheme) const {
    size_t begin = after_scheme;
    while (IsSpace(At(begin))) ++begin;
    size_t end = begin;
    while (end < in_.size() && Base64Value(in_[end]) >= 0) ++end;
    size_t data_end = end;
    while (At(end) == '=' && end - data_end < 2) ++end;
    if (data_end - begin < 4 || IsWordChar(At(end))) return std::nullopt;
    if (!Base64DecodesToColon(in_.substr(begin, data_end - begin))) return std::nullopt;
    return Finding{begin, end, Kind::kToken};
  }

  std::optional<Finding> MatchValue(size_t p, NameClass name_class) const {
    size_t begin;
    size_t end;
    bool quoted = At(p) == '"' || At(p) == '\'' || (At(p) == '\\' && At(p + 1) == '"');
    if (At(p) == '\\' && At(p + 1) == '"') {  // JSON inside a JSON string: \"value\"
      begin = p + 2;
      end = begin;
      while (end < in_.size() && in_[end] != '\n' && !(in_[end] == '\\' && At(end + 1) == '"')) {
        ++end;
      }
    } else if (At(p) == '"' || At(p) == '\'') {
      char quote = in_[p];
      begin = p + 1;
      end = begin;
      while (end < in_.size() && in_[end] != quote && in_[end] != '\n') {
        end += in_[end] == '\\' && end + 1 < in_.size() ? 2 : 1;
      }
      end = std::min(end, in_.size());
    } else if (name_class == NameClass::kHeader) {
      begin = p;
      end = begin;
      while (end < in_.size() && !IsHeaderValueEnd(in_[end])) ++end;
    } else {
      begin = p;
      end = begin;
      while (end < in_.size() && !IsValueDelimiter(in_[end])) ++end;
    }
    if (IsStructureOrMarker(begin)) return std::nullopt;
    switch (name_class) {
      case NameClass::kNone:
        return std::nullopt;
      case NameClass::kPassword:
        if (end == begin) return std::nullopt;
        return Finding{begin, end, Kind::kPassword};
      case NameClass::kSecret: {
        // Generated secrets have digits or length; this spares names such as
        // "hash_key: header:X-Session".
        std::string_view value = in_.substr(begin, end - begin);
        if (value.size() < kMinSecretValue) return std::nullopt;
        if (value.size() < kLongSecretValue && !HasDigit(value)) return std::nullopt;
        return Finding{begin, end, Kind::kSecret};
      }
      case NameClass::kHeader: {
        // Keep an authentication scheme ("Bearer ", "Basic "), mask what follows it: in
        // quotes, all of it; unquoted, its first word (free text may go on after it).
        size_t scheme_end = begin;
        while (scheme_end < end && IsAlpha(in_[scheme_end])) ++scheme_end;
        if (scheme_end > begin && scheme_end < end && IsSpace(in_[scheme_end])) {
          begin = scheme_end;
          while (begin < end && IsSpace(in_[begin])) ++begin;
          if (!quoted) {
            size_t word_end = begin;
            while (word_end < end && !IsValueDelimiter(in_[word_end])) ++word_end;
            end = word_end;
          }
        }
        while (end > begin && IsSpace(in_[end - 1])) --end;
        if (end == begin || IsStructureOrMarker(begin)) return std::nullopt;
        return Finding{begin, end, Kind::kToken};
      }
    }
    return std::nullopt;
  }

  // local@domain.tld; the local part is found looking back from '@', never before the end
  // of the previous finding.
  std::optional<Finding> MatchEmail(size_t at) const {
    if (at == url_at_) return std::nullopt;
    size_t begin = at;
    while (begin > floor_ && at - begin < kMaxEmailLocal && IsEmailLocalChar(in_[begin - 1])) {
      --begin;
    }
    while (begin < at && in_[begin] == '.') ++begin;
    if (begin == at) return std::nullopt;
    size_t end = 0;  // the end of the longest valid domain so far
    size_t label_begin = at + 1;
    int dots = 0;
    for (;;) {
      size_t p = label_begin;
      bool all_alpha = true;
      while (p < in_.size() && (IsAlnum(in_[p]) || in_[p] == '-') && p - at <= kMaxEmailDomain) {
        all_alpha = all_alpha && IsAlpha(in_[p]);
        ++p;
      }
      if (p == label_begin || in_[label_begin] == '-' || in_[p - 1] == '-') break;
      if (dots > 0 && all_alpha && p - label_begin >= 2) end = p;
      if (At(p) != '.' || !IsAlnum(At(p + 1))) break;
      label_begin = p + 1;
      ++dots;
    }
    if (end == 0) return std::nullopt;
    return Finding{begin, end, Kind::kEmail};
  }

  // scheme://user:password@host: the user information is masked.
  Step AtSchemeSeparator(size_t colon) {
    Step none{std::nullopt, colon + 1};
    if (colon == 0 || !IsAlpha(in_[colon - 1]) || At(colon + 1) != '/' || At(colon + 2) != '/') {
      return none;
    }
    size_t begin = colon + 3;
    size_t at = 0;
    bool has_colon = false;
    for (size_t p = begin; p < in_.size() && p - begin < kMaxAuthority; ++p) {
      char c = in_[p];
      if (IsAuthorityEnd(c)) break;
      if (c == '@') at = p;
    }
    if (at == 0 || at == begin) return none;
    url_at_ = at;  // user@host, not an email
    if (in_.substr(begin).starts_with("[REDACTED:")) return none;
    for (size_t p = begin; p < at; ++p) has_colon = has_colon || in_[p] == ':';
    if (!has_colon && at - begin < 16) return none;  // a plain user name ("git@")
    return {Finding{begin, at, Kind::kCredentials}, at};
  }

  struct Group {
    size_t end;  // just past the group's digits (and its ')')
    int digits;
    char separator;  // the separator before this group; 0 for none or after "(…)"
    bool parenthesised;
  };

  // Digits in groups separated by single spaces, dashes or dots, optionally a leading '+' and
  // a parenthesised area code; then the longest prefix of groups that is a card or a phone.
  std::optional<Finding> MatchNumber(size_t start) const {
    std::array<Group, kMaxGroups> groups;
    int count = 0;
    int total = 0;
    bool plus = in_[start] == '+';
    size_t p = plus ? start + 1 : start;
    char separator = 0;
    while (count < kMaxGroups) {
      bool paren = At(p) == '(';
      size_t digits_begin = paren ? p + 1 : p;
      size_t q = digits_begin;
      while (q < in_.size() && IsDigit(in_[q]) && q - digits_begin <= kMaxDigits) ++q;
      int length = static_cast<int>(q - digits_begin);
      if (length == 0 || total + length > kMaxDigits) break;
      // Only a country code or a leading "1" is a single digit; "1 2 3" is a list.
      if (length == 1 && count > 0 && !plus) break;
      if (paren) {
        if (count > 1 || length > 5 || At(q) != ')') break;
        ++q;
      }
      groups[count++] = Group{q, length, separator, paren};
      total += length;
      p = q;
      char next = At(p);
      if ((next == ' ' || next == '-' || next == '.') && (IsDigit(At(p + 1)) || At(p + 1) == '(')) {
        separator = paren ? 0 : next;
        ++p;
      } else if (paren && IsDigit(next)) {
        separator = 0;
      } else {
        break;
      }
    }
    // Fewer than 9 digits is neither a card (13+) nor a phone (9+): most numbers stop here.
    if (total < 9) return std::nullopt;
    for (int k = count; k >= 1; --k) {
      size_t end = groups[k - 1].end;
      if (!IsNumberEnd(end)) continue;
      if (!plus && IsCard(start, groups.data(), k)) return Finding{start, end, Kind::kCard};
      if (IsPhone(start, plus, groups.data(), k)) return Finding{start, end, Kind::kPhone};
    }
    return std::nullopt;
  }

  bool IsNumberEnd(size_t end) const {
    char c = At(end);
    if (IsAlnum(c) || c == '_') return false;
    bool joins = c == '-' || c == '.' || c == ':' || c == '/' || c == ',';
    return !(joins && IsDigit(At(end + 1)));
  }

  // Separators between the groups (ignoring those after a parenthesised group) are all the
  // same; returns it, 0 when there are none, '?' when they differ.
  static char CommonSeparator(const Group* groups, int count) {
    char common = 0;
    for (int i = 1; i < count; ++i) {
      char s = groups[i].separator;
      if (s == 0) continue;
      if (common != 0 && s != common) return '?';
      common = s;
    }
    return common;
  }

  static int TotalDigits(const Group* groups, int count) {
    int total = 0;
    for (int i = 0; i < count; ++i) total += groups[i].digits;
    return total;
  }

  bool IsCard(size_t start, const Group* groups, int count) const {
    int total = TotalDigits(groups, count);
    if (total < 13 || total > 19 || in_[start] < '2' || in_[start] > '6') return false;
    char separator = CommonSeparator(groups, count);
    if (separator != 0 && separator != ' ' && separator != '-') return false;
    for (int i = 0; i < count; ++i) {
      if (groups[i].parenthesised || (count > 1 && groups[i].digits < 3)) return false;
    }
    // Luhn: from the rightmost digit, double every second one.
    int sum = 0;
    bool twice = false;
    for (size_t p = groups[count - 1].end; p > start; --p) {
      char c = in_[p - 1];
      if (!IsDigit(c)) continue;
      int d = c - '0';
      if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
      twice = !twice;
    }
    return sum % 10 == 0;
  }

  bool IsPhone(size_t start, bool plus, const Group* groups, int count) const {
    int total = TotalDigits(groups, count);
    if (plus) return total >= 9 && total <= 15;
    char separator = CommonSeparator(groups, count);
    if (separator == '?') return false;
    // North American: [1] (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567.
    int first = 0;
    if (count == 4 && groups[0].digits == 1 && in_[start] == '1') first = 1;
    if (count - first == 3 && groups[first].digits == 3 && groups[first + 1].digits == 3 &&
        groups[first + 2].digits == 4 && !groups[first + 1].parenthesised &&
        !groups[first + 2].parenthesised) {
      return true;
    }
    // With a trunk prefix: 020 7946 0958, 06 12 34 56 78, (0)30-1234567.
    char first_digit = in_[start] == '(' ? in_[start + 1] : in_[start];
    if (first_digit != '0' || count < 2 || total < 9 || total > 12) return false;
    if (separator == '.') return false;  // dotted quads are addresses, not phones
    for (int i = 0; i < count; ++i) {
      if (groups[i].digits < 2 || groups[i].digits > 8) return false;
    }
    return true;
  }

  std::string_view in_;
  size_t floor_ = 0;  // the end of the last finding: look-behind never crosses it
  size_t url_at_ = std::string_view::npos;  // the '@' of the last URL authority seen
};

}  // namespace

void AppendRedacted(std::string_view in, std::string& out) {
  size_t copied = 0;
  Scanner(in).Run([&](const Finding& finding) {
    out.append(in.substr(copied, finding.begin - copied));
    out.append(Marker(finding.kind));
    copied = finding.end;
    return true;
  });
  out.append(in.substr(copied));
}

void Redact(std::string_view in, std::string& out) {
  out.clear();
  AppendRedacted(in, out);
}

std::string Redacted(std::string_view in) {
  std::string out;
  AppendRedacted(in, out);
  return out;
}

bool ContainsSensitive(std::string_view in) {
  bool found = false;
  Scanner(in).Run([&](const Finding&) {
    found = true;
    return false;
  });
  return found;
}

}  // namespace sluice
