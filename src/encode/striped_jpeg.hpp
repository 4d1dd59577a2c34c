// Parallel encoding of one picture: N horizontal stripes of whole MCU rows, each compressed on
// its own thread by libjpeg with the same tables, joined into one baseline JPEG with a restart
// interval (DRI) and RSTn markers between the stripes. TurboJPEG 2.x has no restart parameter,
// so the stripes go through the libjpeg API of the same library (jpeglib.h, raw data in).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace camstream {

// Three full-range planes as TurboJPEG and libjpeg take them: 4:2:0 (chroma half width and
// half height) or 4:2:2 (chroma half width, full height).
struct PlanarPicture {
  const std::uint8_t* planes[3] = {nullptr, nullptr, nullptr};
  int strides[3] = {0, 0, 0};
  int width = 0;
  int height = 0;
  bool chroma_422 = false;
};

// Threads that share out the tasks of one job: run(count, task) calls task(i, thread) once for
// each i in 0..count-1, each on whichever thread claims i first, the caller's (thread 0)
// among them, and returns once every task has returned. The caller waits only for tasks a
// worker has claimed: a worker the scheduler has not started yet (a busy machine) claims
// nothing, and the caller does its tasks itself. Threads are started once and joined by the
// destructor; no thread is created per frame.
class StripeWorkers {
 public:
  using Task = std::function<void(int task, int thread)>;
  explicit StripeWorkers(int threads);  // 1..: one is the caller's own
  ~StripeWorkers();
  StripeWorkers(const StripeWorkers&) = delete;
  StripeWorkers& operator=(const StripeWorkers&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // count 0..65535. Rethrows the first exception (lowest task) a task threw, after all ended.
  void run(int count, const Task& task);

 private:
  void loop(int index);
  void claim_tasks(int thread);
  void keep_off_callers_cpu();
  void let_workers_run_anywhere();

  int caller_cpu_ = -1;  // the CPU the workers were last kept off
  // What a claim reads is written before claim_ is published (release) and stays until every
  // claimed task has completed: task_, errors_.
  const Task* task_ = nullptr;
  std::vector<std::exception_ptr> errors_;  // by task
  // generation (32 bits) | next task to claim (16) | task count (16); a claim is a CAS on it,
  // so a worker that read an older generation's value can never claim in the new one.
  std::atomic<std::uint64_t> claim_{0};
  std::atomic<int> completed_{0};  // tasks of the current generation that returned
  // Sleeping and waking (not on the I/O thread; the tasks themselves run unlocked).
  std::mutex mutex_;
  std::condition_variable wake_cv_;  // the workers: a new job or stopping
  std::condition_variable done_cv_;  // the caller: the last claimed task returned
  std::uint64_t wake_ = 0;           // jobs started, under mutex_
  bool stopping_ = false;            // under mutex_
  std::uint32_t generation_ = 0;
  std::vector<std::thread> workers_;
};

// Where a picture is cut: stripes of `mcu_rows_per_stripe` MCU rows, only the last shorter.
struct StripeLayout {
  int mcu_height = 16;  // luma rows per MCU row: 16 (4:2:0), 8 (4:2:2)
  int mcus_per_row = 0;
  int mcu_rows = 0;
  int mcu_rows_per_stripe = 0;
  int stripes = 0;
  int restart_interval = 0;  // MCUs per stripe (DRI's Ri)

  int first_row(int stripe) const { return stripe * mcu_rows_per_stripe * mcu_height; }
  int rows(int stripe, int height) const;
};
// At most `wanted` stripes, at least one MCU row each; more than wanted only when one stripe
// would exceed DRI's 16-bit interval (pictures wider than 16 000 pixels).
StripeLayout plan_stripes(int width, int height, bool chroma_422, int wanted);

// The joining step, on its own for the tests: `first` is a whole JPEG (tables, SOF, SOS, scan
// data, EOI) of the first stripe; `rest` are the scan data of the other stripes, each already
// padded to a byte boundary. Writes one JPEG of `height` rows with DRI `restart_interval` and
// RST0..7 (wrapping) before each of `rest`; returns its size, or 0 when `out` is too small.
// Throws std::runtime_error when `first` is not a JPEG libjpeg would write.
std::size_t join_stripes(std::span<const std::uint8_t> first,
                         std::span<const std::span<const std::uint8_t>> rest, int height,
                         int restart_interval, std::span<std::uint8_t> out);
// The entropy-coded data of a JPEG: from after its SOS segment to before its EOI.
std::span<const std::uint8_t> scan_data(std::span<const std::uint8_t> jpeg);

// Stripes cut per thread. Threads claim stripes as they come free, so with several stripes each a
// thread that starts late (its CPU was idle or busy) or runs on a slower core takes fewer, and
// the others do its share: on the 2-vCPU machine of docs/performance.md, 2 threads at
// 1920x1080 took 1.45 ms against 1.87 ms with one stripe each (frames back to back, medians).
// Each stripe costs a restart marker and a libjpeg start, a few microseconds.
constexpr int kStripesPerThread = 4;

// Compresses pictures in stripes on `threads` threads, kStripesPerThread stripes each (fewer
// when the picture has fewer MCU rows). Not thread-safe itself (one caller).
class StripedCompressor {
 public:
  explicit StripedCompressor(int threads);
  ~StripedCompressor();
  StripedCompressor(const StripedCompressor&) = delete;
  StripedCompressor& operator=(const StripedCompressor&) = delete;

  int threads() const { return workers_.threads(); }
  // Baseline JPEG of the picture at `quality` (1..100) with the standard Huffman tables and
  // TurboJPEG's DCT choice, so that its decoded pixels equal tjCompressFromYUVPlanes'. Returns
  // its size; throws EncodeError when it does not fit in `out` or libjpeg fails.
  std::size_t compress(const PlanarPicture& picture, int quality, std::span<std::uint8_t> out);

 private:
  struct Context;  // one libjpeg compressor, its scratch rows and error state, per thread
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<std::vector<std::uint8_t>> stripe_jpegs_;  // per stripe, reused frame to frame
  std::vector<std::size_t> stripe_sizes_;
  std::vector<std::span<const std::uint8_t>> scans_;  // the stripes after the first, to join
  StripeWorkers workers_;                             // last: joined before the contexts go
};

}  // namespace camstream
