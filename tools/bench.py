# Benchmarks for the block heap, on CPython and on the MicroPython unix port.
#
#   .venv/bin/python tools/bench.py            both runtimes (MicroPython with -X heapsize=2M,
#                                               viper-accelerated and pure), ratios per runtime
#   micropython -X heapsize=2M tools/bench.py --child     one runtime, the current one
#
# Every figure is the best of R interleaved rounds of N iterations, so ratios come from
# the same run. "gross" includes the loop (both sides of a ratio run the same loop);
# "net" subtracts an empty loop. Not part of the test run: timings have no thresholds
# in the tests; the targets are checked and reported here.

import gc
import sys

IS_MPY = sys.implementation.name == "micropython"

if IS_MPY:
    import time

    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
else:
    import time

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


class Bare:
    # The floor: methods of the same shape as the heap's, doing nothing.
    def allocate_blocks(self, size, align=1):
        return 3

    def deallocate_blocks(self, index, size):
        pass

    def alloc(self, nbytes, align=1):
        return None

    def free(self, view):
        pass


def loops(n):
    from stalloc import Stack, Stalloc, SyncStalloc

    heap = Stalloc(64, 16)
    heap.allocate_blocks(3)  # a used block in front: a realistic free list
    sync = SyncStalloc(64, 16)
    sync.allocate_blocks(3)
    big = Stalloc(64, 4096)  # 256 KiB of 4 KiB blocks
    bare = Bare()
    buf = memoryview(bytearray(8192))
    stack = Stack(8192)

    def nothing(view):
        return None

    def empty():
        for _ in range(n):
            pass

    def bare_pair():
        for _ in range(n):
            bare.deallocate_blocks(bare.allocate_blocks(2), 2)

    def blocks_pair():
        for _ in range(n):
            heap.deallocate_blocks(heap.allocate_blocks(2), 2)

    def sync_pair():
        for _ in range(n):
            sync.deallocate_blocks(sync.allocate_blocks(2), 2)

    def alloc_free_4k():
        for _ in range(n):
            big.free(big.alloc(4096))

    def scoped_4k():
        for _ in range(n):
            with big.scoped(4096):
                pass

    def frame_4k():
        for _ in range(n):
            with stack.frame(4096):
                pass

    def uninit_4k():
        for _ in range(n):
            stack.uninit(4096, nothing)

    def bytearray_4k():
        for _ in range(n):
            bytearray(4096)

    def slice_4k():
        for _ in range(n):
            buf[0:4096]

    return (
        ("empty loop", empty),
        ("two bare method calls", bare_pair),
        ("allocate_blocks+deallocate_blocks", blocks_pair),
        ("SyncStalloc pair", sync_pair),
        ("alloc(4096)+free", alloc_free_4k),
        ("with scoped(4096)", scoped_4k),
        ("with stack.frame(4096)", frame_4k),
        ("stack.uninit(4096, fn)", uninit_4k),
        ("bytearray(4096)", bytearray_4k),
        ("memoryview slice 4096", slice_4k),
    )


def measure(n, rounds, live_kib=0):
    """Best time per iteration (ns) of each loop, interleaved over `rounds` rounds.

    live_kib keeps that much data alive on the GC heap in small bytearrays, as an
    application would, while bytearray(4096) runs (it makes collections dearer).
    """
    live = [bytearray(16 + (k * 37) % 240) for k in range(live_kib * 1024 // 144)]
    fns = loops(n)
    best = {}
    for _ in range(rounds):
        for name, fn in fns:
            gc.collect()
            t0 = ticks_us()
            fn()
            dt = ticks_diff(ticks_us(), t0)
            if name not in best or dt < best[name]:
                best[name] = dt
    del live
    return [(name, best[name] * 1000.0 / n) for name, _ in fns]


def runtime_name():
    if not IS_MPY:
        return "CPython %d.%d" % sys.version_info[:2]
    from stalloc import heap

    return "MicroPython %s (%s)" % (
        ".".join(str(x) for x in sys.implementation.version[:3]),
        "viper" if heap.ACCELERATED else "pure",
    )


def report(n, rounds, live_kib):
    res = measure(n, rounds, live_kib)
    t = dict(res)
    empty = t["empty loop"]
    print("## %s, GC heap with %d KiB live" % (runtime_name(), live_kib))
    for name, ns in res:
        print("  %-36s %9.0f ns" % (name, ns))

    def net(name):
        return t[name] - empty

    # The targets are for the accelerated MicroPython path only.
    targeted = IS_MPY and "viper" in runtime_name()
    pair, bare = "allocate_blocks+deallocate_blocks", "two bare method calls"
    print(
        "  ratio  integer pair / two bare calls    %5.2fx gross  %5.2fx net%s"
        % (t[pair] / t[bare], net(pair) / net(bare), "  (target <= 3x)" if targeted else "")
    )
    print(
        "  ratio  bytearray(4096) / alloc+free     %5.1fx gross  %5.1fx net%s"
        % (
            t["bytearray(4096)"] / t["alloc(4096)+free"],
            net("bytearray(4096)") / net("alloc(4096)+free"),
            "  (target >= 50x)" if targeted else "",
        )
    )
    print(
        "  ratio  alloc+free / memoryview slice    %5.1fx gross  %5.1fx net"
        % (
            t["alloc(4096)+free"] / t["memoryview slice 4096"],
            net("alloc(4096)+free") / net("memoryview slice 4096"),
        )
    )
    # Issue 3's targets for a scoped 4 KiB frame: >= 50x cheaper than bytearray(4096)
    # and <= 2x a bare slice on the unix port (viper), <= 2x a bare slice on CPython.
    frame_targeted = targeted or not IS_MPY
    for form in ("with stack.frame(4096)", "stack.uninit(4096, fn)"):
        print(
            "  ratio  bytearray(4096) / %-22s %5.1fx gross%s"
            % (form, t["bytearray(4096)"] / t[form], "  (target >= 50x)" if targeted else "")
        )
        print(
            "  ratio  %-22s / bare slice %5.1fx gross  %5.1fx net%s"
            % (
                form,
                t[form] / t["memoryview slice 4096"],
                net(form) / net("memoryview slice 4096"),
                "  (target <= 2x)" if frame_targeted else "",
            )
        )
    print(
        "  ratio  SyncStalloc pair / Stalloc pair  %5.2fx gross"
        % (t["SyncStalloc pair"] / t[pair])
    )
    print()


def child(argv):
    n = 5000 if IS_MPY else 20000
    rounds = 15
    for a in argv:
        if a.startswith("--n="):
            n = int(a[4:])
        elif a.startswith("--rounds="):
            rounds = int(a[9:])
    report(n, rounds, 0)
    if IS_MPY:
        # What an application's own live data does to bytearray(4096): dearer collections
        # and longer first-fit scans. The block heap does not look at the GC heap.
        report(n, rounds, 1024)


def main():
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "lib"))
    extra = sys.argv[1:]
    print("# stalloc benchmarks (best of interleaved rounds; ratios within one runtime)\n")
    child(extra)
    mpy = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mpy):
        sys.exit("micropython not found next to %s: run tools/test.sh once" % sys.executable)
    for pure in ("0", "1"):
        env = dict(os.environ, MICROPYPATH=os.path.join(root, "lib"), STALLOC_PURE=pure)
        cmd = [mpy, "-X", "heapsize=2M", os.path.abspath(__file__), "--child"] + extra
        sys.stdout.flush()
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    if "--child" in sys.argv or IS_MPY:
        child([a for a in sys.argv[1:] if a != "--child"])
    else:
        main()
