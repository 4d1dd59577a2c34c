#include "proc_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace camstream::bench {

std::optional<ProcSample> sample_process(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat_file(dir + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return std::nullopt;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  ProcSample sample;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // Field 3 is the state; utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) sample.utime_s = std::stod(field) / ticks;
    if (index == 15) sample.stime_s = std::stod(field) / ticks;
  }
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream words(line);
    std::string key;
    long value = 0;
    words >> key >> value;
    if (key == "VmRSS:") sample.rss_kb = value;
    if (key == "VmHWM:") sample.hwm_kb = value;
    if (key == "Threads:") sample.threads = static_cast<int>(value);
  }
  return sample;
}

MachineSample sample_machine() {
  MachineSample sample;
  std::ifstream("/proc/loadavg") >> sample.load_average_1m;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  stat >> cpu;  // "cpu": the sum over all CPUs
  unsigned long long value = 0;
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  for (int field = 0; field < 8 && stat >> value; ++field) {
    sample.total_ticks += value;
    if (field != 3 && field != 4) sample.busy_ticks += value;
  }
  return sample;
}

}  // namespace camstream::bench
