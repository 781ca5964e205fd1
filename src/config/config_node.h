// A YAML node plus the diagnostics sink, with typed getters that interpolate ${ENV},
// validate formats and report every problem as "file:line: message" instead of
// throwing. Config sections (server, backends, models, each filter's settings) are read
// through it. Used only while loading config; not thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostics.h"

namespace sluice {

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, Diagnostics* diagnostics, std::string path = "")
      : node_(std::move(node)), diag_(diagnostics), path_(std::move(path)) {}

  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  int line() const {
    return node_.IsDefined() && node_.Mark().line >= 0 ? node_.Mark().line + 1 : fallback_line_;
  }
  const std::string& path() const { return path_; }
  Diagnostics& diagnostics() const { return *diag_; }

  void Error(std::string_view message) const;
  // Reports an error for every key of this map not in `known` (catches typos).
  void AllowKeys(std::initializer_list<std::string_view> known) const;
  // Reports an error unless this node is a map (or absent when `optional`).
  bool ExpectMap(bool optional = true) const;

  ConfigNode Child(std::string_view key) const;
  bool Has(std::string_view key) const { return Child(key).defined(); }

  // This node as an interpolated scalar; reports and returns nullopt otherwise.
  std::optional<std::string> Scalar() const;

  std::string String(std::string_view key, std::string_view fallback) const;
  bool Bool(std::string_view key, bool fallback) const;
  int64_t Int(std::string_view key, int64_t fallback, int64_t min, int64_t max) const;
  std::chrono::milliseconds Duration(std::string_view key,
                                     std::chrono::milliseconds fallback) const;
  uint64_t Size(std::string_view key, uint64_t fallback) const;
  std::vector<std::string> StringList(std::string_view key) const;

  std::vector<ConfigNode> Items() const;
  std::vector<std::pair<std::string, ConfigNode>> Entries() const;

 private:
  YAML::Node node_;
  Diagnostics* diag_;
  std::string path_;
  int fallback_line_ = 0;
};

}  // namespace sluice
