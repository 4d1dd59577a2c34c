#include "camstream/core/value_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace camstream {

namespace {
std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}
}  // namespace

std::optional<std::int64_t> parse_whole_number(std::string_view text) {
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  // from_chars rejects a leading '+', which people do write; accept it for the same number.
  const char* begin = text.data();
  if (!text.empty() && text.front() == '+') ++begin;
  const auto [stop, error] = std::from_chars(begin, end, value);
  if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
  return value;
}

std::optional<double> parse_decimal(std::string_view text) {
  double value = 0;
  const char* const end = text.data() + text.size();
  const char* begin = text.data();
  if (!text.empty() && text.front() == '+') ++begin;
  const auto [stop, error] = std::from_chars(begin, end, value, std::chars_format::fixed);
  if (text.empty() || error != std::errc{} || stop != end || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parse_boolean(std::string_view text) {
  static constexpr std::array<std::string_view, 5> kTrue = {"true", "yes", "on", "1", "enable"};
  static constexpr std::array<std::string_view, 5> kFalse = {"false", "no", "off", "0", "disable"};
  const std::string lower = lowercase(text);
  if (std::find(kTrue.begin(), kTrue.end(), lower) != kTrue.end()) return true;
  if (std::find(kFalse.begin(), kFalse.end(), lower) != kFalse.end()) return false;
  return std::nullopt;
}

}  // namespace camstream
