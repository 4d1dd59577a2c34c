#include "credential_cache.hpp"

#include <openssl/sha.h>

namespace camstream::access {

namespace {

// The header is never kept: only its SHA-256.
std::string digest(std::string_view authorization) {
  std::string key(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(authorization.data()), authorization.size(),
         reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

}  // namespace

CredentialCache::CredentialCache(std::size_t capacity, Clock::duration ttl)
    : capacity_(capacity), ttl_(ttl) {}

std::optional<Identity> CredentialCache::find(std::string_view authorization,
                                              Clock::time_point now) {
  const auto it = index_.find(digest(authorization));
  if (it == index_.end()) return std::nullopt;
  const auto entry = it->second;
  if (now - entry->verified >= ttl_) {
    index_.erase(it);
    entries_.erase(entry);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, entry);
  return entry->identity;
}

void CredentialCache::insert(std::string_view authorization, Identity identity,
                             Clock::time_point now) {
  if (capacity_ == 0) return;
  std::string key = digest(authorization);
  if (const auto it = index_.find(key); it != index_.end()) {
    it->second->identity = std::move(identity);
    it->second->verified = now;
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  while (entries_.size() >= capacity_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  entries_.push_front(Entry{key, std::move(identity), now});
  index_.emplace(std::move(key), entries_.begin());
}

void CredentialCache::clear() {
  index_.clear();
  entries_.clear();
}

}  // namespace camstream::access
