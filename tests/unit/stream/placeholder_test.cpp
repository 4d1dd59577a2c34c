#include "stream/placeholder.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <string>

namespace camstream {
namespace {

struct Decoded {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> gray;
};

Decoded decode(const EncodedFrame& frame) {
  tjhandle handle = tjInitDecompress();
  Decoded out;
  int subsampling = 0, colorspace = 0;
  EXPECT_EQ(tjDecompressHeader3(handle, frame.jpeg().data(), frame.jpeg().size(), &out.width,
                                &out.height, &subsampling, &colorspace),
            0);
  out.gray.resize(static_cast<std::size_t>(out.width) * out.height);
  EXPECT_EQ(tjDecompress2(handle, frame.jpeg().data(), frame.jpeg().size(), out.gray.data(),
                          out.width, 0, out.height, TJPF_GRAY, 0),
            0);
  tjDestroy(handle);
  return out;
}

TEST(Placeholder, IsAJpegAtTheStreamSizeWithTextOnIt) {
  JpegEncoder encoder(80);
  const auto frame = render_placeholder(encoder, 640, 480, "STOPPED", "");
  EXPECT_TRUE(frame->placeholder);
  EXPECT_EQ(frame->width, 640);
  const Decoded picture = decode(*frame);
  EXPECT_EQ(picture.width, 640);
  EXPECT_EQ(picture.height, 480);
  int bright = 0;
  for (unsigned char value : picture.gray) bright += value > 180;
  EXPECT_GT(bright, 500);  // the title's strokes on the dark grey
}

TEST(Placeholder, NamesTheReason) {
  JpegEncoder encoder(80);
  const auto stopped = render_placeholder(encoder, 320, 240, "NO SIGNAL", "");
  const auto with_reason = render_placeholder(encoder, 320, 240, "NO SIGNAL", "CAMERA UNPLUGGED");
  EXPECT_NE(decode(*stopped).gray, decode(*with_reason).gray);
}

TEST(Placeholder, LongReasonsAndTinyPicturesAreClipped) {
  JpegEncoder encoder(80);
  const auto frame = render_placeholder(encoder, 16, 16, "NO SIGNAL", std::string(500, 'X'));
  EXPECT_EQ(decode(*frame).width, 16);
}

TEST(Placeholder, RestampCopiesTheBytesWithANewSequenceAndTime) {
  JpegEncoder encoder(80);
  const auto frame = render_placeholder(encoder, 64, 48, "STOPPED", "");
  const auto again = restamp(*frame, 42);
  EXPECT_EQ(again->sequence, 42u);
  EXPECT_TRUE(again->placeholder);
  EXPECT_GT(again->timestamp, frame->timestamp);
  ASSERT_EQ(again->jpeg().size(), frame->jpeg().size());
  EXPECT_TRUE(std::equal(again->jpeg().begin(), again->jpeg().end(), frame->jpeg().begin()));
}

}  // namespace
}  // namespace camstream
