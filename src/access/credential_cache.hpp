#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "camstream/access/identity.hpp"

namespace camstream::access {

// Verified Authorization headers, keyed by their SHA-256 (the cache holds no password), each
// for at most `ttl`, at most `capacity` of them (the least recently used goes first). A 30 fps
// <img> polling /snapshot thus costs one crypt() per ttl, not one per frame.
class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  CredentialCache(std::size_t capacity, Clock::duration ttl);

  std::optional<Identity> find(std::string_view authorization, Clock::time_point now);
  void insert(std::string_view authorization, Identity identity, Clock::time_point now);
  void clear();
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;
    Identity identity;
    Clock::time_point verified;
  };
  std::size_t capacity_;
  Clock::duration ttl_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace camstream::access
