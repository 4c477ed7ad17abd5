# A signal handler that interrupts a SyncStalloc call and calls the same heap must get a
# RuntimeError, never wait forever for the lock its own thread holds.
import faulthandler
import signal
import sys
import time

from stalloc import SyncStalloc


def test_signal_handler_reentering_a_sync_heap_is_refused_not_deadlocked():
    sh = SyncStalloc(64, 16)
    seen = {"ran": 0, "refused": 0, "stop": False}

    def handler(signum, frame):
        try:
            sh.deallocate_blocks(sh.allocate_blocks(1), 1)
            seen["ran"] += 1
        except RuntimeError:
            seen["refused"] += 1
        if not seen["stop"]:  # a handler still pending at teardown must not re-arm
            signal.setitimer(signal.ITIMER_REAL, 0.0002)

    old = signal.signal(signal.SIGALRM, handler)
    faulthandler.dump_traceback_later(60, exit=True, file=sys.stderr)  # a hang fails
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.0002)
        # Where a signal lands is chance: go on until one has landed inside a call (on a
        # loaded machine 100,000 calls were once not enough), for 20 s at most.
        deadline = time.monotonic() + 20
        while not seen["refused"] and time.monotonic() < deadline:
            for _ in range(10_000):
                sh.free(sh.alloc(100))
    finally:
        seen["stop"] = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
    assert seen["ran"] + seen["refused"] > 0
    assert seen["refused"] > 0  # some signals landed inside a call
    sh.check()
    assert sh.is_empty()
