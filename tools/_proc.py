"""Reading a child process's output line by line with a deadline (tools/deploy.py,
tools/bench.py). Iterating over proc.stdout alone waits forever on a child that hangs
without printing; this waits at most until the deadline."""

import selectors
import subprocess
import time


def lines_until(proc, deadline):
    """Yield proc.stdout's lines (text mode) until EOF. Raises subprocess.TimeoutExpired
    when time.monotonic() passes `deadline` first (the caller kills the child)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise subprocess.TimeoutExpired(proc.args, 0)
            line = proc.stdout.readline()
            if not line:
                return
            yield line
    finally:
        sel.close()
