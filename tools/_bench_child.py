# The benchmark workloads: one portable module, run unchanged by CPython, by the
# MicroPython unix port and on a (virtual) board. tools/bench.py drives it and renders
# the results; run alone it prints the same JSON document:
#
#   python tools/_bench_child.py [--quick]                   (with lib/ on sys.path)
#   MICROPYPATH=lib micropython -X heapsize=2M tools/_bench_child.py [--quick]
#   on a board:  import _bench_child; _bench_child.main(["--quick"])
#
# Output: "@@progress DONE TOTAL LABEL" lines while it runs, then one "@@json {...}" line.
#
# Workloads (the three), each a deterministic sequence of N operations drawn from a
# seeded xorshift32, identical on every runtime, computed before any timing:
#   scratch  a scoped buffer of 16 B..64 KiB (log-uniform), first and last byte written,
#            gone at the end of the operation;
#   pool     a packet/sensor pool: 32 slots, each operation replaces a random slot's
#            buffer by a new one of a mixed size (70 % 16-128 B, 25 % 128-512 B,
#            5 % 512-1500 B): random lifetimes, a bounded live set;
#   arena    per-frame temporaries: 8-256 B allocations kept until the frame ends, frames
#            of 16-48 allocations, then everything reset (one operation = one allocation;
#            the operation ending a frame also pays for the reset).
# Contenders per workload: the stalloc way(s); what users write today (`bytearray(n)`, a
# preallocated buffer with manual offsets); the floors (a bare memoryview slice of a
# preallocated buffer, a bare method call of the API's shape that does nothing). Every
# contender does the same writes, so the floors are floors for that workload.
#
# Per contender, three kinds of pass over the same sequence, each from a fresh setup:
#   timed   each operation timed on its own (time.ticks_us on MicroPython: 1 us
#           resolution; perf_counter_ns on CPython): median, p90, p99, worst, histogram;
#           collections (MicroPython: drops of gc.mem_alloc() between operations, sampled
#           outside the timed region, of at least GC_DROP bytes; CPython: gc.callbacks,
#           every generation); peak memory on MicroPython
#           (gc.mem_alloc() high-water above a collected baseline taken before setup, so
#           the fixed budget and any garbage waiting for a collection count); failures
#           (MemoryError, AllocError included: counted, the loop goes on);
#   batch   the whole sequence timed as one (best of R rounds, interleaved across the
#           contenders): the mean per operation and operations per second; the only
#           figure that resolves operations faster than ticks_us;
#   memory  CPython only: tracemalloc's peak over one batch pass (tracemalloc slows every
#           allocation, so it stays out of the timed passes).
# Every figure includes one Python call of the operation's step function and the loop
# around it; "harness" in the output is an empty step through the same loops.
#
# Then the micro-benchmarks of the README's target analysis (the integer pair vs two bare
# calls, alloc(4096)+free vs bytearray(4096), a stack frame vs a slice): best of R
# interleaved rounds of tight loops, optionally with live data on the GC heap.
#
# MicroPython rules kept here: no f-strings, no typing/dataclasses; modules imported at
# the top (an import inside a function searches the filesystem on every call); step
# functions have few locals (bigger frames come from the GC heap on every call); the
# timed loops allocate nothing themselves (lists preallocated, small ints only).

import gc
import json
import sys
import time
from array import array

IS_MPY = sys.implementation.name == "micropython"

if IS_MPY:
    ticks = time.ticks_us
    ticks_diff = time.ticks_diff
    TICK_NS = 1000  # ticks are microseconds
    mem_alloc = gc.mem_alloc
    # A collection shows as a drop of gc.mem_alloc() between two operations: memory goes
    # back to the GC heap in a collection or through an explicit free inside the runtime
    # (a dict or list giving its table back: Stalloc.clear() emptying its view dict frees
    # 200-700 bytes here). Drops of at least GC_DROP bytes count as collections, smaller
    # ones as "small_frees"; a collection that finds less garbage than that is missed.
    gc.collect()
    GC_DROP = max(1024, min(4096, (gc.mem_free() + gc.mem_alloc()) // 64))
else:
    import tracemalloc

    ticks = time.perf_counter_ns

    def ticks_diff(a, b):
        return a - b

    TICK_NS = 1

    def mem_alloc():
        return 0


def _pure_requested():
    # STALLOC_PURE=1 (tools/bench.py's mpy-pure runtime): the pure-Python kernels.
    try:
        from os import getenv
    except ImportError:  # a board: no environment
        return False
    return getenv("STALLOC_PURE") not in (None, "", "0")


if _pure_requested():
    import stalloc._base

    stalloc._base.PURE = True  # before the heap or the stack is imported

import stalloc  # noqa: E402
from stalloc import MemoryArena, Stack, Stalloc, SyncStalloc  # noqa: E402

SCHEMA = 1
SEED = 20261121
NSLOTS = 32  # the pool's live set
POOL_SLOT = 1536  # the preallocated pool's fixed slot: the largest packet, rounded up
POOL_HEAP = (512, 32)  # Stalloc(L, B) for the pool: 16 KiB
ARENA_HEAP = (512, 32)  # Stalloc(L, B) reset per frame: 16 KiB
ARENA_BLOCK = 4096  # MemoryArena block size
SCRATCH_MAX = 65535
ARENA_MAX_FRAME = 48 * 256


def zeros(n):
    """n zeros in an array('I'): 4 bytes an item on every runtime (a list of small ints
    takes a word each), indexing allocates nothing."""
    a = array("I")
    for _ in range(n):
        a.append(0)
    return a


class Rng:
    """xorshift32, as tests/_util.py: the same sequence on both runtimes."""

    def __init__(self, seed):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s


# -- the sequences ---------------------------------------------------------------------


def scratch_seq(n):
    """n sizes, log-uniform over 16..65535 bytes."""
    r = Rng(SEED)
    sizes = zeros(n)
    for k in range(n):
        e = 4 + r.next() % 12  # 2**4 .. 2**15
        sizes[k] = (1 << e) + r.next() % (1 << e)
    return sizes


def pool_seq(n):
    """n (slot, size) pairs: which buffer of the live set is replaced, by what size."""
    r = Rng(SEED + 1)
    slots = zeros(n)
    sizes = zeros(n)
    for k in range(n):
        slots[k] = r.next() % NSLOTS
        p = r.next() % 100
        if p < 70:
            sizes[k] = 16 + r.next() % 113
        elif p < 95:
            sizes[k] = 128 + r.next() % 385
        else:
            sizes[k] = 512 + r.next() % 989
    return slots, sizes


def arena_seq(n):
    """n sizes (8..256 bytes, most small) and, per operation, 1 when it ends a frame."""
    r = Rng(SEED + 2)
    sizes = zeros(n)
    ends = zeros(n)
    left = 16 + r.next() % 33
    for k in range(n):
        if r.next() % 4:
            sizes[k] = 8 + r.next() % 57  # 8..64
        else:
            sizes[k] = 64 + r.next() % 193  # 64..256
        left -= 1
        if left == 0 or k == n - 1:
            ends[k] = 1
            left = 16 + r.next() % 33
    return sizes, ends


class Bare:
    # The floor: methods of the same shapes as the library's, doing nothing.
    def __init__(self, view):
        self.view = view

    def get(self, nbytes):
        return self.view

    def allocate_blocks(self, size, align=1):
        return 3

    def deallocate_blocks(self, index, size):
        pass

    def alloc(self, nbytes, align=1):
        return None

    def free(self, view):
        pass


# -- contenders: each a factory(seq) -> step(k), the setup done in the factory ----------
# Every step writes the first and the last byte of its buffer.


def scratch_stack_frame(seq):
    sizes = seq
    stack = Stack(SCRATCH_MAX + 64)

    def step(k):
        with stack.frame(sizes[k]) as b:
            b[0] = 1
            b[-1] = 1

    return step


def scratch_stack_uninit(seq):
    sizes = seq
    stack = Stack(SCRATCH_MAX + 64)

    def touch(b):
        b[0] = 1
        b[-1] = 1

    def step(k):
        stack.uninit(sizes[k], touch)

    return step


def scratch_heap_scoped(seq):
    sizes = seq
    heap = Stalloc(1025, 64)  # 64 KiB + a block

    def step(k):
        with heap.scoped(sizes[k]) as b:
            b[0] = 1
            b[-1] = 1

    return step


def scratch_bytearray(seq):
    sizes = seq

    def step(k):
        b = bytearray(sizes[k])
        b[0] = 1
        b[-1] = 1

    return step


def scratch_prealloc(seq):
    sizes = seq
    buf = bytearray(SCRATCH_MAX)

    def step(k):
        buf[0] = 1
        buf[sizes[k] - 1] = 1

    return step


def scratch_slice(seq):
    sizes = seq
    mv = memoryview(bytearray(SCRATCH_MAX))

    def step(k):
        b = mv[0 : sizes[k]]
        b[0] = 1
        b[-1] = 1

    return step


def scratch_call(seq):
    sizes = seq
    bare = Bare(memoryview(bytearray(SCRATCH_MAX)))

    def step(k):
        s = sizes[k]
        b = bare.get(s)
        b[0] = 1
        b[s - 1] = 1

    return step


def pool_heap_bytes(seq):
    slot, sizes = seq
    heap = Stalloc(POOL_HEAP[0], POOL_HEAP[1], views=NSLOTS)  # a pooled view per slot
    live = [None] * NSLOTS

    def step(k):
        j = slot[k]
        old = live[j]
        if old is not None:
            live[j] = None
            heap.free(old)
        b = heap.alloc(sizes[k])
        b[0] = 1
        b[-1] = 1
        live[j] = b

    return step


def pool_heap_int(seq):
    slot, sizes = seq
    heap = Stalloc(POOL_HEAP[0], POOL_HEAP[1])
    mem = heap.memory
    shift = 5  # B = 32
    idx = [0] * NSLOTS
    nbl = [0] * NSLOTS

    def step(k):
        j = slot[k]
        n = nbl[j]
        if n:
            nbl[j] = 0
            heap.deallocate_blocks(idx[j], n)
        s = sizes[k]
        n = (s + 31) >> shift
        i = heap.allocate_blocks(n)
        o = i << shift
        mem[o] = 1
        mem[o + s - 1] = 1
        idx[j] = i
        nbl[j] = n

    return step


def pool_bytearray(seq):
    slot, sizes = seq
    live = [None] * NSLOTS

    def step(k):
        s = sizes[k]
        b = bytearray(s)
        b[0] = 1
        b[s - 1] = 1
        live[slot[k]] = b

    return step


def pool_prealloc(seq):
    # What embedded code writes today: NSLOTS fixed slots of the largest size, offsets.
    slot, sizes = seq
    buf = bytearray(NSLOTS * POOL_SLOT)
    lens = [0] * NSLOTS

    def step(k):
        j = slot[k]
        s = sizes[k]
        o = j * POOL_SLOT
        buf[o] = 1
        buf[o + s - 1] = 1
        lens[j] = s

    return step


def pool_slice(seq):
    slot, sizes = seq
    mv = memoryview(bytearray(NSLOTS * POOL_SLOT))
    live = [None] * NSLOTS

    def step(k):
        j = slot[k]
        o = j * POOL_SLOT
        b = mv[o : o + sizes[k]]
        b[0] = 1
        b[-1] = 1
        live[j] = b

    return step


def pool_call(seq):
    # Two bare method calls (the integer API's shape) around the preallocated pool.
    slot, sizes = seq
    buf = bytearray(NSLOTS * POOL_SLOT)
    bare = Bare(None)

    def step(k):
        j = slot[k]
        s = sizes[k]
        bare.deallocate_blocks(j, 1)
        o = bare.allocate_blocks(s) * 0 + j * POOL_SLOT
        buf[o] = 1
        buf[o + s - 1] = 1

    return step


# The arena contenders keep their frame's temporaries in `temps` until the frame ends, as
# a program does; state[0] counts them.


def _drop(temps, n):
    for i in range(n):
        temps[i] = None


def arena_memory_arena(seq):
    sizes, ends = seq
    arena = MemoryArena(ARENA_BLOCK, views=48)  # a pooled view per temporary
    temps = [None] * 64
    st = [0, None, None]  # count, the scope, its allocator

    def step(k):
        if st[1] is None:
            st[1] = arena.allocator()
            st[2] = st[1].__enter__()
        b = st[2].alloc(sizes[k])
        b[0] = 1
        b[-1] = 1
        temps[st[0]] = b
        st[0] += 1
        if ends[k]:
            st[1].__exit__(None, None, None)
            st[1] = st[2] = None
            _drop(temps, st[0])
            st[0] = 0

    return step


def arena_heap_clear(seq):
    sizes, ends = seq
    heap = Stalloc(ARENA_HEAP[0], ARENA_HEAP[1], views=64)  # a pooled view per temporary
    temps = [None] * 64
    st = [0]

    def step(k):
        b = heap.alloc(sizes[k])
        b[0] = 1
        b[-1] = 1
        temps[st[0]] = b
        st[0] += 1
        if ends[k]:
            heap.clear()
            _drop(temps, st[0])
            st[0] = 0

    return step


def arena_bytearray(seq):
    sizes, ends = seq
    temps = [None] * 64
    st = [0]

    def step(k):
        b = bytearray(sizes[k])
        b[0] = 1
        b[-1] = 1
        temps[st[0]] = b
        st[0] += 1
        if ends[k]:
            _drop(temps, st[0])
            st[0] = 0

    return step


def arena_prealloc(seq):
    # A bump offset into one preallocated buffer: no objects at all.
    sizes, ends = seq
    buf = bytearray(ARENA_MAX_FRAME + 64 * 8)
    st = [0]

    def step(k):
        s = sizes[k]
        o = st[0]
        buf[o] = 1
        buf[o + s - 1] = 1
        st[0] = 0 if ends[k] else (o + s + 7) & -8

    return step


def arena_slice(seq):
    sizes, ends = seq
    mv = memoryview(bytearray(ARENA_MAX_FRAME + 64 * 8))
    temps = [None] * 64
    st = [0, 0]  # count, offset

    def step(k):
        o = st[1]
        s = sizes[k]
        b = mv[o : o + s]
        b[0] = 1
        b[-1] = 1
        temps[st[0]] = b
        st[0] += 1
        st[1] = (o + s + 7) & -8
        if ends[k]:
            _drop(temps, st[0])
            st[0] = st[1] = 0

    return step


def arena_call(seq):
    sizes, ends = seq
    buf = bytearray(ARENA_MAX_FRAME + 64 * 8)
    bare = Bare(None)
    st = [0]

    def step(k):
        s = sizes[k]
        bare.alloc(s)
        o = st[0]
        buf[o] = 1
        buf[o + s - 1] = 1
        st[0] = 0 if ends[k] else (o + s + 7) & -8

    return step


def harness_step(seq):
    def step(k):
        pass

    return step


# (workload, description, sequence maker, [(contender, kind, factory), ...]);
# kind: "stalloc", "today" (what users write today) or "floor".
WORKLOADS = (
    (
        "scratch",
        "scratch buffers, 16 B-64 KiB, scoped",
        scratch_seq,
        (
            ("Stack.frame", "stalloc", scratch_stack_frame),
            ("Stack.uninit", "stalloc", scratch_stack_uninit),
            ("Stalloc.scoped", "stalloc", scratch_heap_scoped),
            ("bytearray(n)", "today", scratch_bytearray),
            ("prealloc+offsets", "today", scratch_prealloc),
            ("floor: slice", "floor", scratch_slice),
            ("floor: call", "floor", scratch_call),
        ),
    ),
    (
        "pool",
        "packet/sensor pool: 32 live, 16-1500 B, random lifetimes",
        pool_seq,
        (
            ("Stalloc alloc/free", "stalloc", pool_heap_bytes),
            ("Stalloc int API", "stalloc", pool_heap_int),
            ("bytearray(n)", "today", pool_bytearray),
            ("prealloc+offsets", "today", pool_prealloc),
            ("floor: slice", "floor", pool_slice),
            ("floor: call", "floor", pool_call),
        ),
    ),
    (
        "arena",
        "per-frame temporaries: 16-48 of 8-256 B, then reset",
        arena_seq,
        (
            ("MemoryArena scope", "stalloc", arena_memory_arena),
            ("Stalloc alloc+clear", "stalloc", arena_heap_clear),
            ("bytearray(n)", "today", arena_bytearray),
            ("prealloc+offsets", "today", arena_prealloc),
            ("floor: slice", "floor", arena_slice),
            ("floor: call", "floor", arena_call),
        ),
    ),
)


# -- the passes --------------------------------------------------------------------------

_gc_runs = [0]


def _on_gc(phase, info):
    if phase == "start":
        _gc_runs[0] += 1


def timed_pass(factory, seq, n, times):
    """Each operation timed alone; returns (failures, collections, small frees, setup
    bytes, peak bytes), or None when the setup raised MemoryError."""
    gc.collect()
    base = mem_alloc()
    try:
        step = factory(seq)
    except MemoryError:
        return None  # no room for the contender's setup (a small board)
    gc.collect()
    peak = prev = mem_alloc()
    setup = peak - base
    fails = drops = frees = 0
    if not IS_MPY:
        _gc_runs[0] = 0
        gc.callbacks.append(_on_gc)
    for k in range(n):
        t0 = ticks()
        try:
            step(k)
        except MemoryError:
            fails += 1
        t1 = ticks()
        times[k] = ticks_diff(t1, t0)
        if IS_MPY:
            a = mem_alloc()
            if a < prev:
                if prev - a >= GC_DROP:
                    drops += 1
                else:
                    frees += 1
            elif a > peak:
                peak = a
            prev = a
    if not IS_MPY:
        gc.callbacks.remove(_on_gc)
        drops = _gc_runs[0]
    step = None
    return fails, drops, frees, setup, peak - base


def batch(step, n):
    fails = 0
    t0 = ticks()
    for k in range(n):
        try:
            step(k)
        except MemoryError:
            fails += 1
    return ticks_diff(ticks(), t0)


def batch_pass(factory, seq, n):
    gc.collect()
    try:
        step = factory(seq)
    except MemoryError:
        return 0  # no room for the setup this time (a fragmented small heap)
    gc.collect()
    return batch(step, n)


def memory_pass(factory, seq, n):
    """CPython: (setup, peak) bytes from tracemalloc over one batch pass."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step = factory(seq)
    setup = tracemalloc.get_traced_memory()[0] - base
    batch(step, n)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return setup, peak


def summarize(times, n):
    """Percentiles (ns) and a histogram: bucket b counts times in [2**(b-1), 2**b) ns."""
    s = sorted(times)
    hist = [0] * 40
    for t in s:
        ns = t * TICK_NS
        b = 0
        while ns >> b:
            b += 1
        hist[b] += 1
    while hist and hist[-1] == 0:
        hist.pop()

    def pct(p):
        return s[min(n - 1, (n * p) // 100)] * TICK_NS

    return {
        "median_ns": pct(50),
        "p90_ns": pct(90),
        "p99_ns": pct(99),
        "worst_ns": s[-1] * TICK_NS,
        "mean_timed_ns": sum(s) * TICK_NS / n,
        "hist_log2_ns": hist,
    }


class Progress:
    def __init__(self, total):
        self.done = 0
        self.total = total

    def tick(self, label):
        self.done += 1
        print("@@progress %d %d %s" % (self.done, self.total, label))


def run_workloads(n, rounds, progress, only=None):
    out = []
    times = zeros(n)
    for wname, desc, make_seq, contenders in WORKLOADS:
        if only and wname not in only:
            continue
        seq = make_seq(n)
        rows = []
        for cname, kind, factory in contenders:
            got = timed_pass(factory, seq, n, times)
            row = {"contender": cname, "kind": kind}
            rows.append(row)
            progress.tick("%s: %s" % (wname, cname))
            if got is None:
                row["setup_failed"] = True
                row["failures"] = n
                continue
            fails, drops, frees, setup, peak = got
            row["failures"] = fails
            row["collections"] = drops
            if IS_MPY:
                row["small_frees"] = frees
            row.update(summarize(times, n))
            if not IS_MPY:
                setup, peak = memory_pass(factory, seq, n)
            row["setup_bytes"] = setup
            row["peak_bytes"] = peak
        # Batch passes: best of `rounds`, interleaved across contenders.
        best = [0] * len(contenders)
        for _ in range(rounds):
            for c in range(len(contenders)):
                if "setup_failed" in rows[c]:
                    continue
                dt = batch_pass(contenders[c][2], seq, n)
                if dt and (best[c] == 0 or dt < best[c]):
                    best[c] = dt
            progress.tick("%s: batch round" % wname)
        for c in range(len(contenders)):
            if "setup_failed" in rows[c] or not best[c]:
                continue
            mean = best[c] * TICK_NS / n
            rows[c]["mean_ns"] = mean
            rows[c]["ops_per_s"] = 1e9 / mean
        seq = None
        gc.collect()
        out.append({"name": wname, "description": desc, "ops": n, "contenders": rows})
    # The harness itself: an empty step through the timed and batch loops.
    timed_pass(harness_step, None, n, times)
    harness = summarize(times, n)
    best = 0
    for _ in range(rounds):
        dt = batch_pass(harness_step, None, n)
        if best == 0 or dt < best:
            best = dt
    harness["mean_ns"] = max(best, 1) * TICK_NS / n
    progress.tick("harness")
    return out, harness


# -- the micro-benchmarks of the README's target analysis ---------------------------------


def loops(n):
    heap = Stalloc(64, 16)
    heap.allocate_blocks(3)  # a used block in front: a realistic free list
    sync = SyncStalloc(64, 16)
    sync.allocate_blocks(3)
    # 256 KiB of 4 KiB blocks as in the README's history (it is also GC heap the
    # bytearray(4096) loop cannot use); 16 KiB where there is no room (a small board).
    big = Stalloc(MICRO_BIG_BLOCKS[0], 4096)
    bare = Bare(None)
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

    def uninit_slice_4k():
        for _ in range(n):
            stack.uninit_slice(4096, nothing)

    # The module functions: the same on this thread's default stack, found per call.
    def mod_frame_4k():
        for _ in range(n):
            with stalloc.frame(4096):
                pass

    def mod_uninit_4k():
        for _ in range(n):
            stalloc.uninit(4096, nothing)

    def mod_uninit_slice_4k():
        for _ in range(n):
            stalloc.uninit_slice(4096, nothing)

    def alloca_4k():
        for _ in range(n):
            stalloc.alloca(4096, nothing)

    def fn_slice_4k():  # the floor for handing a view to a function
        for _ in range(n):
            nothing(buf[0:4096])

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
        ("stack.uninit_slice(4096, fn)", uninit_slice_4k),
        ("with stalloc.frame(4096)", mod_frame_4k),
        ("stalloc.uninit(4096, fn)", mod_uninit_4k),
        ("stalloc.uninit_slice(4096, fn)", mod_uninit_slice_4k),
        ("alloca(4096, fn)", alloca_4k),
        ("fn(mv[a:b])", fn_slice_4k),
        ("bytearray(4096)", bytearray_4k),
        ("memoryview slice 4096", slice_4k),
    )


MICRO_BIG_BLOCKS = [64]


MICRO_NAMES = (
    "empty loop",
    "two bare method calls",
    "allocate_blocks+deallocate_blocks",
    "SyncStalloc pair",
    "alloc(4096)+free",
    "with scoped(4096)",
    "with stack.frame(4096)",
    "stack.uninit(4096, fn)",
    "stack.uninit_slice(4096, fn)",
    "with stalloc.frame(4096)",
    "stalloc.uninit(4096, fn)",
    "stalloc.uninit_slice(4096, fn)",
    "alloca(4096, fn)",
    "fn(mv[a:b])",
    "bytearray(4096)",
    "memoryview slice 4096",
)


def micro(n, rounds, live_kib, progress):
    """Best time per iteration (ns) of each loop, interleaved over `rounds` rounds.

    live_kib keeps that much data alive on the GC heap in small bytearrays, as an
    application would (it makes the GC's collections and first-fit scans dearer).
    """
    gc.collect()
    live = [bytearray(16 + (k * 37) % 240) for k in range(live_kib * 1024 // 144)]
    fns = loops(n)
    best = {}
    for _ in range(rounds):
        for name, fn in fns:
            gc.collect()
            t0 = ticks()
            fn()
            dt = ticks_diff(ticks(), t0)
            if name not in best or dt < best[name]:
                best[name] = dt
        progress.tick("micro, %d KiB live: round" % live_kib)
    del live, fns
    gc.collect()
    return {name: best[name] * TICK_NS / n for name in MICRO_NAMES}


# -- the document --------------------------------------------------------------------------


def runtime_info():
    from stalloc import heap

    v = sys.implementation.version
    info = {
        "implementation": sys.implementation.name,
        "version": ".".join(str(x) for x in v[:3]),
        "platform": sys.platform,
        "accelerated": bool(heap.ACCELERATED),
        "tick_ns": TICK_NS,
    }
    if IS_MPY:
        gc.collect()
        info["gc_heap_bytes"] = gc.mem_free() + gc.mem_alloc()
        info["gc_free_bytes"] = gc.mem_free()
        if len(v) > 3 and v[3]:
            info["version"] += "-" + str(v[3])
    return info


def parse(argv):
    opts = {"quick": False, "n": 0, "rounds": 0, "micro_n": 0, "live": None, "only": None}
    for a in argv:
        if a == "--quick":
            opts["quick"] = True
        elif a.startswith("--n="):
            opts["n"] = int(a[4:])
        elif a.startswith("--rounds="):
            opts["rounds"] = int(a[9:])
        elif a.startswith("--micro-n="):
            opts["micro_n"] = int(a[10:])
        elif a.startswith("--live="):
            opts["live"] = [int(x) for x in a[7:].split(",") if x]
        elif a.startswith("--only="):
            opts["only"] = a[7:].split(",")
        else:
            raise ValueError("unknown argument " + a)
    q = opts["quick"]
    if not opts["n"]:
        opts["n"] = 200 if q else 3000
    if not opts["rounds"]:
        opts["rounds"] = 1 if q else 3
    if not opts["micro_n"]:
        opts["micro_n"] = (300 if q else 5000) if IS_MPY else (1000 if q else 20000)
    if opts["live"] is None:
        opts["live"] = [0, 1024] if IS_MPY and not q else [0]
    return opts


def main(argv=None):
    """Run what argv asks (see parse(); --only= with nothing after it runs no workload,
    --live= none of the micro-benchmarks) and print the JSON document."""
    if argv is None:
        argv = sys.argv[1:]
    opts = parse(argv)
    n, rounds, only = opts["n"], opts["rounds"], opts["only"]
    micro_rounds = 2 if opts["quick"] else 15
    chosen = [w for w in WORKLOADS if not only or w[0] in only]
    progress = Progress(micro_rounds * len(opts["live"]))
    for w in chosen:
        progress.total += len(w[3]) + rounds
    if chosen:
        progress.total += 1  # the harness
    doc = {"schema": SCHEMA, "runtime": runtime_info(), "ops": n, "rounds": rounds}
    doc["workloads"], doc["harness"] = [], None
    if chosen:
        doc["workloads"], doc["harness"] = run_workloads(n, rounds, progress, only)
    if IS_MPY and opts["live"]:
        gc.collect()
        if gc.mem_free() < 1536 * 1024:
            MICRO_BIG_BLOCKS[0] = 4
    doc["micro"] = {"n": opts["micro_n"], "rounds": micro_rounds, "names": MICRO_NAMES}
    doc["micro"]["big_heap_bytes"] = MICRO_BIG_BLOCKS[0] * 4096
    doc["micro"]["runs"] = [
        {"live_kib": kib, "ns": micro(opts["micro_n"], micro_rounds, kib, progress)}
        for kib in opts["live"]
    ]
    print("@@json " + json.dumps(doc))


if __name__ == "__main__":
    main()
