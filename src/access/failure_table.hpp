// Failed logins counted under a key (an address, or a user name), each failure tagged with
// the other half (the user it named, or the address it came from) so that a success clears
// only the failures of the same pair. A check still running counts as a failure until it
// ends. The table is bounded; when full it gives up single failures first and never a locked
// key (docs/security.md, "Lockout").
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace camstream::access {

class FailureTable {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    int limit = 10;  // failures within `window` that lock the key
    Clock::duration window = std::chrono::seconds(60);
    Clock::duration lock = std::chrono::seconds(60);
    std::size_t capacity = 10'000;  // keys tracked at most
  };

  explicit FailureTable(Settings settings);

  // Counts a failure under `key`, tagged `tag`; `id` names a pending check (its failure
  // counts from now on, see resolve()), 0 a failure already known. True when this one locks
  // the key (log it then, once).
  bool add(const std::string& key, const std::string& tag, std::uint64_t id, Clock::time_point now);
  // The end of pending check `id`: a failure keeps counting (true when it locks the key); a
  // success removes it and every failure of the same tag under the key.
  bool resolve(const std::string& key, std::uint64_t id, bool failed, Clock::time_point now);
  // A success outside a pending check: forgets the key's failures of this tag.
  void clear(const std::string& key, const std::string& tag);

  // While the key is locked, the time left (whole seconds, at least 1). Also, while its
  // failures and the checks still running reach the limit, 1 s: those checks decide.
  std::optional<std::chrono::seconds> refusal(const std::string& key, Clock::time_point now) const;
  // True when the key has a failure on record, a check running or a lock.
  bool known(const std::string& key, Clock::time_point now) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Failure {
    Clock::time_point at;
    std::string tag;
    std::uint64_t id = 0;  // nonzero while the check runs
  };
  struct Entry {
    std::string key;
    std::vector<Failure> failures;  // in the window, oldest first
    std::optional<Clock::time_point> locked_until;
    Clock::time_point last_seen;
  };
  using List = std::list<Entry>;  // least recently seen first

  List::iterator touch(const std::string& key, Clock::time_point now);
  bool count(Entry& entry, Clock::time_point now);
  void prune(Entry& entry, Clock::time_point now) const;
  bool locked(const Entry& entry, Clock::time_point now) const;
  bool quiet(const Entry& entry, Clock::time_point now) const;
  void forget_quiet(Clock::time_point now);
  void make_room(Clock::time_point now);

  Settings settings_;
  List entries_;
  std::unordered_map<std::string_view, List::iterator> index_;  // views into entries_' keys
};

}  // namespace camstream::access
