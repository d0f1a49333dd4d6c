#!/usr/bin/env python3
"""Runs a command (QEMU with its console on stdout) and writes each line it
prints to LOG prefixed with the host's monotonic time in seconds since the
start, taken when the line's newline arrives. Benchmarks time firmware code
from outside this way: the time-stamp counter inside a TCG guest on a
virtual machine is not steady enough to trust.

usage: serial_clock.py LOG STOP_REGEX -- COMMAND...
Stops the command (SIGTERM) half a second after a line matches STOP_REGEX.
Exit status: the command's, or 2 when stopped on STOP_REGEX."""
import os
import re
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.stderr.write(__doc__)
        return 64
    log_path, stop = sys.argv[1], re.compile(sys.argv[2])
    proc = subprocess.Popen(sys.argv[4:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    t0 = time.monotonic()
    pending = b""
    stopped = False
    with open(log_path, "w", encoding="utf-8") as log:
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            now = time.monotonic() - t0
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                text = re.sub(r"\x1b\[[0-9;?=]*[A-Za-z]|\x1b[()][A-Za-z0-9]", "",
                              line.decode("latin-1")).replace("\r", "")
                log.write("%.4f %s\n" % (now, text))
                if stop.search(text) and not stopped:
                    stopped = True
                    log.flush()
                    time.sleep(0.5)
                    proc.terminate()
        if pending:
            log.write("%.4f %s\n" % (time.monotonic() - t0, pending.decode("latin-1")))
    rc = proc.wait()
    return 2 if stopped else rc


if __name__ == "__main__":
    sys.exit(main())
