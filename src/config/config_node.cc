// ConfigNode getters: parse, interpolate, validate, and report with line numbers.
#include "config/config_node.h"

#include "config/units.h"

namespace sluice {

void ConfigNode::Error(std::string_view message) const {
  std::string text;
  if (!path_.empty()) {
    text = path_;
    text += ": ";
  }
  text += message;
  diag_->Error(line(), text);
}

bool ConfigNode::ExpectMap(bool optional) const {
  if (!defined()) {
    if (!optional) Error("is required");
    return false;
  }
  if (!node_.IsMap()) {
    Error("must be a mapping");
    return false;
  }
  return true;
}

void ConfigNode::AllowKeys(std::initializer_list<std::string_view> known) const {
  if (!node_.IsMap()) return;
  for (const auto& entry : node_) {
    std::string key = entry.first.Scalar();
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      std::string expected;
      for (std::string_view k : known) {
        if (!expected.empty()) expected += ", ";
        expected += k;
      }
      ConfigNode(entry.first, diag_, path_)
          .Error("unknown key '" + key + "' (expected one of: " + expected + ")");
    }
  }
}

ConfigNode ConfigNode::Child(std::string_view key) const {
  std::string child_path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  ConfigNode child(YAML::Node(YAML::NodeType::Undefined), diag_, child_path);
  if (node_.IsMap()) {
    const YAML::Node& self = node_;
    YAML::Node found = self[std::string(key)];
    // A null value ("key:" with nothing after it) is treated as missing: yaml-cpp marks it
    // at the next token, often on a later line, so it must not provide the line.
    // reset(), not assignment: yaml-cpp's Node::operator= merges the nodes' memory holders
    // on every lookup, which made loading quadratic in the number of models.
    if (found.IsDefined() && !found.IsNull()) child.node_.reset(found);
  }
  // A missing key reports errors at its parent's line.
  child.fallback_line_ = line();
  return child;
}

std::optional<std::string> ConfigNode::Scalar() const {
  if (!node_.IsScalar()) {
    Error("must be a single value");
    return std::nullopt;
  }
  std::string out;
  std::string error;
  if (!InterpolateEnv(node_.Scalar(), out, error)) {
    Error(error);
    return std::nullopt;
  }
  return out;
}

std::string ConfigNode::String(std::string_view key, std::string_view fallback) const {
  ConfigNode child = Child(key);
  if (!child.defined()) return std::string(fallback);
  return child.Scalar().value_or(std::string(fallback));
}

bool ConfigNode::Bool(std::string_view key, bool fallback) const {
  ConfigNode child = Child(key);
  if (!child.defined()) return fallback;
  auto text = child.Scalar();
  if (!text) return fallback;
  if (*text == "true" || *text == "yes" || *text == "on") return true;
  if (*text == "false" || *text == "no" || *text == "off") return false;
  child.Error("must be true or false, not '" + *text + "'");
  return fallback;
}

int64_t ConfigNode::Int(std::string_view key, int64_t fallback, int64_t min, int64_t max) const {
  ConfigNode child = Child(key);
  if (!child.defined()) return fallback;
  auto text = child.Scalar();
  if (!text) return fallback;
  try {
    size_t used = 0;
    long long value = std::stoll(*text, &used);
    if (used != text->size()) throw std::invalid_argument("trailing");
    if (value < min || value > max) {
      child.Error("must be between " + std::to_string(min) + " and " + std::to_string(max) +
                  ", not " + *text);
      return fallback;
    }
    return value;
  } catch (const std::exception&) {
    child.Error("must be an integer, not '" + *text + "'");
    return fallback;
  }
}

std::chrono::milliseconds ConfigNode::Duration(std::string_view key,
                                               std::chrono::milliseconds fallback) const {
  ConfigNode child = Child(key);
  if (!child.defined()) return fallback;
  auto text = child.Scalar();
  if (!text) return fallback;
  auto value = ParseDuration(*text);
  if (!value) {
    child.Error("must be a duration such as 250ms, 10s, 5m or 1h, not '" + *text + "'");
    return fallback;
  }
  return *value;
}

uint64_t ConfigNode::Size(std::string_view key, uint64_t fallback) const {
  ConfigNode child = Child(key);
  if (!child.defined()) return fallback;
  auto text = child.Scalar();
  if (!text) return fallback;
  auto value = ParseSize(*text);
  if (!value) {
    child.Error("must be a size such as 4096, 64KiB or 10MiB, not '" + *text + "'");
    return fallback;
  }
  return *value;
}

std::vector<std::string> ConfigNode::StringList(std::string_view key) const {
  std::vector<std::string> out;
  ConfigNode child = Child(key);
  if (!child.defined()) return out;
  if (!child.is_sequence()) {
    child.Error("must be a list");
    return out;
  }
  for (const ConfigNode& item : child.Items()) {
    if (auto s = item.Scalar()) out.push_back(*s);
  }
  return out;
}

std::vector<ConfigNode> ConfigNode::Items() const {
  std::vector<ConfigNode> out;
  if (!node_.IsSequence()) return out;
  size_t i = 0;
  for (const auto& item : node_) {
    out.emplace_back(item, diag_, path_ + "[" + std::to_string(i++) + "]");
  }
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::Entries() const {
  std::vector<std::pair<std::string, ConfigNode>> out;
  if (!node_.IsMap()) return out;
  for (const auto& entry : node_) {
    std::string key = entry.first.Scalar();
    std::string child_path = path_.empty() ? key : path_ + "." + key;
    out.emplace_back(key, ConfigNode(entry.second, diag_, child_path));
  }
  return out;
}

}  // namespace sluice
