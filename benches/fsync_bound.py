#!/usr/bin/env python3
"""The disk's bound for durable writes: N threads each create a file of SIZE bytes, write it,
fsync it (and, with --dirsync, its directory), in a loop; prints files/s and MiB/s.

    python3 benches/fsync_bound.py --size 1048576 --threads 8 --seconds 4 [--dirsync]

This is what a PUT of that size at that concurrency could reach if the server did nothing but
store the bytes durably: the floor under sealstore's `--data-dir` figures in docs/performance.md.
"""
import argparse
import os
import shutil
import tempfile
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--dirsync", action="store_true", help="also fsync the file's directory")
    ap.add_argument("--tmp", default=None, help="where to write (default: the system temp dir)")
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="fsync-bound-", dir=a.tmp)
    data = os.urandom(a.size)
    counts = [0] * a.threads
    stop = time.monotonic() + a.seconds

    def worker(t: int) -> None:
        i = 0
        while time.monotonic() < stop:
            sub = os.path.join(root, f"{(t * 37 + i) % 256:02x}")
            os.makedirs(sub, exist_ok=True)
            path = os.path.join(sub, f"{t}-{i}")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            if a.dirsync:
                dfd = os.open(sub, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
            os.unlink(path)
            i += 1
            counts[t] = i

    try:
        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(a.threads)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        secs = time.monotonic() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    n = sum(counts)
    print(f"size {a.size} threads {a.threads} dirsync {a.dirsync}: "
          f"{n / secs:.0f} files/s, {n * a.size / secs / 2**20:.0f} MiB/s")


if __name__ == "__main__":
    main()
