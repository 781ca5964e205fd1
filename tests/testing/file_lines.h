// ReadLines: a text file's lines (without their newlines), for tests that check what a log
// sink wrote. Header-only, so unit tests use it without the integration harness.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace sluice::testing {

inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace sluice::testing
