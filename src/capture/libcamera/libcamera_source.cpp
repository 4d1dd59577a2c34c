#include "capture/libcamera/libcamera_source.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "capture/libcamera/camera_manager.hpp"
#include "capture/libcamera/lc_compat.hpp"

namespace camstream {

namespace {

// FrameError buffers in a row before the camera counts as failed (single ones happen, e.g. on a
// sensor glitch, and only cost a frame).
constexpr int kMaxConsecutiveErrors = 10;

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

}  // namespace

NegotiatedStream negotiate_stream(libcamera::Camera& camera, const CaptureConfig& config,
                                  bool log_changes) {
  const auto requested_flips = camera_logic::flips_for(config.rotation, config.hflip, config.vflip);
  NegotiatedStream out;
  out.config = camera.generateConfiguration(
      std::vector<libcamera::StreamRole>{libcamera::StreamRole::VideoRecording});
  if (!out.config || out.config->empty()) {
    throw CaptureError("camera " + camera.id() + " offers no video configuration");
  }
  libcamera::StreamConfiguration& stream = out.config->at(0);
  std::vector<std::uint32_t> offered;
  for (const auto& format : stream.formats().pixelformats()) offered.push_back(format.fourcc());
  stream.pixelFormat = camera_logic::format_to_request(offered) == camera_logic::kFourccNv12
                           ? libcamera::formats::NV12
                           : libcamera::formats::YUV420;
  stream.size =
      libcamera::Size(static_cast<unsigned>(config.width), static_cast<unsigned>(config.height));
  stream.bufferCount = 4;
  // Full-range BT.601 is what JFIF decoders assume.
  stream.colorSpace = libcamera::ColorSpace::Sycc;
  const std::string requested_format = stream.pixelFormat.toString();
  lc::request_flips(*out.config, requested_flips);

  const auto status = out.config->validate();
  if (status == libcamera::CameraConfiguration::Invalid) {
    throw CaptureError("camera " + camera.id() + " rejects " + std::to_string(config.width) + "x" +
                       std::to_string(config.height) + " " + stream.pixelFormat.toString() +
                       " (see --list-cameras)");
  }
  out.format =
      camera_logic::frame_format_for(stream.pixelFormat.fourcc(), stream.pixelFormat.toString());
  out.width = static_cast<int>(stream.size.width);
  out.height = static_cast<int>(stream.size.height);
  out.stride = static_cast<int>(stream.stride);
  const auto granted = lc::granted_transform(*out.config);
  out.flips = lc::flips_of(granted);

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
    if (status == libcamera::CameraConfiguration::Adjusted) {
      spdlog::warn("camera {} adjusted the request {}x{} {} to {}", camera.id(), config.width,
                   config.height, requested_format, stream.toString());
    }
    if (!(stream.colorSpace && *stream.colorSpace == libcamera::ColorSpace::Sycc)) {
      spdlog::warn("camera {} gives colour space {} instead of sYCC (colours may look flat)",
                   camera.id(), colour_space_text(stream.colorSpace));
    }
    if (out.flips != requested_flips || !!(granted & libcamera::Transform::Transpose)) {
      spdlog::warn("camera {} cannot apply orientation {}; it gives {}", camera.id(),
                   camera_logic::describe_flips(requested_flips),
                   libcamera::transformToString(granted));
    }
    if (!out.frame_duration_us) {
      spdlog::info("camera {} has no frame rate control: pacing {} ms in software", camera.id(),
                   config.interval.count() / 1000.0);
    } else if (out.interval != config.interval) {
      spdlog::warn("camera {} cannot go faster than one frame per {} ms (asked {} ms)", camera.id(),
                   out.interval.count() / 1000.0, config.interval.count() / 1000.0);
    }
  }
  return out;
}

LibcameraSource::LibcameraSource(const CaptureConfig& config,
                                 std::shared_ptr<libcamera::Camera> camera)
    : config_(config), camera_id_(camera->id()) {
  const auto probed = negotiate_stream(*camera, config_, false);
  update_info(probed);
  spdlog::debug("camera {} would give {}x{} every {} ms", camera_id_, probed.width, probed.height,
                probed.interval.count() / 1000.0);
}

LibcameraSource::~LibcameraSource() {
  stop();
  if (worker_.joinable()) {
    // Destroyed from its own frame callback: the thread cannot join itself.
    if (worker_.get_id() == std::this_thread::get_id()) {
      worker_.detach();
    } else {
      worker_.join();
    }
  }
}

SourceInfo LibcameraSource::info() const {
  std::lock_guard lock(info_mutex_);
  return info_;
}

void LibcameraSource::update_info(const NegotiatedStream& stream) {
  std::lock_guard lock(info_mutex_);
  info_.name = "libcamera";
  info_.camera_id = camera_id_;
  info_.width = stream.width & ~1;
  info_.height = stream.height & ~1;
  info_.interval = stream.interval;
}

void LibcameraSource::start(FrameCallback on_frame, ErrorCallback on_error) {
  if (worker_.joinable() && worker_.get_id() == std::this_thread::get_id()) {
    throw CaptureError("the libcamera source cannot be restarted from its own callback");
  }
  stop();
  // A worker whose stop() came from its own callback finished after that callback returned.
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = false;
    failure_.reset();
    failure_reported_ = false;
    ready_.clear();
  }
  last_delivered_ns_.reset();
  consecutive_errors_ = 0;
  frame_duration_checked_ = false;
  on_frame_ = std::move(on_frame);
  on_error_ = std::move(on_error);

  try {
    open_camera();
    allocate_buffers();
    camera_->requestCompleted.connect(this, &LibcameraSource::on_request_completed);
    camera_->disconnected.connect(this, &LibcameraSource::on_disconnected);

    libcamera::ControlList controls(libcamera::controls::controls);
    if (stream_.frame_duration_us) {
      const std::array<std::int64_t, 2> limits{*stream_.frame_duration_us,
                                               *stream_.frame_duration_us};
      controls.set(libcamera::controls::FrameDurationLimits,
                   libcamera::Span<const std::int64_t, 2>(limits));
    }
    if (const int ret = camera_->start(&controls); ret < 0) {
      throw CaptureError("cannot start camera " + camera_id_ + ": " + errno_text(ret));
    }
    camera_running_ = true;
    worker_ = std::thread(&LibcameraSource::run_worker, this);
    for (auto& slot : slots_) {
      if (const int ret = camera_->queueRequest(slot.request.get()); ret < 0) {
        throw CaptureError("cannot queue a capture request on camera " + camera_id_ + ": " +
                           errno_text(ret));
      }
    }
  } catch (...) {
    stop();
    throw;
  }
}

void LibcameraSource::open_camera() {
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
  stream_.width = static_cast<int>(stream.size.width);
  stream_.height = static_cast<int>(stream.size.height);
  stream_.stride = static_cast<int>(stream.stride);
  update_info(stream_);
  spdlog::info("camera {} ({}): {} stride {}, {} buffers, one frame per {} ms{}, orientation {}",
               camera_id_, lc::model_of(*camera_), stream.toString(), stream.stride,
               stream.bufferCount, stream_.interval.count() / 1000.0,
               stream_.frame_duration_us
                   ? " (FrameDurationLimits " + std::to_string(*stream_.frame_duration_us) + " us)"
                   : std::string(" (software pacing)"),
               camera_logic::describe_flips(stream_.flips));
}

void LibcameraSource::allocate_buffers() {
  libcamera::Stream* stream = stream_.config->at(0).stream();
  allocator_ = std::make_unique<libcamera::FrameBufferAllocator>(camera_);
  std::vector<libcamera::FrameBuffer*> buffers;
  if (const int ret = allocator_->allocate(stream); ret < 0) {
    // The virtual pipeline exports buffers only from /dev/dma_heap or /dev/udmabuf; it takes
    // memfd buffers too. V4L2 pipelines would reject those when queued, which then names it.
    spdlog::warn("libcamera cannot allocate buffers for camera {} ({}); using memfd buffers",
                 camera_id_, errno_text(ret));
    allocator_.reset();
    allocate_own_buffers(std::max(stream_.config->at(0).bufferCount, 2u));
    for (const auto& buffer : own_buffers_) buffers.push_back(buffer.get());
  } else {
    for (const auto& buffer : allocator_->buffers(stream)) buffers.push_back(buffer.get());
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
    slot.request = camera_->createRequest(i);
    if (!slot.request) throw CaptureError("cannot create a request on camera " + camera_id_);
    if (const int ret = slot.request->addBuffer(stream, buffer); ret < 0) {
      throw CaptureError("cannot attach a buffer to a request: " + errno_text(ret));
    }
    slots_.push_back(std::move(slot));
  }
  spdlog::debug("camera {}: {} buffers mapped", camera_id_, slots_.size());
}

void LibcameraSource::allocate_own_buffers(unsigned count) {
  const std::size_t size = camera_logic::own_buffer_size(
      stream_.config->at(0).frameSize, stream_.stride, stream_.format, stream_.height);
  for (unsigned i = 0; i < count; ++i) {
    int fd = ::memfd_create("camstream-frame", MFD_CLOEXEC);
    if (fd < 0) throw CaptureError(std::string("memfd_create failed: ") + std::strerror(errno));
    libcamera::FrameBuffer::Plane plane;
    plane.fd = libcamera::SharedFD(std::move(fd));  // owns it from here
    plane.offset = 0;
    plane.length = static_cast<unsigned>(size);
    if (::ftruncate(plane.fd.get(), static_cast<off_t>(size)) != 0) {
      throw CaptureError(std::string("cannot size a memfd buffer: ") + std::strerror(errno));
    }
    own_buffers_.push_back(std::make_unique<libcamera::FrameBuffer>(
        std::vector<libcamera::FrameBuffer::Plane>{plane}));
  }
}

void LibcameraSource::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
    ready_.clear();
  }
  queue_wake_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
  release_camera();
}

void LibcameraSource::release_camera() noexcept {
  if (!camera_) return;
  if (camera_running_) {
    // Cancels the queued requests synchronously; the completion slot ignores them.
    camera_->stop();
    camera_running_ = false;
  }
  camera_->requestCompleted.disconnect(this);
  camera_->disconnected.disconnect(this);
  slots_.clear();  // requests and mappings go before the buffers they point at
  if (allocator_ && stream_.config) allocator_->free(stream_.config->at(0).stream());
  allocator_.reset();
  own_buffers_.clear();
  stream_.config.reset();
  if (acquired_) {
    camera_->release();
    acquired_ = false;
    spdlog::debug("camera {} released", camera_id_);
  }
  camera_.reset();
}

void LibcameraSource::on_request_completed(libcamera::Request* request) {
  if (request->status() == libcamera::Request::RequestCancelled) return;
  libcamera::Request* dropped = nullptr;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ || failure_) return;
    // When the worker is behind, the oldest frame goes straight back to the camera.
    dropped = ready_.push(request).value_or(nullptr);
  }
  queue_wake_.notify_one();
  if (dropped != nullptr) requeue(dropped);
}

void LibcameraSource::on_disconnected() {
  fail("camera " + camera_id_ + " was disconnected");
}

void LibcameraSource::fail(const std::string& reason) {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ || failure_) return;
    failure_ = reason;
  }
  spdlog::error("libcamera source: {}", reason);
  queue_wake_.notify_all();
}

void LibcameraSource::run_worker() {
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

void LibcameraSource::process(libcamera::Request* request) {
  const auto& buffers = request->buffers();
  const auto found = buffers.find(stream_.config->at(0).stream());
  if (found == buffers.end()) return requeue(request);
  const libcamera::FrameMetadata& metadata = found->second->metadata();
  // Only FrameSuccess is a picture: FrameError is a failed capture, and from 0.5.2 the Pi marks
  // its exposure warm-up frames FrameStartup.
  if (metadata.status != libcamera::FrameMetadata::FrameSuccess) {
    if (metadata.status == libcamera::FrameMetadata::FrameError &&
        ++consecutive_errors_ >= kMaxConsecutiveErrors) {
      return fail("camera " + camera_id_ + " failed " + std::to_string(consecutive_errors_) +
                  " captures in a row");
    }
    return requeue(request);
  }
  consecutive_errors_ = 0;
  const auto monotonic_now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  // A pipeline that leaves the timestamp at 0 would otherwise never pass the pacing check.
  const std::uint64_t timestamp_ns = metadata.timestamp != 0 ? metadata.timestamp : monotonic_now;
  if (!camera_logic::should_deliver(timestamp_ns, last_delivered_ns_, stream_.interval)) {
    return requeue(request);
  }
  last_delivered_ns_ = timestamp_ns;

  if (!frame_duration_checked_) {
    frame_duration_checked_ = true;
    const libcamera::ControlList& request_metadata = request->metadata();
    if (const auto duration = request_metadata.get(libcamera::controls::FrameDuration)) {
      spdlog::info("camera {} reports a frame duration of {} us", camera_id_, *duration);
      if (*duration > stream_.interval.count() * 21 / 20) {
        std::lock_guard lock(info_mutex_);
        info_.interval = std::chrono::microseconds(*duration);
      }
    }
  }

  const Slot& slot = slots_[request->cookie()];
  for (const auto& mapping : slot.mappings) mapping.begin_cpu_read();
  FrameView view = slot.view;
  view.sequence = metadata.sequence;
  view.timestamp =
      camera_logic::to_wall_clock(timestamp_ns, monotonic_now, std::chrono::system_clock::now());
  try {
    on_frame_(view);
  } catch (const std::exception& e) {
    spdlog::error("frame callback failed: {}", e.what());
  }
  {
    // stop() called from inside the callback has already freed the buffers.
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return;
  }
  for (const auto& mapping : slot.mappings) mapping.end_cpu_read();
  requeue(request);
}

void LibcameraSource::requeue(libcamera::Request* request) {
  request->reuse(libcamera::Request::ReuseBuffers);
  if (const int ret = camera_->queueRequest(request); ret < 0) {
    fail("cannot requeue a capture request on camera " + camera_id_ + ": " + errno_text(ret));
  }
}

}  // namespace camstream
