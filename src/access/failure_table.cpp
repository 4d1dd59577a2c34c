#include "failure_table.hpp"

#include <algorithm>

namespace camstream::access {

FailureTable::FailureTable(Settings settings) : settings_(settings) {
  settings_.limit = std::max(settings_.limit, 1);
  settings_.capacity = std::max<std::size_t>(settings_.capacity, 1);
}

bool FailureTable::locked(const Entry& entry, Clock::time_point now) const {
  return entry.locked_until && *entry.locked_until > now;
}

// Failures that left the window go; checks still running stay whatever their age.
void FailureTable::prune(Entry& entry, Clock::time_point now) const {
  std::erase_if(entry.failures, [&](const Failure& failure) {
    return failure.id == 0 && now - failure.at >= settings_.window;
  });
  if (entry.locked_until && *entry.locked_until <= now) entry.locked_until.reset();
}

bool FailureTable::quiet(const Entry& entry, Clock::time_point now) const {
  if (locked(entry, now) || now - entry.last_seen < settings_.window) return false;
  return std::none_of(entry.failures.begin(), entry.failures.end(),
                      [](const Failure& failure) { return failure.id != 0; });
}

// The list is ordered by last_seen, so the quiet ones are at its front.
void FailureTable::forget_quiet(Clock::time_point now) {
  while (!entries_.empty() && quiet(entries_.front(), now)) {
    index_.erase(entries_.front().key);
    entries_.pop_front();
  }
}

// Full of keys failing right now: the one that matters least goes. Single failures first
// (the least recently seen of them), then the lowest count; a locked key never, so a flood
// from many addresses cannot free an attacker's address or reset a high count.
void FailureTable::make_room(Clock::time_point now) {
  forget_quiet(now);
  if (entries_.size() < settings_.capacity) return;
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (locked(*it, now)) continue;
    if (victim == entries_.end() || it->failures.size() < victim->failures.size()) victim = it;
    if (victim->failures.size() <= 1) break;  // the oldest single failure: no better victim
  }
  if (victim == entries_.end()) {
    // Every key is locked (a flood of `capacity * limit` failures within the window): locks
    // outrank the bound up to twice the capacity, then the oldest goes.
    if (entries_.size() < 2 * settings_.capacity) return;
    victim = entries_.begin();
  }
  index_.erase(victim->key);
  entries_.erase(victim);
}

FailureTable::List::iterator FailureTable::touch(const std::string& key, Clock::time_point now) {
  if (const auto found = index_.find(key); found != index_.end()) {
    entries_.splice(entries_.end(), entries_, found->second);
    found->second->last_seen = now;
    return found->second;
  }
  make_room(now);
  entries_.push_back(Entry{key, {}, std::nullopt, now});
  const auto it = std::prev(entries_.end());
  index_.emplace(it->key, it);
  return it;
}

// True when the known failures reach the limit: the key is locked and counts from zero again
// (the checks still running keep counting).
bool FailureTable::count(Entry& entry, Clock::time_point now) {
  prune(entry, now);
  if (locked(entry, now)) return false;
  const auto known = std::count_if(entry.failures.begin(), entry.failures.end(),
                                   [](const Failure& failure) { return failure.id == 0; });
  if (known < settings_.limit) return false;
  std::erase_if(entry.failures, [](const Failure& failure) { return failure.id == 0; });
  entry.locked_until = now + settings_.lock;
  return true;
}

bool FailureTable::add(const std::string& key, const std::string& tag, std::uint64_t id,
                       Clock::time_point now) {
  Entry& entry = *touch(key, now);
  if (id == 0 && locked(entry, now)) return false;  // locked already: no longer, no new log
  entry.failures.push_back(Failure{now, tag, id});
  return id == 0 && count(entry, now);
}

bool FailureTable::resolve(const std::string& key, std::uint64_t id, bool failed,
                           Clock::time_point now) {
  const auto found = index_.find(key);
  if (found == index_.end()) {
    // Dropped meanwhile (the table was full of locked keys): a failure is counted anew.
    return failed && add(key, {}, 0, now);
  }
  Entry& entry = *found->second;
  const auto it = std::find_if(entry.failures.begin(), entry.failures.end(),
                               [id](const Failure& failure) { return failure.id == id; });
  if (failed) {
    if (it == entry.failures.end()) return add(key, {}, 0, now);
    it->id = 0;
    it->at = now;
    touch(key, now);
    return count(entry, now);
  }
  std::string tag;
  if (it != entry.failures.end()) {
    tag = it->tag;
    entry.failures.erase(it);
  }
  clear(key, tag);
  return false;
}

void FailureTable::clear(const std::string& key, const std::string& tag) {
  const auto found = index_.find(key);
  if (found == index_.end()) return;
  std::erase_if(found->second->failures,
                [&](const Failure& failure) { return failure.id == 0 && failure.tag == tag; });
}

std::optional<std::chrono::seconds> FailureTable::refusal(const std::string& key,
                                                          Clock::time_point now) const {
  const auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  const Entry& entry = *found->second;
  if (locked(entry, now)) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(*entry.locked_until - now);
    return std::max(left, std::chrono::seconds(1));
  }
  const auto counted = std::count_if(entry.failures.begin(), entry.failures.end(), [&](auto& f) {
    return f.id != 0 || now - f.at < settings_.window;
  });
  if (counted >= settings_.limit) return std::chrono::seconds(1);
  return std::nullopt;
}

bool FailureTable::known(const std::string& key, Clock::time_point now) const {
  const auto found = index_.find(key);
  if (found == index_.end()) return false;
  const Entry& entry = *found->second;
  if (locked(entry, now)) return true;
  return std::any_of(entry.failures.begin(), entry.failures.end(), [&](const Failure& failure) {
    return failure.id != 0 || now - failure.at < settings_.window;
  });
}

}  // namespace camstream::access
