#!/usr/bin/env python3
"""tls-fanout: the server's CPU per frame sent to N viewers over TLS against plain HTTP.

Starts camstream twice in one run (plain, then --tls-cert/--tls-key with a certificate the
openssl CLI makes), opens N stream viewers on loopback that read everything (Python ssl,
non-blocking, one thread), and reads the server's CPU time (/proc/PID/stat) and
camstream_frames_sent_total (/metrics) before and after a measuring window.

    bench/tls_fanout.py build/release/src/camstream [--viewers 200] [--seconds 10] [--reps 2]
"""

import argparse
import os
import re
import selectors
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def frames_sent(port, context):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname="localhost") if context else raw
    sock.sendall(f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                 .encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return int(re.search(rb"\ncamstream_frames_sent_total (\d+)", data).group(1))


def measure(binary, viewers, seconds, tls_files):
    args = [binary, "--source", "test", "--bind", "127.0.0.1", "--port", "0", "--width", "640",
            "--height", "480", "--interval", "50", "--always-on", "--max-clients", "1000",
            "--log-level", "warn"]
    context = None
    if tls_files:
        args += ["--tls-cert", tls_files[0], "--tls-key", tls_files[1]]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))
        selector = selectors.DefaultSelector()
        socks = []
        for _ in range(viewers):
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock = context.wrap_socket(raw, server_hostname="localhost") if context else raw
            sock.sendall(f"GET /stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            socks.append(sock)

        def drain(until):
            while time.monotonic() < until:
                for key, _ in selector.select(0.05):
                    try:
                        while key.fileobj.recv(1 << 20):
                            pass
                    except (ssl.SSLWantReadError, BlockingIOError):
                        pass

        drain(time.monotonic() + 2)  # warm up
        cpu0, frames0 = cpu_seconds(server.pid), frames_sent(port, context)
        drain(time.monotonic() + seconds)
        cpu1, frames1 = cpu_seconds(server.pid), frames_sent(port, context)
        for sock in socks:
            sock.close()
        return (cpu1 - cpu0), (frames1 - frames0)
    finally:
        server.terminate()
        server.wait(10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--reps", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        cert, key = os.path.join(directory, "c.pem"), os.path.join(directory, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-keyout", key, "-out", cert], check=True,
                       capture_output=True)
        results = {"plain": [], "tls": []}
        for _ in range(options.reps):
            for mode in ("plain", "tls"):
                cpu, frames = measure(options.binary, options.viewers, options.seconds,
                                      (cert, key) if mode == "tls" else None)
                results[mode].append((cpu, frames))
                print(f"{mode}: {frames} frames sent, {cpu:.2f} s CPU, "
                      f"{1e6 * cpu / max(frames, 1):.1f} us CPU per frame sent", flush=True)
        per_frame = {mode: sorted(1e6 * c / max(f, 1) for c, f in runs)
                     for mode, runs in results.items()}
        median = {mode: values[len(values) // 2] for mode, values in per_frame.items()}
        print(f"median us CPU per frame sent: plain {median['plain']:.1f}, "
              f"tls {median['tls']:.1f}, ratio {median['tls'] / median['plain']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
