// The one ownership model of the server's lists of sessions (connections, stream viewers,
// waiting snapshots, control clients).
//
// A session owns itself through its pending operations (as in Beast's examples); a registry
// only refers to it (weak_ptr) and never keeps it alive. A session joins with join() and
// stays a member while it holds the Membership it got. A walk (for_each) may cause any member
// to join or leave, itself included, at any depth of nesting: leaving only marks the entry,
// and the walk that started first compacts the list when it ends. Members that join during a
// walk are not visited by it. Everything runs on the one I/O thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace camstream {

template <typename T>
class Registry : public std::enable_shared_from_this<Registry<T>> {
 public:
  // Membership in a registry; leaving it (destruction or reset()) removes the entry. Outliving
  // the registry is allowed.
  class Membership {
   public:
    Membership() = default;
    Membership(std::weak_ptr<Registry> registry, std::uint64_t id)
        : registry_(std::move(registry)), id_(id) {}
    Membership(Membership&& other) noexcept
        : registry_(std::move(other.registry_)), id_(std::exchange(other.id_, 0)) {}
    Membership& operator=(Membership&& other) noexcept {
      if (this != &other) {
        reset();
        registry_ = std::move(other.registry_);
        id_ = std::exchange(other.id_, 0);
      }
      return *this;
    }
    Membership(const Membership&) = delete;
    Membership& operator=(const Membership&) = delete;
    ~Membership() { reset(); }

    void reset() {
      if (id_ == 0) return;
      if (auto registry = registry_.lock()) registry->leave(id_);
      id_ = 0;
      registry_.reset();
    }
    explicit operator bool() const { return id_ != 0; }

   private:
    std::weak_ptr<Registry> registry_;
    std::uint64_t id_ = 0;
  };

  // Registries are shared so that a membership can outlive one safely.
  static std::shared_ptr<Registry> create() { return std::shared_ptr<Registry>(new Registry()); }

  [[nodiscard]] Membership join(std::weak_ptr<T> member) {
    const auto address = reinterpret_cast<std::uintptr_t>(member.lock().get());
    entries_.push_back(Entry{next_id_, std::move(member), address, false});
    ++size_;
    return Membership(this->weak_from_this(), next_id_++);
  }

  std::size_t size() const { return size_; }

  // Calls f(T&) for every member that has not left; f may make any member join or leave.
  template <typename F>
  void for_each(F&& f) {
    for_each_from(0, std::forward<F>(f));
  }

  // As for_each, but starting `first` places down the list (modulo its length) and wrapping
  // round, so that a walk repeated with a moving start serves no member always last.
  template <typename F>
  void for_each_from(std::size_t first, F&& f) {
    const WalkGuard guard(*this);
    const std::size_t end = entries_.size();  // members joining now wait for the next walk
    if (end == 0) return;
    const std::size_t start = first % end;
    const auto place = [start, end](std::size_t k) {
      return start + k < end ? start + k : start + k - end;
    };
    for (std::size_t k = 0; k < end; ++k) {
      const std::size_t i = place(k);
      if (k + kPrefetchAhead < end) prefetch(entries_[place(k + kPrefetchAhead)].address);
      // Locked before the call: the member lives through it even if it leaves meanwhile.
      if (const auto member = entries_[i].member.lock()) f(*member);
    }
  }

 private:
  // A member's memory is fetched into cache this many turns ahead of its own: the work of a
  // turn (a viewer's sendmsg, microseconds) hides the fetch, and a miss on each of 1000
  // viewers' control blocks alone was 1.6% of the server's CPU.
  static constexpr std::size_t kPrefetchAhead = 2;

  // A hint only, never read: the address may be freed memory by the time it is fetched, which
  // a prefetch tolerates. The lines are the control block's (make_shared puts it just before
  // the object) and T::kPrefetchBytes of the object, when T names them.
  static void prefetch(std::uintptr_t address) {
    if (address == 0) return;
    constexpr std::uintptr_t kLine = 64;
    std::uintptr_t bytes = kLine;
    if constexpr (requires { T::kPrefetchBytes; }) bytes = T::kPrefetchBytes;
    const std::uintptr_t last = (address + bytes - 1) & ~(kLine - 1);
    for (std::uintptr_t line = (address - 16) & ~(kLine - 1); line <= last; line += kLine) {
      // A hint about an address, not a pointer dereferenced: nothing to pessimize.
      __builtin_prefetch(reinterpret_cast<const void*>(line));  // NOLINT(performance-no-int-to-ptr)
    }
  }

  struct Entry {
    std::uint64_t id;
    std::weak_ptr<T> member;  // empty once the member has left
    std::uintptr_t address;   // where the member lives, for prefetch()
    bool left = false;        // left during a walk; removed when the walk ends
  };

  class WalkGuard {
   public:
    explicit WalkGuard(Registry& registry) : registry_(registry) { ++registry_.walks_; }
    ~WalkGuard() {
      if (--registry_.walks_ == 0 && registry_.left_ != 0) registry_.compact();
    }
    WalkGuard(const WalkGuard&) = delete;
    WalkGuard& operator=(const WalkGuard&) = delete;

   private:
    Registry& registry_;
  };

  Registry() = default;

  void leave(std::uint64_t id) {
    // Ids grow with every join and compaction keeps the order, so the list stays sorted.
    const auto it =
        std::lower_bound(entries_.begin(), entries_.end(), id,
                         [](const Entry& entry, std::uint64_t key) { return entry.id < key; });
    if (it == entries_.end() || it->id != id || it->left) return;
    --size_;
    if (walks_ == 0) {
      entries_.erase(it);
      return;
    }
    it->member.reset();
    it->left = true;
    ++left_;
  }

  void compact() {
    std::erase_if(entries_, [](const Entry& entry) { return entry.left; });
    left_ = 0;
  }

  std::vector<Entry> entries_;
  std::uint64_t next_id_ = 1;
  std::size_t size_ = 0;
  std::size_t left_ = 0;
  int walks_ = 0;
};

}  // namespace camstream
