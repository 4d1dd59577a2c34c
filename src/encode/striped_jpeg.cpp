// Striped JPEG encoding: see striped_jpeg.hpp. The facts it rests on (ITU T.81 B.2.4.4,
// F.1.2.3): at a restart marker the entropy coder is padded to a byte boundary with 1-bits and
// every DC predictor goes back to 0, so a stripe compressed as its own JPEG carries exactly the
// bytes of one restart interval. Blocks are transformed and quantised one by one, so with the
// same tables and the same edge padding the stripes hold the coefficients the whole picture
// would: the decoded pixels are identical to a single-thread encode.
#include "striped_jpeg.hpp"

// jpeglib.h needs size_t and FILE declared before it.
#include <cstdio>
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csetjmp>
#include <cstring>
#include <stdexcept>
#include <string>

#include "camstream/encode/encode_error.hpp"
#include "camstream/encode/jpeg_encoder.hpp"

namespace camstream {

// --- workers ---

StripeWorkers::StripeWorkers(int threads) {
  if (threads < 1) throw std::invalid_argument("stripe workers need at least one thread");
  for (int index = 1; index < threads; ++index) {
    workers_.emplace_back([this, index] { loop(index); });
  }
}

StripeWorkers::~StripeWorkers() {
  // A worker kept off one CPU of two can only run on the other: on a busy machine it may wait
  // seconds there for a slice, and the join with it.
  let_workers_run_anywhere();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void StripeWorkers::loop(int index) {
  std::unique_lock lock(mutex_);
  std::uint64_t seen = wake_;
  for (;;) {
    wake_cv_.wait(lock, [&] { return stopping_ || wake_ != seen; });
    if (stopping_) return;
    seen = wake_;
    lock.unlock();
    claim_tasks(index);
    lock.lock();
  }
}

void StripeWorkers::claim_tasks(int thread) {
  std::uint64_t state = claim_.load(std::memory_order_acquire);
  for (;;) {
    const auto next = static_cast<int>((state >> 16) & 0xFFFF);
    const auto count = static_cast<int>(state & 0xFFFF);
    if (next >= count) return;
    if (!claim_.compare_exchange_weak(state, state + (std::uint64_t{1} << 16),
                                      std::memory_order_acq_rel, std::memory_order_acquire)) {
      continue;  // another thread claimed it, or a new generation began: `state` is fresh
    }
    try {
      (*task_)(next, thread);
    } catch (...) {
      errors_[static_cast<std::size_t>(next)] = std::current_exception();
    }
    // The task's writes (its stripe, its error) are released to the caller with the count.
    if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == count) {
      std::lock_guard lock(mutex_);  // the caller checks the count under it: no lost wake-up
      done_cv_.notify_one();
    }
    state = claim_.load(std::memory_order_acquire);
  }
}

// Linux wakes a thread on the CPU of the thread that woke it when no other CPU is idle
// (wake-affine). On a busy machine the workers would then queue behind the caller, which is
// encoding its own stripe, and the stripes would run one after the other. So the workers may
// run anywhere but on the caller's CPU, set again when the caller moved or had to sleep for a
// worker (let_workers_run_anywhere). A hint: when it fails (a cpuset that allows only that
// CPU) the scheduler places them as it likes.
void StripeWorkers::keep_off_callers_cpu() {
  const int cpu = ::sched_getcpu();
  if (cpu < 0 || cpu == caller_cpu_) return;
  caller_cpu_ = cpu;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  if (CPU_COUNT(&allowed) < 2) return;
  CPU_CLR(cpu, &allowed);
  for (auto& worker : workers_) {
    ::pthread_setaffinity_np(worker.native_handle(), sizeof allowed, &allowed);
  }
}

// Undoes keep_off_callers_cpu(): every CPU the caller may use, the caller's own included.
void StripeWorkers::let_workers_run_anywhere() {
  if (caller_cpu_ < 0) return;
  caller_cpu_ = -1;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  for (auto& worker : workers_) {
    ::pthread_setaffinity_np(worker.native_handle(), sizeof allowed, &allowed);
  }
}

void StripeWorkers::run(int count, const Task& task) {
  if (count < 0 || count > 0xFFFF) throw std::invalid_argument("0..65535 tasks");
  if (count == 0) return;
  if (!workers_.empty()) keep_off_callers_cpu();
  task_ = &task;
  errors_.assign(static_cast<std::size_t>(count), nullptr);
  completed_.store(0, std::memory_order_relaxed);
  ++generation_;
  claim_.store((std::uint64_t{generation_} << 32) | static_cast<std::uint64_t>(count),
               std::memory_order_release);
  if (!workers_.empty()) {
    {
      std::lock_guard lock(mutex_);
      ++wake_;
    }
    wake_cv_.notify_all();
  }
  claim_tasks(0);
  // Every task is claimed now; wait for the ones workers still run. They are the same size as
  // the caller's, so they end within microseconds: a short spin saves the caller the wake-up
  // after a futex sleep, which on a busy machine can wait for a time slice.
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
  int done = completed_.load(std::memory_order_acquire);
  while (done < count && std::chrono::steady_clock::now() < spin_until) {
    done = completed_.load(std::memory_order_acquire);
  }
  if (done < count) {
    // A worker still runs its stripe, or waits for a slice on the CPUs it was kept to: while
    // the caller sleeps, its own CPU is free for it (kept off again at the next frame).
    let_workers_run_anywhere();
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return completed_.load(std::memory_order_acquire) >= count; });
  }
  task_ = nullptr;
  for (auto& error : errors_) {
    if (error) std::rethrow_exception(error);
  }
}

// --- layout and joining ---

int StripeLayout::rows(int stripe, int height) const {
  return std::min(height - first_row(stripe), mcu_rows_per_stripe * mcu_height);
}

StripeLayout plan_stripes(int width, int height, bool chroma_422, int wanted) {
  StripeLayout layout;
  layout.mcu_height = chroma_422 ? 8 : 16;
  layout.mcus_per_row = (width + 15) / 16;
  layout.mcu_rows = (height + layout.mcu_height - 1) / layout.mcu_height;
  const int stripes = std::clamp(wanted, 1, std::max(layout.mcu_rows, 1));
  layout.mcu_rows_per_stripe = (layout.mcu_rows + stripes - 1) / stripes;
  // Ri is 16 bits.
  const int max_rows = std::max(1, 65535 / std::max(layout.mcus_per_row, 1));
  layout.mcu_rows_per_stripe = std::min(layout.mcu_rows_per_stripe, max_rows);
  // Rounding up the rows per stripe may leave fewer stripes than wanted (e.g. 5 rows in 4
  // stripes: 2+2+1), never a stripe with no row.
  layout.stripes = (layout.mcu_rows + layout.mcu_rows_per_stripe - 1) / layout.mcu_rows_per_stripe;
  layout.restart_interval = layout.mcus_per_row * layout.mcu_rows_per_stripe;
  return layout;
}

namespace {

constexpr std::uint8_t kMarker = 0xFF;
constexpr std::uint8_t kSOF0 = 0xC0;
constexpr std::uint8_t kSOS = 0xDA;
constexpr std::uint8_t kEOI = 0xD9;
constexpr std::uint8_t kDRI = 0xDD;
constexpr std::uint8_t kRST0 = 0xD0;

struct Segments {
  std::size_t sof = 0;   // offset of the SOF0 marker
  std::size_t sos = 0;   // offset of the SOS marker
  std::size_t scan = 0;  // first byte after the SOS segment
};

// Walks the marker segments libjpeg writes (SOI, APPn, DQT, SOF0, DHT, SOS).
Segments find_segments(std::span<const std::uint8_t> jpeg) {
  if (jpeg.size() < 4 || jpeg[0] != kMarker || jpeg[1] != 0xD8) {
    throw std::runtime_error("stripe JPEG does not start with SOI");
  }
  Segments found;
  std::size_t at = 2;
  while (at + 4 <= jpeg.size()) {
    if (jpeg[at] != kMarker) throw std::runtime_error("stripe JPEG: no marker where expected");
    const std::uint8_t marker = jpeg[at + 1];
    const std::size_t length = (std::size_t{jpeg[at + 2]} << 8) | jpeg[at + 3];
    if (length < 2 || at + 2 + length > jpeg.size()) {
      throw std::runtime_error("stripe JPEG: segment runs past the end");
    }
    if (marker == kSOF0) found.sof = at;
    if (marker == kSOS) {
      found.sos = at;
      found.scan = at + 2 + length;
      return found;
    }
    at += 2 + length;
  }
  throw std::runtime_error("stripe JPEG has no SOS");
}

}  // namespace

std::span<const std::uint8_t> scan_data(std::span<const std::uint8_t> jpeg) {
  const Segments segments = find_segments(jpeg);
  if (jpeg.size() < segments.scan + 2 || jpeg[jpeg.size() - 2] != kMarker ||
      jpeg[jpeg.size() - 1] != kEOI) {
    throw std::runtime_error("stripe JPEG does not end with EOI");
  }
  return jpeg.subspan(segments.scan, jpeg.size() - 2 - segments.scan);
}

std::size_t join_stripes(std::span<const std::uint8_t> first,
                         std::span<const std::span<const std::uint8_t>> rest, int height,
                         int restart_interval, std::span<std::uint8_t> out) {
  const Segments segments = find_segments(first);
  if (segments.sof == 0) throw std::runtime_error("stripe JPEG has no baseline SOF");
  const std::span<const std::uint8_t> first_scan = scan_data(first);
  std::size_t total = segments.sos + 6 + (segments.scan - segments.sos) + first_scan.size() + 2;
  for (const auto& scan : rest) total += 2 + scan.size();
  if (total > out.size()) return 0;

  std::uint8_t* at = out.data();
  const auto put = [&](std::span<const std::uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
    at += bytes.size();
  };
  // Headers up to SOS, with the SOF's height made the whole picture's (SOF0: FF C0, length,
  // precision, then the height in two bytes).
  put(first.first(segments.sos));
  out[segments.sof + 5] = static_cast<std::uint8_t>(height >> 8);
  out[segments.sof + 6] = static_cast<std::uint8_t>(height & 0xFF);
  const std::uint8_t dri[6] = {kMarker,
                               kDRI,
                               0,
                               4,
                               static_cast<std::uint8_t>(restart_interval >> 8),
                               static_cast<std::uint8_t>(restart_interval & 0xFF)};
  put(dri);
  put(first.subspan(segments.sos, segments.scan - segments.sos));
  put(first_scan);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const std::uint8_t rst[2] = {kMarker, static_cast<std::uint8_t>(kRST0 + (i % 8))};
    put(rst);
    put(rest[i]);
  }
  const std::uint8_t eoi[2] = {kMarker, kEOI};
  put(eoi);
  return static_cast<std::size_t>(at - out.data());
}

// --- the libjpeg side ---

namespace {

// libjpeg reports errors through error_exit, which must not return; a longjmp back to the
// stripe's entry is the documented way (C++ exceptions must not unwind through C frames).
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void error_exit(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void output_message(j_common_ptr) {}  // warnings are not printed to stderr

// Writes into a vector that grows only when a stripe exceeds it (sized once to the bound).
struct Destination {
  jpeg_destination_mgr pub;
  std::vector<std::uint8_t>* buffer;
  bool grow_failed;
};

void init_destination(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<Destination*>(cinfo->dest);
  dest->pub.next_output_byte = dest->buffer->data();
  dest->pub.free_in_buffer = dest->buffer->size();
}

boolean empty_output_buffer(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<Destination*>(cinfo->dest);
  const std::size_t used = dest->buffer->size();
  try {
    dest->buffer->resize(std::max<std::size_t>(2 * used, 4096));
  } catch (const std::bad_alloc&) {
    dest->grow_failed = true;
  }
  if (dest->grow_failed) {
    // Out of memory: leave through error_exit (no C++ object of ours is alive here).
    cinfo->err->msg_code = JERR_OUT_OF_MEMORY;
    (*cinfo->err->error_exit)(reinterpret_cast<j_common_ptr>(cinfo));
  }
  dest->pub.next_output_byte = dest->buffer->data() + used;
  dest->pub.free_in_buffer = dest->buffer->size() - used;
  return TRUE;
}

void term_destination(j_compress_ptr) {}

}  // namespace

struct StripedCompressor::Context {
  Context() {
    cinfo.err = jpeg_std_error(&errors.pub);
    errors.pub.error_exit = error_exit;
    errors.pub.output_message = output_message;
    errors.message[0] = '\0';
    jpeg_create_compress(&cinfo);
    dest.pub.init_destination = init_destination;
    dest.pub.empty_output_buffer = empty_output_buffer;
    dest.pub.term_destination = term_destination;
    dest.buffer = nullptr;
    dest.grow_failed = false;
    cinfo.dest = &dest.pub;
  }
  ~Context() { jpeg_destroy_compress(&cinfo); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  ErrorManager errors;
  jpeg_compress_struct cinfo;
  Destination dest;
  std::vector<std::uint8_t> padded;  // rows widened to whole blocks, when the width needs it
  std::vector<JSAMPROW> rows[3];     // row pointers of one MCU row, per plane
};

namespace {

// One stripe as a JPEG of its own at the start of `out`; its size goes to `size`. `out` is
// never shrunk, so that the next frame does not clear it again. Only C types and references
// live in this frame, so the longjmp of an error skips no destructor.
bool encode_stripe(j_compress_ptr cinfo, ErrorManager& errors, Destination& dest,
                   std::vector<std::uint8_t>& out, std::size_t& size, const PlanarPicture& picture,
                   const StripeLayout& layout, int stripe, int quality, std::uint8_t* padded,
                   JSAMPROW* const rows[3]) {
  dest.buffer = &out;
  dest.grow_failed = false;
  if (setjmp(errors.jump) != 0) {
    jpeg_abort_compress(cinfo);
    return false;
  }
  const int first_row = layout.first_row(stripe);
  const int stripe_rows = layout.rows(stripe, picture.height);
  cinfo->image_width = static_cast<JDIMENSION>(picture.width);
  cinfo->image_height = static_cast<JDIMENSION>(stripe_rows);
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_YCbCr;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  // TurboJPEG's choice (turbojpeg.c, setCompDefaults): the fast integer DCT below quality 96.
  cinfo->dct_method = quality >= 96 ? JDCT_ISLOW : JDCT_FASTEST;
  cinfo->optimize_coding = FALSE;  // the standard tables: every stripe must share them
  cinfo->raw_data_in = TRUE;
  cinfo->comp_info[0].h_samp_factor = 2;
  cinfo->comp_info[0].v_samp_factor = picture.chroma_422 ? 1 : 2;
  for (int c = 1; c < 3; ++c)
    cinfo->comp_info[c].h_samp_factor = cinfo->comp_info[c].v_samp_factor = 1;
  // The stripes after the first give only their scan data: no JFIF, no tables.
  if (stripe > 0) {
    cinfo->write_JFIF_header = FALSE;
    jpeg_suppress_tables(cinfo, TRUE);
  }
  jpeg_start_compress(cinfo, stripe == 0 ? TRUE : FALSE);

  // TurboJPEG pads as tjCompressFromYUVPlanes does: the last sample of a row repeated to whole
  // blocks, the last row repeated below the picture. Same padding, same coefficients.
  const int plane_width[3] = {picture.width, (picture.width + 1) / 2, (picture.width + 1) / 2};
  const int plane_height[3] = {picture.height,
                               picture.chroma_422 ? picture.height : (picture.height + 1) / 2,
                               picture.chroma_422 ? picture.height : (picture.height + 1) / 2};
  const int mcu_rows[3] = {layout.mcu_height, 8, 8};
  const int chroma_shift = picture.chroma_422 ? 0 : 1;  // plane rows = luma rows >> shift
  int padded_width[3];
  bool pad = false;
  for (int c = 0; c < 3; ++c) {
    padded_width[c] = static_cast<int>(cinfo->comp_info[c].width_in_blocks) * DCTSIZE;
    pad = pad || padded_width[c] != plane_width[c];
  }
  for (int row = first_row; row < first_row + stripe_rows; row += layout.mcu_height) {
    std::uint8_t* scratch = padded;
    for (int c = 0; c < 3; ++c) {
      const int plane_row = c == 0 ? row : row >> chroma_shift;
      for (int j = 0; j < mcu_rows[c]; ++j) {
        const int source_row = std::min(plane_row + j, plane_height[c] - 1);
        const std::uint8_t* source =
            picture.planes[c] + static_cast<std::size_t>(picture.strides[c]) * source_row;
        if (pad) {
          std::memcpy(scratch, source, static_cast<std::size_t>(plane_width[c]));
          std::memset(scratch + plane_width[c], source[plane_width[c] - 1],
                      static_cast<std::size_t>(padded_width[c] - plane_width[c]));
          rows[c][j] = scratch;
          scratch += padded_width[c];
        } else {
          rows[c][j] = const_cast<JSAMPROW>(source);  // libjpeg reads only; its API is not const
        }
      }
    }
    JSAMPARRAY planes[3] = {rows[0], rows[1], rows[2]};
    jpeg_write_raw_data(cinfo, planes, static_cast<JDIMENSION>(layout.mcu_height));
  }
  jpeg_finish_compress(cinfo);
  size = out.size() - dest.pub.free_in_buffer;
  return true;
}

}  // namespace

StripedCompressor::StripedCompressor(int threads) : workers_(threads) {
  for (int i = 0; i < threads; ++i) contexts_.push_back(std::make_unique<Context>());
}

StripedCompressor::~StripedCompressor() = default;

std::size_t StripedCompressor::compress(const PlanarPicture& picture, int quality,
                                        std::span<std::uint8_t> out) {
  const StripeLayout layout = plan_stripes(picture.width, picture.height, picture.chroma_422,
                                           workers_.threads() * kStripesPerThread);
  const auto stripes = static_cast<std::size_t>(layout.stripes);
  if (stripe_jpegs_.size() < stripes) {
    stripe_jpegs_.resize(stripes);
    stripe_sizes_.resize(stripes);
    scans_.reserve(stripes);
  }
  // A stripe's bound: the whole picture's share, with room for the first one's tables.
  const std::size_t bound = JpegEncoder::max_jpeg_size(picture.width, picture.height) /
                                static_cast<std::size_t>(layout.stripes) +
                            4096;

  // Each thread takes the next stripe nobody has taken (StripeWorkers): a worker the
  // scheduler starts late leaves its stripe to the caller, so on a busy machine striping costs
  // little more than one thread.
  workers_.run(layout.stripes, [&](int stripe, int thread) {
    Context& context = *contexts_[static_cast<std::size_t>(thread)];
    const std::size_t padded_row = (static_cast<std::size_t>(picture.width) + 15) / 16 * 16;
    context.padded.resize(padded_row * 2 * 16);  // Y, U, V rows of one MCU row, widened
    for (auto& plane_rows : context.rows) plane_rows.resize(16);
    JSAMPROW* const rows[3] = {context.rows[0].data(), context.rows[1].data(),
                               context.rows[2].data()};
    const auto index = static_cast<std::size_t>(stripe);
    auto& jpeg = stripe_jpegs_[index];
    if (jpeg.size() < bound) jpeg.resize(bound);
    if (!encode_stripe(&context.cinfo, context.errors, context.dest, jpeg, stripe_sizes_[index],
                       picture, layout, stripe, quality, context.padded.data(), rows)) {
      throw EncodeError(std::string("JPEG compression of stripe ") + std::to_string(stripe) +
                        " failed: " + context.errors.message);
    }
  });

  const auto stripe_jpeg = [&](std::size_t i) {
    return std::span<const std::uint8_t>(stripe_jpegs_[i].data(), stripe_sizes_[i]);
  };
  try {
    scans_.clear();
    for (std::size_t i = 1; i < stripes; ++i) scans_.push_back(scan_data(stripe_jpeg(i)));
    const std::size_t size =
        join_stripes(stripe_jpeg(0), scans_, picture.height, layout.restart_interval, out);
    if (size == 0) {
      throw EncodeError("the striped JPEG does not fit in the " + std::to_string(out.size()) +
                        " bytes of the output buffer");
    }
    return size;
  } catch (const std::runtime_error& error) {
    if (dynamic_cast<const EncodeError*>(&error) != nullptr) throw;
    throw EncodeError(std::string("joining the JPEG stripes failed: ") + error.what());
  }
}

}  // namespace camstream
