#!/usr/bin/env python3
"""Attribute a running Lumina's SQLite writes: WAL frames appended and checkpointed per second,
for the main database and the search database, beside the process's own write_bytes.

Usage: scripts/wal-frames.py DATA_DIR PID [SECONDS]

It samples the wal-index header of each database's -shm file every 2 ms: mxFrame (offset 16,
the last valid frame) and nBackfill (offset 96, the frames a checkpoint has copied into the
database file), adding up their increases; a value that falls means the WAL restarted, and
the new value is what was written since. A frame is a 4,096-byte page plus its 24-byte
header. Backfilled frames are an upper bound on the checkpoints' writes: a checkpoint writes
each page once however many of its frames it copies. Only reads: it never locks anything.
"""
import struct
import sys
import time


def header(path):
    try:
        with open(path, "rb") as f:
            b = f.read(136)
    except FileNotFoundError:  # not created yet, or the process has gone
        return None
    if len(b) < 136:
        return None
    return struct.unpack_from("=I", b, 16)[0], struct.unpack_from("=I", b, 96)[0]


def write_bytes(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data, pid = sys.argv[1], int(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20
    files = {"lumina.db": f"{data}/lumina.db-shm", "lumina.search.db": f"{data}/lumina.search.db-shm"}
    last = {k: header(p) for k, p in files.items()}
    appended = dict.fromkeys(files, 0)
    copied = dict.fromkeys(files, 0)
    w0, t0 = write_bytes(pid), time.time()
    while time.time() - t0 < seconds:
        for k, p in files.items():
            h = header(p)
            if h is None or last[k] is None:
                last[k] = h
                continue
            (mx, nb), (lmx, lnb) = h, last[k]
            appended[k] += mx - lmx if mx >= lmx else mx
            copied[k] += nb - lnb if nb >= lnb else nb
            last[k] = h
        time.sleep(0.002)
    el = time.time() - t0
    print(f"over {el:.1f} s the process wrote {(write_bytes(pid) - w0) / el / 1e6:.0f} MB/s to storage")
    for k in files:
        print(f"  {k}: {appended[k] / el:.0f} WAL frames/s ({appended[k] * 4120 / el / 1e6:.0f} MB/s), "
              f"{copied[k] / el:.0f} checkpointed/s (at most {copied[k] * 4096 / el / 1e6:.0f} MB/s)")


if __name__ == "__main__":
    main()
