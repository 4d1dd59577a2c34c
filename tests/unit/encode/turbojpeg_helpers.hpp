// TurboJPEG as the tests' independent JPEG writer and reader.
#pragma once

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace camstream::test {

struct DecodedRgb {
  int width = 0;
  int height = 0;
  int subsampling = -1;
  std::vector<std::uint8_t> rgb;

  // Mean of one RGB channel over the rectangle [x0, x1) x [y0, y1).
  double mean(int channel, int x0, int x1, int y0, int y1) const {
    double sum = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        sum += rgb[(static_cast<std::size_t>(y) * width + x) * 3 + channel];
      }
    }
    return sum / (static_cast<double>(y1 - y0) * (x1 - x0));
  }
  double mean(int channel, int x0, int x1) const { return mean(channel, x0, x1, 0, height); }
};

// Decodes with TurboJPEG; a failure is a test failure and leaves rgb empty.
inline DecodedRgb decode_rgb(std::span<const std::uint8_t> jpeg) {
  DecodedRgb result;
  tjhandle handle = tjInitDecompress();
  int colourspace = 0;
  if (tjDecompressHeader3(handle, jpeg.data(), jpeg.size(), &result.width, &result.height,
                          &result.subsampling, &colourspace) != 0) {
    ADD_FAILURE() << "header: " << tjGetErrorStr2(handle);
    tjDestroy(handle);
    return {};
  }
  result.rgb.resize(static_cast<std::size_t>(result.width) * result.height * 3);
  if (tjDecompress2(handle, jpeg.data(), jpeg.size(), result.rgb.data(), result.width, 0,
                    result.height, TJPF_RGB, 0) != 0) {
    ADD_FAILURE() << "decode: " << tjGetErrorStr2(handle);
    result.rgb.clear();
  }
  tjDestroy(handle);
  return result;
}

// A JPEG of a colourful gradient (with noise: FF bytes in the scan), written by TurboJPEG
// with the standard Huffman tables.
inline std::vector<std::uint8_t> make_jpeg(int width, int height, int subsampling, int flags = 0,
                                           bool noise = false) {
  std::uint32_t state = 1;
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* pixel = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
      pixel[0] = static_cast<std::uint8_t>(x * 255 / width);
      pixel[1] = static_cast<std::uint8_t>(y * 255 / height);
      pixel[2] = static_cast<std::uint8_t>(((x / 8 + y / 8) % 2) * 200);
      if (noise) {
        state = state * 1664525u + 1013904223u;
        pixel[0] ^= static_cast<std::uint8_t>(state >> 24);
      }
    }
  }
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompress2(handle, rgb.data(), width, 0, height, TJPF_RGB, &jpeg, &size, subsampling,
                        85, flags),
            0)
      << tjGetErrorStr2(handle);
  std::vector<std::uint8_t> result(jpeg, jpeg + size);
  tjFree(jpeg);
  tjDestroy(handle);
  return result;
}

}  // namespace camstream::test
