// The password checks waiting for the worker thread, one queue per address, served in turn
// (round robin): an address flooding checks waits behind itself, and a login from another
// address waits for at most one check per busy address. Each address may hold `per_key`
// checks, all of them `total`. Runs on the I/O thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace camstream::access {

template <typename Job>
class CheckQueue {
 public:
  CheckQueue(std::size_t per_key, std::size_t total) : per_key_(per_key), total_(total) {}

  // False when the address has its share queued, or the queue is full.
  bool push(const std::string& key, Job job) {
    auto& queue = queues_[key];
    if (queue.size() >= per_key_ || size_ >= total_) {
      if (queue.empty()) queues_.erase(key);
      return false;
    }
    if (queue.empty()) turns_.push_back(key);
    queue.push_back(std::move(job));
    ++size_;
    return true;
  }

  // The next address's oldest check. The address served last waits for the others, even
  // when its next check was queued before theirs.
  std::optional<Job> pop() {
    if (turns_.empty()) return std::nullopt;
    if (turns_.size() > 1 && turns_.front() == last_) {
      turns_.push_back(std::move(turns_.front()));
      turns_.pop_front();
    }
    std::string key = std::move(turns_.front());
    turns_.pop_front();
    auto found = queues_.find(key);
    Job job = std::move(found->second.front());
    found->second.pop_front();
    --size_;
    if (found->second.empty()) {
      queues_.erase(found);
    } else {
      turns_.push_back(key);
    }
    last_ = std::move(key);
    return job;
  }

  std::size_t size() const { return size_; }
  std::size_t queued(const std::string& key) const {
    const auto found = queues_.find(key);
    return found == queues_.end() ? 0 : found->second.size();
  }

 private:
  std::size_t per_key_;
  std::size_t total_;
  std::unordered_map<std::string, std::deque<Job>> queues_;
  std::deque<std::string> turns_;  // addresses with checks queued, next first
  std::string last_;               // the address served last
  std::size_t size_ = 0;
};

}  // namespace camstream::access
