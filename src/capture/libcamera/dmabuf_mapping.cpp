#include "dmabuf_mapping.hpp"

#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "camstream/capture/capture_error.hpp"

namespace camstream {

DmabufMapping::DmabufMapping(int fd, std::size_t length)
    : fd_(fd), address_(nullptr), length_(length) {
  const off_t size = ::lseek(fd, 0, SEEK_END);
  // lseek gives the dmabuf size; some buffer types cannot tell (-1): then trust the planes.
  if (size > 0 && static_cast<std::size_t>(size) < length) {
    throw CaptureError("camera buffer (fd " + std::to_string(fd) + ") is " + std::to_string(size) +
                       " bytes; its planes need " + std::to_string(length));
  }
  void* address = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    throw CaptureError("cannot map camera buffer (fd " + std::to_string(fd) + ", " +
                       std::to_string(length) + " bytes): " + std::strerror(errno));
  }
  address_ = address;
}

DmabufMapping::~DmabufMapping() {
  if (address_ != nullptr) ::munmap(address_, length_);
}

DmabufMapping::DmabufMapping(DmabufMapping&& other) noexcept
    : fd_(other.fd_),
      address_(std::exchange(other.address_, nullptr)),
      length_(std::exchange(other.length_, 0)) {}

void DmabufMapping::begin_cpu_read() const {
  sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
}
void DmabufMapping::end_cpu_read() const {
  sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
}

void DmabufMapping::sync(std::uint64_t flags) const {
  dma_buf_sync request{};
  request.flags = flags;
  // ENOTTY/EINVAL: not a dmabuf (memfd) or no sync support; other errors are equally harmless
  // for reading, so nothing is reported.
  while (::ioctl(fd_, DMA_BUF_IOCTL_SYNC, &request) != 0 && (errno == EINTR || errno == EAGAIN)) {
  }
}

}  // namespace camstream
