// The options tests' way in: parse_options on "camstream" followed by the arguments.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "camstream/app/options.hpp"

namespace camstream::test {

inline ParseResult parse(std::initializer_list<std::string> arguments) {
  std::vector<std::string> words{"camstream"};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(words.size()), argv.data());
}

}  // namespace camstream::test
