// What /proc says about a process: CPU time, memory, threads.
#pragma once

#include <sys/types.h>

#include <optional>

namespace camstream::bench {

struct ProcSample {
  double utime_s = 0;  // user CPU seconds since the process started
  double stime_s = 0;  // system CPU seconds
  long rss_kb = 0;     // VmRSS
  long hwm_kb = 0;     // VmHWM: peak RSS since start
  int threads = 0;
};

// The whole machine: how busy it was, since the other users of a shared box skew timings.
struct MachineSample {
  double load_average_1m = 0;
  unsigned long long busy_ticks = 0;  // all CPUs, /proc/stat
  unsigned long long total_ticks = 0;
};

MachineSample sample_machine();

// Reads /proc/PID/stat and /proc/PID/status; nothing when the process is gone.
std::optional<ProcSample> sample_process(pid_t pid);

}  // namespace camstream::bench
