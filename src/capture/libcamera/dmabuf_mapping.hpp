// A read-only CPU mapping of one dmabuf, made once when buffers are allocated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace camstream {

class DmabufMapping {
 public:
  // Maps `length` bytes from offset 0 (plane offsets are added to data(), never passed to
  // mmap: they are rarely page-aligned). Throws CaptureError.
  DmabufMapping(int fd, std::size_t length);
  ~DmabufMapping();
  DmabufMapping(DmabufMapping&& other) noexcept;
  DmabufMapping& operator=(DmabufMapping&&) = delete;
  DmabufMapping(const DmabufMapping&) = delete;
  DmabufMapping& operator=(const DmabufMapping&) = delete;

  const std::uint8_t* data() const { return static_cast<const std::uint8_t*>(address_); }
  std::size_t length() const { return length_; }

  // DMA_BUF_IOCTL_SYNC around CPU reads, for cache coherency on non-coherent SoCs. Buffers that
  // are not dmabufs (memfd) answer ENOTTY or EINVAL: that is fine and ignored.
  void begin_cpu_read() const;
  void end_cpu_read() const;

 private:
  void sync(std::uint64_t flags) const;

  int fd_;  // not owned: the FrameBuffer keeps it open longer than this mapping lives
  void* address_;
  std::size_t length_;
};

}  // namespace camstream
