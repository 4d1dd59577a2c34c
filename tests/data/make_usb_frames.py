#!/usr/bin/env python3
"""Writes the USB-webcam-style frames the tests replay (run from anywhere; needs ffmpeg and cjpeg).

- usb_yuyv_640x480.yuyv: one 640x480 YUYV (yuyv422) frame of ffmpeg's testsrc2, limited
  range, as a UVC camera sends it;
- usb_uvc_640x480.mjpg: the same picture as a 4:2:2 baseline JPEG (cjpeg) the way UVC
  cameras send MJPEG: an AVI1 APP0 instead of JFIF, no Huffman tables (DHT), zero padding
  after EOI;
- usb_uvc_640x480_truncated.mjpg: that JPEG cut in the middle of its scan, zero padded, as
  a frame whose transfer was cut short.
The files are committed; rerun only to change them.
"""
import pathlib
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = ["-f", "lavfi", "-i", "testsrc2=size=640x480:rate=1", "-frames:v", "1"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *SOURCE, *args], check=True)


def segments(jpeg: bytes):
    """(marker, start, end) of each segment before the first scan's data, then the rest."""
    assert jpeg[:2] == b"\xff\xd8"
    pos = 2
    while True:
        assert jpeg[pos] == 0xFF
        marker = jpeg[pos + 1]
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        yield marker, pos, pos + 2 + length
        if marker == 0xDA:
            return
        pos += 2 + length


def uvc_style(jpeg: bytes) -> bytes:
    out = bytearray(b"\xff\xd8")
    scan_start = 0
    for marker, start, end in segments(jpeg):
        if marker == 0xC4:
            continue  # no Huffman tables, as many UVC cameras
        if marker == 0xE0:
            # AVI1: polarity, reserved, field size, field size less padding (10 bytes)
            out += b"\xff\xe0\x00\x10AVI1" + bytes(10)
            continue
        if marker == 0xFE:
            continue  # ffmpeg's comment names its encoder
        out += jpeg[start:end]
        scan_start = end
    out += jpeg[scan_start:]
    return bytes(out)


def main() -> None:
    ffmpeg("-pix_fmt", "yuyv422", "-f", "rawvideo", str(HERE / "usb_yuyv_640x480.yuyv"))
    with tempfile.TemporaryDirectory() as tmp:
        picture = pathlib.Path(tmp) / "frame.ppm"
        ffmpeg("-pix_fmt", "rgb24", str(picture))
        # cjpeg (libjpeg-turbo-progs) writes the standard Huffman tables unless asked to
        # optimise, and 2x1/1x1 sampling factors, as UVC cameras' 4:2:2.
        original = subprocess.run(["cjpeg", "-quality", "85", "-sample", "2x1", "-baseline",
                                   str(picture)], check=True, capture_output=True).stdout
        stripped = uvc_style(original)
    assert stripped.endswith(b"\xff\xd9") and b"\xff\xc4" not in stripped[:stripped.index(b"\xff\xda")]
    (HERE / "usb_uvc_640x480.mjpg").write_bytes(stripped + bytes(1500))
    (HERE / "usb_uvc_640x480_truncated.mjpg").write_bytes(stripped[:len(stripped) * 3 // 5] +
                                                          bytes(4000))


if __name__ == "__main__":
    main()
