# The thread/GC problem of docs/micropython.md as one MicroPython script: four threads
# each keep an object in a locked dict by thread id, open one frame on it, drop it, and
# collect every 8 rounds. Prints OK, or ERR and what broke; a run may also die.
#
#   MICROPYPATH=lib micropython -X heapsize=192k tools/thread_gc_repro.py MODE [pure]
#
# MODE "stalloc": default_stack() and set_default_stack(None); "dict": Stack() in the
# dict below, none of the library's per-thread code; "plain": a small class in that dict,
# the library not even imported. "pure": no native twins and no repointed views, so the
# run is plain Python. The unix port 1.29 failed 3 runs in 400-1200 in every mode, the
# plain one too: the port's collector, not the library (docs/micropython.md). For a rate:
#   for i in $(seq 400); do MICROPYPATH=lib micropython -X heapsize=192k \
#       tools/thread_gc_repro.py plain | cut -c1-3; done | sort | uniq -c
import _thread
import gc
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "stalloc"
if "pure" in sys.argv:
    import stalloc._base
    import stalloc._repoint

    stalloc._base.PURE = True
    stalloc._repoint.OK = False  # Stack() then slices fresh views
if MODE != "plain":  # the control imports nothing of the library's
    from stalloc.stack import Stack, default_stack, set_default_stack
_values = {}
_lock = _thread.allocate_lock()


def get():
    with _lock:
        return _values.get(_thread.get_ident())


def put(value):
    with _lock:
        if value is None:
            _values.pop(_thread.get_ident(), None)
        else:
            _values[_thread.get_ident()] = value


class Plain:
    def __init__(self):
        self.buf = memoryview(bytearray(1024))
        self.busy = False

    def frame(self, n):
        return self

    def __enter__(self):
        self.busy = True
        return self.buf[0:16]

    def __exit__(self, *exc):
        self.busy = False


def main():
    bad = []
    done = [0]
    guard = _thread.allocate_lock()
    new = Plain if MODE == "plain" else Stack

    def worker(_k):
        try:
            for r in range(50):
                if r % 8 == 0:
                    gc.collect()
                if MODE == "stalloc":
                    mine = default_stack()
                else:
                    mine = get()
                    if mine is None:
                        mine = new()
                        put(mine)
                with mine.frame(16):
                    if (default_stack() if MODE == "stalloc" else get()) is not mine:
                        bad.append("another thread's stack")
                set_default_stack(None) if MODE == "stalloc" else put(None)
        except Exception as e:
            bad.append(repr(e))
        with guard:
            done[0] += 1

    for k in range(4):
        _thread.start_new_thread(worker, (k,))
    while done[0] < 4:
        time.sleep_ms(10)
    print("ERR %s" % bad[0] if bad else "OK")


main()
