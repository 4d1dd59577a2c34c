#include "libcamera_source.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <iterator>
#include <utility>

#include "camera_manager.hpp"
#include "lc_compat.hpp"

namespace camstream {

namespace {

// FrameError buffers in a row before the camera counts as failed (single ones happen, e.g. on a
// sensor glitch, and only cost a frame).
constexpr int kMaxConsecutiveErrors = 10;

// For logs: 33.333 ms.
double log_ms(std::chrono::microseconds interval) {
  return std::chrono::duration<double, std::milli>(interval).count();
}

std::string errno_text(int negative_errno) {
  return std::strerror(-negative_errno);
}

std::optional<std::int64_t> scalar_int64(const libcamera::ControlValue& value) {
  if (value.type() != libcamera::ControlTypeInteger64 || value.isArray()) return std::nullopt;
  return value.get<std::int64_t>();
}

std::string colour_space_text(const std::optional<libcamera::ColorSpace>& colour_space) {
  return colour_space ? colour_space->toString() : "unset";
}

bool is_limited_range(const std::optional<libcamera::ColorSpace>& colour_space) {
  return colour_space && colour_space->range == libcamera::ColorSpace::Range::Limited;
}

std::vector<camera_logic::FormatOffer> offers_of(const libcamera::StreamFormats& formats) {
  std::vector<camera_logic::FormatOffer> offers;
  for (const auto& format : formats.pixelformats()) {
    camera_logic::FormatOffer offer;
    offer.fourcc = format.fourcc();
    for (const auto& size : formats.sizes(format)) offer.sizes.push_back({size.width, size.height});
    const libcamera::SizeRange range = formats.range(format);
    offer.range = camera_logic::SizeRange{{range.min.width, range.min.height},
                                          {range.max.width, range.max.height},
                                          range.hStep,
                                          range.vStep};
    offers.push_back(std::move(offer));
  }
  return offers;
}

std::uint64_t monotonic_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

NegotiatedStream negotiate_stream(libcamera::Camera& camera, const CaptureConfig& config,
                                  bool log_changes) {
  const Orientation wanted{config.rotation, config.hflip, config.vflip};
  const bool ignores_orientation = lc::ignores_orientation(camera);
  auto requested_flips = camera_logic::camera_flips(wanted, ignores_orientation);
  NegotiatedStream out;
  out.config = camera.generateConfiguration(
      std::vector<libcamera::StreamRole>{libcamera::StreamRole::VideoRecording});
  if (!out.config || out.config->empty()) {
    throw CaptureError("camera " + camera.id() + " offers no video configuration");
  }
  libcamera::StreamConfiguration& stream = out.config->at(0);
  auto offers = offers_of(stream.formats());
  if (!is_identity(wanted) && config.format == "auto") {
    // Turning the camera's own JPEG costs a decode per frame: ask for raw frames when the
    // camera gives any.
    std::vector<camera_logic::FormatOffer> raw;
    std::copy_if(offers.begin(), offers.end(), std::back_inserter(raw),
                 [](const auto& offer) { return offer.fourcc != camera_logic::kFourccMjpeg; });
    if (!raw.empty()) offers = std::move(raw);
  }
  const camera_logic::Size requested_size{static_cast<unsigned>(config.width),
                                          static_cast<unsigned>(config.height)};
  stream.pixelFormat = libcamera::PixelFormat(
      camera_logic::choose_format(offers, requested_size, config.interval, config.format));
  // A JPEG is turned whole by the encoding stage after decoding (nothing by the camera).
  if (stream.pixelFormat.fourcc() == camera_logic::kFourccMjpeg) requested_flips = {};
  stream.size = libcamera::Size(requested_size.width, requested_size.height);
  stream.bufferCount = 4;
  // Full-range BT.601 is what JFIF decoders assume.
  stream.colorSpace = libcamera::ColorSpace::Sycc;
  const camera_logic::StreamSettings requested{stream.pixelFormat.toString(), requested_size,
                                               colour_space_text(stream.colorSpace),
                                               camera_logic::describe_flips(requested_flips)};
  lc::request_flips(*out.config, requested_flips);

  const auto status = out.config->validate();
  if (status == libcamera::CameraConfiguration::Invalid) {
    throw CaptureError("camera " + camera.id() + " rejects " + std::to_string(config.width) + "x" +
                       std::to_string(config.height) + " " + stream.pixelFormat.toString() +
                       " (see --list-cameras)");
  }
  out.format =
      camera_logic::frame_format_for(stream.pixelFormat.fourcc(), stream.pixelFormat.toString());
  out.range = camera_logic::frame_range(out.format, is_limited_range(stream.colorSpace));
  out.width = static_cast<int>(stream.size.width);
  out.height = static_cast<int>(stream.size.height);
  out.stride = static_cast<int>(stream.stride);
  const auto granted = lc::granted_transform(*out.config);
  out.flips = ignores_orientation ? camera_logic::Flips{} : lc::flips_of(granted);
  out.software = camera_logic::software_orientation(wanted, out.flips);
  if (config.format != "auto" &&
      stream.pixelFormat.fourcc() != camera_logic::camera_format_fourcc(config.format)) {
    throw CameraFormatError("--camera-format " + config.format + ": camera " + camera.id() +
                            " gives " + stream.pixelFormat.toString() + " at " +
                            std::to_string(out.width) + "x" + std::to_string(out.height) +
                            " instead");
  }

  std::optional<std::int64_t> min_us, max_us;
  const auto& controls = camera.controls();
  if (const auto limits = controls.find(&libcamera::controls::FrameDurationLimits);
      limits != controls.end()) {
    min_us = scalar_int64(limits->second.min());
    max_us = scalar_int64(limits->second.max());
    out.frame_duration_us = camera_logic::frame_duration_us(config.interval, min_us, max_us);
  }
  out.interval = camera_logic::granted_interval(config.interval, min_us);

  if (log_changes) {
    const camera_logic::StreamSettings given{stream.pixelFormat.toString(),
                                             {stream.size.width, stream.size.height},
                                             colour_space_text(stream.colorSpace),
                                             !!(granted & libcamera::Transform::Transpose)
                                                 ? libcamera::transformToString(granted)
                                                 : camera_logic::describe_flips(out.flips)};
    if (const auto changes = camera_logic::describe_changes(requested, given); !changes.empty()) {
      spdlog::warn("camera {} changed the request: {}", camera.id(), changes);
    }
    if (out.range == ColorRange::Limited) {
      spdlog::info("camera {} gives limited-range YUV ({}): expanded to full range when encoding",
                   camera.id(), colour_space_text(stream.colorSpace));
    }
    if (!out.frame_duration_us) {
      spdlog::info("camera {} has no frame rate control: pacing {} ms in software", camera.id(),
                   log_ms(config.interval));
    } else if (out.interval != config.interval) {
      spdlog::warn("camera {} cannot go faster than one frame per {} ms (asked {} ms)", camera.id(),
                   log_ms(out.interval), log_ms(config.interval));
    }
  }
  return out;
}

// One run of the camera: acquired and configured by start(), released by release().
class LibcameraSource::Capture {
 public:
  Capture(const CaptureConfig& config, std::string camera_id,
          std::shared_ptr<SharedSourceInfo> info, std::shared_ptr<SourceControls> controls,
          FrameCallback on_frame, ErrorCallback on_error)
      : config_(config),
        camera_id_(std::move(camera_id)),
        info_(std::move(info)),
        controls_(std::move(controls)),
        on_frame_(std::move(on_frame)),
        on_error_(std::move(on_error)),
        pacer_(config.interval) {}
  ~Capture() { release(); }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Acquires, configures and starts the camera with every request queued. Throws CaptureError
  // (the camera is then released again).
  void start();
  // Frames stop reaching the worker, which returns; callable from any thread, several times.
  void request_stop();
  // Stops and releases the camera and frees the buffers. Only once no worker is inside
  // process(), or from the worker itself (process() then touches nothing after the callback).
  void release() noexcept;
  void run_worker();

 private:
  // One camera buffer with its request and its mapped view.
  struct Slot {
    std::unique_ptr<libcamera::Request> request;
    std::vector<DmabufMapping> mappings;
    FrameView view;  // sequence, timestamp and (MJPEG) size are filled in per frame
  };

  void open_camera();
  void allocate_buffers();
  void allocate_own_buffers(unsigned count);
  void on_request_completed(libcamera::Request* request);  // libcamera's thread: never blocks
  void on_disconnected();                                  // libcamera's thread
  void process(libcamera::Request* request);
  int requeue(libcamera::Request* request);
  void fail(const std::string& reason);
  void update_info();

  const CaptureConfig config_;
  const std::string camera_id_;
  const std::shared_ptr<SharedSourceInfo> info_;
  const std::shared_ptr<SourceControls> controls_;
  const FrameCallback on_frame_;
  const ErrorCallback on_error_;

  std::shared_ptr<libcamera::Camera> camera_;
  bool acquired_ = false;
  bool camera_running_ = false;
  NegotiatedStream stream_;
  libcamera::Stream* libcamera_stream_ = nullptr;
  std::unique_ptr<libcamera::FrameBufferAllocator> allocator_;
  std::vector<std::unique_ptr<libcamera::FrameBuffer>> own_buffers_;  // when export fails
  std::vector<Slot> slots_;

  // Completed requests waiting for the worker: a fixed ring (no allocation per frame).
  static constexpr std::size_t kQueueDepth = 2;
  std::mutex queue_mutex_;
  std::condition_variable queue_wake_;
  camera_logic::DropOldestRing<libcamera::Request*, kQueueDepth> ready_;
  bool stopping_ = false;
  std::optional<std::string> failure_;
  bool failure_reported_ = false;

  // libcamera's thread only (completions arrive one at a time).
  camera_logic::FramePacer pacer_;
  int consecutive_errors_ = 0;

  // Worker only.
  bool frame_duration_checked_ = false;
  FrameTransformer transformer_;  // its buffer grows only with the picture
};

void LibcameraSource::Capture::start() {
  try {
    open_camera();
    allocate_buffers();
    camera_->requestCompleted.connect(this, &Capture::on_request_completed);
    camera_->disconnected.connect(this, &Capture::on_disconnected);

    libcamera::ControlList controls(libcamera::controls::controls);
    if (stream_.frame_duration_us) {
      const std::array<std::int64_t, 2> limits{*stream_.frame_duration_us,
                                               *stream_.frame_duration_us};
      controls.set(libcamera::controls::FrameDurationLimits,
                   libcamera::Span<const std::int64_t, 2>(limits));
    }
    controls_->add_all_to(controls);  // what was set before, kept across stop and start
    if (const int ret = camera_->start(&controls); ret < 0) {
      throw CaptureError("cannot start camera " + camera_id_ + ": " + errno_text(ret));
    }
    camera_running_ = true;
    for (auto& slot : slots_) {
      if (const int ret = camera_->queueRequest(slot.request.get()); ret < 0) {
        throw CaptureError("cannot queue a capture request on camera " + camera_id_ + ": " +
                           errno_text(ret));
      }
    }
  } catch (...) {
    request_stop();
    release();
    throw;
  }
}

void LibcameraSource::Capture::open_camera() {
  camera_ = lc::camera_manager().get(camera_id_);
  if (!camera_) {
    throw CaptureError("camera " + camera_id_ +
                       " is gone (disconnected?); run camstream --list-cameras");
  }
  if (const int ret = camera_->acquire(); ret < 0) {
    throw CaptureError(ret == -EBUSY
                           ? "camera " + camera_id_ + " is busy: another program uses it"
                           : "cannot acquire camera " + camera_id_ + ": " + errno_text(ret));
  }
  acquired_ = true;

  stream_ = negotiate_stream(*camera_, config_, true);
  if (const int ret = camera_->configure(stream_.config.get()); ret < 0) {
    throw CaptureError("cannot configure camera " + camera_id_ + ": " + errno_text(ret));
  }
  // configure() may settle the stride and size further.
  const auto& stream = stream_.config->at(0);
  libcamera_stream_ = stream.stream();
  stream_.width = static_cast<int>(stream.size.width);
  stream_.height = static_cast<int>(stream.size.height);
  stream_.stride = static_cast<int>(stream.stride);
  pacer_ = camera_logic::FramePacer(stream_.interval);
  controls_->adopt_configured(CameraControls(camera_->controls(), zoom_maximum_of(*camera_)));
  update_info();
  spdlog::info(
      "camera {} ({}) acquired: {} stride {}, {} buffers, one frame per {} ms{}, "
      "orientation {} by the camera, {} in software",
      camera_id_, lc::model_of(*camera_), stream.toString(), stream.stride, stream.bufferCount,
      log_ms(stream_.interval),
      stream_.frame_duration_us
          ? " (FrameDurationLimits " + std::to_string(*stream_.frame_duration_us) + " us)"
          : std::string(" (software pacing)"),
      camera_logic::describe_flips(stream_.flips), describe(stream_.software));
}

void LibcameraSource::Capture::update_info() {
  std::lock_guard lock(info_->mutex);
  const PictureSize size = turned_size(stream_.width & ~1, stream_.height & ~1, stream_.software);
  info_->info.width = size.width;
  info_->info.height = size.height;
  info_->info.interval = stream_.interval;
}

void LibcameraSource::Capture::allocate_buffers() {
  allocator_ = std::make_unique<libcamera::FrameBufferAllocator>(camera_);
  std::vector<libcamera::FrameBuffer*> buffers;
  if (const int ret = allocator_->allocate(libcamera_stream_); ret < 0) {
    // The virtual pipeline exports buffers only from /dev/dma_heap or /dev/udmabuf; it takes
    // memfd buffers too. V4L2 pipelines would reject those when queued, which then names it.
    spdlog::warn("libcamera cannot allocate buffers for camera {} ({}); using memfd buffers",
                 camera_id_, errno_text(ret));
    allocator_.reset();
    allocate_own_buffers(std::max(stream_.config->at(0).bufferCount, 2u));
    for (const auto& buffer : own_buffers_) buffers.push_back(buffer.get());
  } else {
    for (const auto& buffer : allocator_->buffers(libcamera_stream_)) {
      buffers.push_back(buffer.get());
    }
  }
  slots_.reserve(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    libcamera::FrameBuffer* buffer = buffers[i];
    std::vector<camera_logic::PlaneDescription> planes;
    for (const auto& plane : buffer->planes()) {
      if (plane.offset == libcamera::FrameBuffer::Plane::kInvalidOffset) {
        throw CaptureError("camera " + camera_id_ + " gives a buffer plane without offset");
      }
      planes.push_back({plane.fd.get(), plane.offset, plane.length});
    }
    const auto layout = camera_logic::compute_buffer_layout(planes, stream_.stride, stream_.format,
                                                            stream_.width, stream_.height);
    Slot slot;
    slot.mappings.reserve(layout.mappings.size());
    std::vector<const std::uint8_t*> bases;
    for (const auto& range : layout.mappings) {
      slot.mappings.emplace_back(range.fd, range.length);
      bases.push_back(slot.mappings.back().data());
    }
    slot.view = camera_logic::make_frame_view(layout, bases);
    slot.view.range = stream_.range;
    slot.request = camera_->createRequest(i);
    if (!slot.request) throw CaptureError("cannot create a request on camera " + camera_id_);
    if (const int ret = slot.request->addBuffer(libcamera_stream_, buffer); ret < 0) {
      throw CaptureError("cannot attach a buffer to a request: " + errno_text(ret));
    }
    slots_.push_back(std::move(slot));
  }
  spdlog::debug("camera {}: {} buffers mapped", camera_id_, slots_.size());
}

void LibcameraSource::Capture::allocate_own_buffers(unsigned count) {
  const auto shape =
      camera_logic::own_buffer_planes(stream_.format, stream_.stride, stream_.width, stream_.height,
                                      stream_.config->at(0).frameSize);
  for (unsigned i = 0; i < count; ++i) {
    int fd = ::memfd_create("camstream-frame", MFD_CLOEXEC);
    if (fd < 0) throw CaptureError(std::string("memfd_create failed: ") + std::strerror(errno));
    // SharedFD(int&&) takes the descriptor; SharedFD(const int&) would dup it.
    const libcamera::SharedFD memfd(std::move(fd));  // NOLINT(performance-move-const-arg)
    if (::ftruncate(memfd.get(), static_cast<off_t>(shape.size)) != 0) {
      throw CaptureError(std::string("cannot size a memfd buffer: ") + std::strerror(errno));
    }
    // One Plane per colour plane, all on the one memfd at their offsets.
    std::vector<libcamera::FrameBuffer::Plane> planes;
    for (const auto& described : shape.planes) {
      libcamera::FrameBuffer::Plane plane;
      plane.fd = memfd;
      plane.offset = described.offset;
      plane.length = described.length;
      planes.push_back(plane);
    }
    own_buffers_.push_back(std::make_unique<libcamera::FrameBuffer>(planes));
  }
}

void LibcameraSource::Capture::request_stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
    ready_.clear();
  }
  queue_wake_.notify_all();
}

void LibcameraSource::Capture::release() noexcept {
  if (!camera_) return;
  if (camera_running_) {
    // Cancels the queued requests synchronously; the completion slot ignores them.
    camera_->stop();
    camera_running_ = false;
  }
  camera_->requestCompleted.disconnect(this);
  camera_->disconnected.disconnect(this);
  slots_.clear();  // requests and mappings go before the buffers they point at
  if (allocator_ && libcamera_stream_) allocator_->free(libcamera_stream_);
  allocator_.reset();
  own_buffers_.clear();
  stream_.config.reset();
  libcamera_stream_ = nullptr;
  if (acquired_) {
    camera_->release();
    acquired_ = false;
    spdlog::info("camera {} released", camera_id_);
  }
  camera_.reset();
}

void LibcameraSource::Capture::on_request_completed(libcamera::Request* request) {
  if (request->status() == libcamera::Request::RequestCancelled) return;
  // Frames that are not delivered go straight back to the camera from here: no wake-up of the
  // worker, no mapping, no cache sync.
  bool deliver = false;
  const auto& buffers = request->buffers();
  if (const auto found = buffers.find(libcamera_stream_); found != buffers.end()) {
    const libcamera::FrameMetadata& metadata = found->second->metadata();
    // Only FrameSuccess is a picture: FrameError is a failed capture, and from 0.5.2 the Pi marks
    // its exposure warm-up frames FrameStartup.
    if (metadata.status == libcamera::FrameMetadata::FrameSuccess) {
      consecutive_errors_ = 0;
      // A pipeline that leaves the timestamp at 0 would otherwise never pass the pacing.
      deliver = pacer_.accept(metadata.timestamp != 0 ? metadata.timestamp : monotonic_now_ns());
    } else if (metadata.status == libcamera::FrameMetadata::FrameError &&
               ++consecutive_errors_ >= kMaxConsecutiveErrors) {
      return fail("camera " + camera_id_ + " failed " + std::to_string(consecutive_errors_) +
                  " captures in a row");
    }
  }
  int requeue_result = 0;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ || failure_) return;
    if (deliver) {
      // When the worker is behind, the oldest frame goes back to the camera instead.
      request = ready_.push(request).value_or(nullptr);
    }
    // Requeued under the lock: once stop is requested, nothing is queued to the camera.
    if (request != nullptr) requeue_result = requeue(request);
  }
  if (deliver) queue_wake_.notify_one();
  if (requeue_result < 0) {
    fail("cannot requeue a capture request on camera " + camera_id_ + ": " +
         errno_text(requeue_result));
  }
}

void LibcameraSource::Capture::on_disconnected() {
  fail("camera " + camera_id_ + " was disconnected");
}

void LibcameraSource::Capture::fail(const std::string& reason) {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ || failure_) return;
    failure_ = reason;
  }
  spdlog::error("libcamera source: {}", reason);
  queue_wake_.notify_all();
}

void LibcameraSource::Capture::run_worker() {
  for (;;) {
    libcamera::Request* request = nullptr;
    std::optional<std::string> report;
    {
      std::unique_lock lock(queue_mutex_);
      queue_wake_.wait(lock, [&] {
        return stopping_ || (!failure_ && !ready_.empty()) || (failure_ && !failure_reported_);
      });
      if (stopping_) return;
      if (failure_) {
        failure_reported_ = true;
        ready_.clear();
        report = failure_;
      } else {
        request = *ready_.pop();
      }
    }
    if (report) {
      if (on_error_) on_error_(*report);
      continue;
    }
    process(request);
  }
}

void LibcameraSource::Capture::process(libcamera::Request* request) {
  const libcamera::FrameBuffer* buffer = request->findBuffer(libcamera_stream_);
  const libcamera::FrameMetadata& metadata = buffer->metadata();
  const std::uint64_t now_ns = monotonic_now_ns();
  const std::uint64_t timestamp_ns = metadata.timestamp != 0 ? metadata.timestamp : now_ns;

  if (!frame_duration_checked_) {
    frame_duration_checked_ = true;
    const libcamera::ControlList& request_metadata = request->metadata();
    if (const auto duration = request_metadata.get(libcamera::controls::FrameDuration)) {
      spdlog::info("camera {} reports a frame duration of {} us", camera_id_, *duration);
      if (*duration > stream_.interval.count() * 21 / 20) {
        std::lock_guard lock(info_->mutex);
        info_->info.interval = std::chrono::microseconds(*duration);
      }
    }
  }

  const Slot& slot = slots_[request->cookie()];
  FrameView view = slot.view;
  if (view.format == PixelFormat::MJPEG) {
    // The JPEG is as long as the camera says it filled, never longer than the plane.
    const auto planes = metadata.planes();
    if (planes.empty() || planes[0].bytesused == 0) {
      std::lock_guard lock(queue_mutex_);
      if (stopping_) return;
      if (const int ret = requeue(request); ret < 0) {
        fail("cannot requeue a capture request on camera " + camera_id_ + ": " + errno_text(ret));
      }
      return;
    }
    view.planes[0].size = std::min<std::size_t>(view.planes[0].size, planes[0].bytesused);
  }
  for (const auto& mapping : slot.mappings) mapping.begin_cpu_read();
  view.sequence = metadata.sequence;
  view.timestamp =
      camera_logic::to_wall_clock(timestamp_ns, now_ns, std::chrono::system_clock::now());
  try {
    // A JPEG goes on unturned: the encoding stage decodes and turns it.
    on_frame_(is_identity(stream_.software) || view.format == PixelFormat::MJPEG
                  ? view
                  : transformer_.apply(view, stream_.software));
  } catch (const std::exception& e) {
    spdlog::error("frame callback failed: {}", e.what());
  }
  int requeue_result = 0;
  {
    std::lock_guard lock(queue_mutex_);
    // A stop from inside the callback may have freed the buffers already: touch nothing.
    if (stopping_) return;
    for (const auto& mapping : slot.mappings) mapping.end_cpu_read();
    requeue_result = requeue(request);
  }
  if (requeue_result < 0) {
    fail("cannot requeue a capture request on camera " + camera_id_ + ": " +
         errno_text(requeue_result));
  }
}

int LibcameraSource::Capture::requeue(libcamera::Request* request) {
  request->reuse(libcamera::Request::ReuseBuffers);
  controls_->add_changes_to(request->controls());
  return camera_->queueRequest(request);
}

LibcameraSource::LibcameraSource(const CaptureConfig& config,
                                 const std::shared_ptr<libcamera::Camera>& camera)
    : config_(config),
      camera_id_(camera->id()),
      info_(std::make_shared<SharedSourceInfo>()),
      controls_(std::make_shared<SourceControls>(
          CameraControls(camera->controls(), zoom_maximum_of(*camera)))) {
  const auto probed = negotiate_stream(*camera, config_, false);
  const PictureSize size = turned_size(probed.width & ~1, probed.height & ~1, probed.software);
  info_->info.name = "libcamera";
  info_->info.camera_id = camera_id_;
  info_->info.width = size.width;
  info_->info.height = size.height;
  info_->info.interval = probed.interval;
  spdlog::debug("camera {} would give {}x{} every {} ms", camera_id_, probed.width, probed.height,
                log_ms(probed.interval));
}

LibcameraSource::~LibcameraSource() {
  stop();
}

SourceInfo LibcameraSource::info() const {
  std::lock_guard lock(info_->mutex);
  return info_->info;
}

ControlMap LibcameraSource::controls() const {
  return controls_->controls();
}

std::optional<ControlError> LibcameraSource::set_controls(
    const std::map<std::string, ControlValue>& values) {
  return controls_->set(values);
}

void LibcameraSource::start(FrameCallback on_frame, ErrorCallback on_error) {
  if (worker_.joinable() && worker_.get_id() == std::this_thread::get_id()) {
    throw CaptureError("the libcamera source cannot be restarted from its own callback");
  }
  stop();
  auto capture = std::make_shared<Capture>(config_, camera_id_, info_, controls_,
                                           std::move(on_frame), std::move(on_error));
  capture->start();
  capture_ = capture;
  // The worker keeps its own reference: see capture_.
  worker_ = std::thread([capture = std::move(capture)] { capture->run_worker(); });
}

void LibcameraSource::stop() {
  if (!capture_) return;
  capture_->request_stop();
  if (worker_.joinable()) {
    if (worker_.get_id() == std::this_thread::get_id()) {
      // From the frame callback: the worker returns once the callback does, holding its own
      // reference to the capture, so nothing it touches goes away under it.
      worker_.detach();
    } else {
      worker_.join();
    }
  }
  capture_->release();
  capture_.reset();
}

}  // namespace camstream
