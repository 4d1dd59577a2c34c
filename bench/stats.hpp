// Order statistics over measured samples.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace camstream::bench {

// Nearest-rank percentile (p in 0..100) of the samples; 0 when there are none. Sorts in place.
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  const auto rank = static_cast<std::size_t>(
      std::clamp(std::ceil(p / 100.0 * static_cast<double>(samples.size())), 1.0,
                 static_cast<double>(samples.size())));
  std::nth_element(samples.begin(), samples.begin() + static_cast<long>(rank - 1), samples.end());
  return samples[rank - 1];
}

inline double maximum(const std::vector<double>& samples) {
  return samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end());
}

inline double minimum(const std::vector<double>& samples) {
  return samples.empty() ? 0 : *std::min_element(samples.begin(), samples.end());
}

}  // namespace camstream::bench
