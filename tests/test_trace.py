# The board side of the pictures: Stalloc.map_into (the allocation-free text map) and
# stats_into (the figures, allocation-free),
# TraceRecorder (lib/stalloc/trace.py: records, ids, the dropped count, the text format)
# and Stack.layout. Portable: pytest on CPython, tools/upytest.py on MicroPython (both
# kernel paths); the heap_lock tests run on MicroPython only.

import io
from array import array

from stalloc import AllocError, Stack, Stalloc, SyncStalloc, TraceRecorder

from _util import IS_MPY, Rng, SkipTest, raises, rejects, room_for, snapshot


def _micropython():
    if not IS_MPY:
        raise SkipTest("micropython.heap_lock() exists only on MicroPython")
    import micropython

    return micropython


def _random_ops(heap, rng, steps, out):
    # A mixed workload on the integer API; `out` collects (index, size) of live ones.
    for _ in range(steps):
        if out and rng.below(3) == 0:
            i, n = out.pop(rng.below(len(out)))
            heap.deallocate_blocks(i, n)
        else:
            n = rng.range(1, 5)
            try:
                out.append((heap.allocate_blocks(n, 1 << rng.below(3)), n))
            except AllocError:
                pass


def _dump(rec):
    out = io.StringIO()
    n = rec.dump(out.write)
    return n, out.getvalue()


# -- map_into ------------------------------------------------------------------------------


def test_map_into_agrees_with_map_at_one_character_per_block():
    rng = Rng(5)
    for L, B in ((1, 4), (7, 8), (64, 16), (200, 4)):
        heap = Stalloc(L, B)
        buf = bytearray(L)
        live = []
        for _ in range(30):
            _random_ops(heap, rng, 4, live)
            assert heap.map_into(buf) == L
            assert bytes(buf).decode() == heap.map(width=L), (L, buf)
        heap.check()


def test_map_into_marks_known_blocks():
    heap = Stalloc(10, 8)
    a = heap.allocate_blocks(3)
    heap.allocate_blocks(2)
    heap.deallocate_blocks(a + 1, 1)  # a hole inside a's range
    buf = bytearray(10)
    heap.map_into(buf)
    assert bytes(buf) == b"#.###....."
    heap.allocate_blocks(5)
    heap.allocate_blocks(1)  # into the hole
    heap.map_into(buf)
    assert bytes(buf) == b"##########"  # full: the OOM marker path
    heap.clear()
    heap.map_into(buf)
    assert bytes(buf) == b".........."


def test_map_into_writes_only_the_first_L_bytes_of_a_longer_buffer_or_view():
    heap = Stalloc(6, 4)
    heap.allocate_blocks(2, 2)
    big = bytearray(b"x" * 12)
    assert heap.map_into(memoryview(big)[3:]) == 6  # a writable memoryview works too
    assert bytes(big) == b"xxx##....xxx"


def test_map_into_rejects_short_readonly_and_non_buffers_with_the_heap_unchanged():
    heap = Stalloc(8, 4)
    heap.allocate_blocks(3)
    short = bytearray(b"zzzzzzz")
    rejects(ValueError, heap, heap.map_into, short)
    assert short == bytearray(b"zzzzzzz")  # not written
    rejects(TypeError, heap, heap.map_into, bytes(8))
    rejects(TypeError, heap, heap.map_into, memoryview(bytes(8)))
    rejects(TypeError, heap, heap.map_into, [0] * 8)
    rejects(TypeError, heap, heap.map_into, None)


def test_sync_heap_map_into():
    heap = SyncStalloc(5, 8)
    heap.allocate_blocks(2)
    buf = bytearray(5)
    assert heap.map_into(buf) == 5 and bytes(buf) == b"##..."
    with heap.acquire_locked() as h:  # inside the lock: the inner heap's own method
        assert h.map_into(buf) == 5
    rejects(ValueError, heap, heap.map_into, bytearray(4))


def test_map_into_runs_with_the_heap_locked():
    micropython = _micropython()
    for make in (Stalloc, SyncStalloc):
        heap = make(48, 8)
        live = []
        _random_ops(heap, Rng(9), 40, live)
        buf = bytearray(48)
        got = bytearray(1)
        heap.check()  # loads the diagnostics: map_into allocates nothing from then on
        micropython.heap_lock()
        try:
            got[0] = heap.map_into(buf)
        finally:
            micropython.heap_unlock()
        assert got[0] == 48
        assert bytes(buf).decode() == heap.map(width=48)


def test_map_into_reports_a_corrupt_free_list():
    heap = Stalloc(8, 4)
    heap.allocate_blocks(2)
    heap.memory[8:12] = b"\x02\x00\x05\x00"  # run header at block 2 -> next run 2: a loop
    raises(RuntimeError, heap.map_into, bytearray(8))


# -- stats_into ----------------------------------------------------------------------------


def _figures(heap):
    s = heap.stats()
    return [s.used, s.free, s.largest_free_run, s.free_runs, s.peak_used]


def test_stats_into_agrees_with_stats_on_random_heaps():
    for seed in range(8):
        for make in (Stalloc, SyncStalloc):
            heap = make(40, 4)
            live = []
            _random_ops(heap, Rng(seed), 30 + seed * 5, live)
            try:
                heap.allocate_blocks(64)  # refused: counted as failed
            except AllocError:
                pass
            buf = array("I", [7] * 9)
            assert heap.stats_into(buf) is None
            s = heap.stats()
            assert list(buf[:5]) == _figures(heap), (seed, list(buf))
            assert buf[5] | buf[6] << 16 == s.failed >= 1
            assert list(buf[7:]) == [7, 7]  # past the 7 figures: untouched
    full = Stalloc(4, 8)
    full.allocate_blocks(4)  # OOM: no runs
    buf = [9] * 7  # a list of small ints works too
    full.stats_into(buf)
    assert buf == [4, 0, 0, 0, 4, 0, 0]


def test_stats_into_counts_past_16_bits_of_failures():
    heap = Stalloc(4, 8)
    heap._w[heap._tr + 4] = 0xFFFF  # failed = 0x1FFFF - 1, then one more
    heap._w[heap._tr + 5] = 1
    try:
        heap.allocate_blocks(9)
    except AllocError:
        pass
    buf = array("H", bytes(14))
    heap.stats_into(buf)
    assert buf[5] | buf[6] << 16 == heap.stats().failed == 0x20000


def test_stats_into_rejects_a_short_or_unwritable_buffer_unchanged():
    heap = Stalloc(8, 4)
    heap.allocate_blocks(3)
    short = array("I", [5] * 6)
    rejects(ValueError, heap, heap.stats_into, short)
    assert list(short) == [5] * 6
    rejects(TypeError, heap, heap.stats_into, bytes(8))
    rejects(TypeError, heap, heap.stats_into, (0,) * 7)
    rejects(TypeError, heap, heap.stats_into, None)


def test_stats_into_runs_with_the_heap_locked_and_allocates_nothing():
    micropython = _micropython()
    for make in (Stalloc, SyncStalloc):
        heap = make(48, 8)
        _random_ops(heap, Rng(3), 40, [])
        buf = array("I", bytes(28))
        heap.stats_into(buf)  # loads the diagnostics: nothing is allocated from then on
        micropython.heap_lock()
        try:
            heap.stats_into(buf)
        finally:
            micropython.heap_unlock()
        assert list(buf[:5]) == _figures(heap)
        if make is Stalloc and hasattr(micropython, "mem_total"):
            # Not even a call frame lent by the GC heap (a SyncStalloc's lock, on the
            # pure path, borrows one: docs/micropython.md).
            t = micropython.mem_total()
            heap.stats_into(buf)
            assert micropython.mem_total() == t


def test_stats_into_reports_a_corrupt_free_list():
    heap = Stalloc(8, 4)
    heap.allocate_blocks(2)
    heap.memory[8:12] = b"\x02\x00\x05\x00"  # run header at block 2 -> next run 2: a loop
    raises(RuntimeError, heap.stats_into, [0] * 7)


# -- TraceRecorder -------------------------------------------------------------------------


def test_recorder_dump_is_the_documented_format():
    rec = TraceRecorder(Stalloc(16, 16), 32)
    i = rec.allocate_blocks(2, 2)  # blocks 0..1
    v = rec.alloc(40)  # 3 blocks: 2..4
    v = rec.realloc(v, 70)  # 5 blocks: the run behind is free, in place at 2
    raises(AllocError, rec.grow_in_place, i, 2, 3)  # block 2 is v's
    raises(AllocError, rec.alloc, 1000)
    j = rec.allocate_blocks(4)  # 7..10
    rec.shrink_in_place(j, 4, 1)
    assert rec.grow_up_to(i, 2, 9) == 2  # v sits right behind i
    rec.deallocate_blocks(1, 1)  # the second half of i
    rec.deallocate_blocks(0, 1)  # the first: i is gone
    with rec.scoped(20, 16):  # 2 blocks, in i's place
        pass
    rec.free(v)
    rec.deallocate_blocks(j, 1)
    rec.clear()
    n, text = _dump(rec)
    assert n == 15
    assert text == (
        "# stalloc-trace 1 blocks=16 block_size=16 records=15 dropped=0\n"
        "allocate_blocks 0 32 32 0\n"
        "alloc 1 40 1 2\n"
        "realloc 1 70 1 40 2\n"
        "grow_in_place 0 0 32 48 -\n"
        "alloc 2 1000 1 -\n"
        "allocate_blocks 3 64 16 7\n"
        "shrink_in_place 3 0 64 16\n"
        "grow_up_to 0 0 32 144 32\n"
        "deallocate_blocks 0 16 16\n"
        "deallocate_blocks 0 0 16\n"
        "alloc 4 20 16 0\n"
        "free 4 20\n"
        "free 1 70\n"
        "deallocate_blocks 3 0 16\n"
        "clear\n"
    ), text


def test_ids_follow_an_allocation_that_moves_and_are_never_reused():
    rec = TraceRecorder(Stalloc(16, 4), 16)
    a = rec.alloc(8)  # id 0 at 0..1
    b = rec.alloc(4)  # id 1 at 2
    a = rec.realloc(a, 16)  # cannot grow into b: moves to 3..6, keeps id 0
    rec.free(b)
    c = rec.alloc(4)  # id 2, at 0: a block an earlier id had
    rec.free(a)
    rec.free(c)
    lines = _dump(rec)[1].splitlines()[1:]
    assert lines == [
        "alloc 0 8 1 0",
        "alloc 1 4 1 2",
        "realloc 0 16 1 8 3",
        "free 1 4",
        "alloc 2 4 1 0",
        "free 0 16",
        "free 2 4",
    ], lines


def test_a_full_log_counts_dropped_records_and_never_grows():
    heap = Stalloc(32, 8)
    rec = TraceRecorder(heap, 3)
    size = len(rec._buf)
    for _ in range(5):
        rec.allocate_blocks(1)
    raises(AllocError, rec.allocate_blocks, 100)  # a failure past the end: dropped too
    assert rec.records == 3 and rec.dropped == 3 and rec.capacity == 3
    assert len(rec._buf) == size == 48
    assert heap.stats().used == 5  # every call still ran
    n, text = _dump(rec)
    lines = text.splitlines()
    assert n == 3 and len(lines) == 4
    assert lines[0] == "# stalloc-trace 1 blocks=32 block_size=8 records=3 dropped=3"
    assert lines[3] == "allocate_blocks 2 8 8 2"
    for k in range(5):
        rec.deallocate_blocks(k, 1)
    rec.reset()
    assert rec.records == 0 and rec.dropped == 0


def test_rejected_calls_are_not_logged_and_change_nothing():
    rec = TraceRecorder(Stalloc(8, 4), 8)
    i = rec.allocate_blocks(2)
    rejects(ValueError, rec.heap, rec.allocate_blocks, 0)
    rejects(TypeError, rec.heap, rec.alloc, "x")
    rejects(ValueError, rec.heap, rec.deallocate_blocks, i + 2, 1)  # free already
    rejects(ValueError, rec.heap, rec.free, memoryview(bytearray(4)))
    rejects(ValueError, rec.heap, rec.shrink_in_place, i, 2, 3)
    assert rec.records == 1


def test_record_fields_are_raw_and_sizes_saturate():
    rec = TraceRecorder(Stalloc(8, 4), 8)
    rec.allocate_blocks(3, 4)
    raises(AllocError, rec.alloc, 10**12, 8)
    assert rec.record(0) == ("allocate_blocks", False, 4, 0, 0, 3, 0)
    assert rec.record(1) == ("alloc", True, 8, 0xFFFF, 0, 0x3FFFFFFF, 0)
    raises(IndexError, rec.record, 2)
    raises(IndexError, rec.record, -1)


def test_the_recorder_is_the_heap_for_everything_else():
    heap = Stalloc(12, 8)
    rec = TraceRecorder(heap, 8)
    v = rec.alloc(20)
    rec.allocate_blocks(2)
    assert rec.blocks == 12 and rec.block_size == 8 and rec.footprint == heap.footprint
    assert rec.map(12) == heap.map(12) == "#####......."
    assert rec.owns(v) and not rec.is_empty() and not rec.is_oom()
    assert rec.free_runs() == heap.free_runs()
    assert str(rec) == str(heap) and rec.stats().used == 5
    buf = bytearray(12)
    assert rec.map_into(buf) == 12 and bytes(buf) == b"#####......."
    rec.check()
    chain = rec.chain(Stalloc(4, 8))  # the byte API through a chain is logged too
    w = chain.alloc(8)
    chain.free(w)
    assert rec.records == 4


def test_recording_needs_an_empty_heap_and_a_capacity():
    heap = Stalloc(4, 4)
    heap.allocate_blocks(1)
    raises(ValueError, TraceRecorder, heap)
    raises(ValueError, TraceRecorder, Stalloc(4, 4), 0)
    raises(TypeError, TraceRecorder, Stalloc(4, 4), 1.5)
    rec = TraceRecorder(Stalloc(4, 4), 4)
    rec.allocate_blocks(1)
    raises(ValueError, rec.reset)


def _exercise(rec, out):
    # Every logged integer-API call, failures included; results into out.
    i = rec.allocate_blocks(4, 2)
    rec.shrink_in_place(i, 4, 2)
    out[0] = rec.grow_up_to(i, 2, 4)
    rec.grow_in_place(i, 4, 5)
    try:
        rec.allocate_blocks(100)
    except MemoryError:  # AllocError cannot be built with the heap locked
        out[1] = 1
    try:
        rec.grow_in_place(i, 5, 100)
    except MemoryError:
        out[2] = 1
    rec.deallocate_blocks(i + 4, 1)
    rec.deallocate_blocks(i, 4)
    j = rec.allocate_blocks(3)
    rec.clear()
    out[3] = j
    for _ in range(4):  # past the capacity: counted, not stored
        rec.allocate_blocks(1)


def test_recording_the_integer_api_runs_with_the_heap_locked():
    micropython = _micropython()
    for make in (Stalloc, SyncStalloc):
        rec = TraceRecorder(make(32, 16), 10)
        out = bytearray(4)
        micropython.heap_lock()
        try:
            _exercise(rec, out)
        finally:
            micropython.heap_unlock()
        assert list(out) == [4, 1, 1, 0], list(out)
        assert rec.records == 10 and rec.dropped == 4
        lines = _dump(rec)[1].splitlines()
        assert lines[1:] == [
            "allocate_blocks 0 64 32 0",
            "shrink_in_place 0 0 64 32",
            "grow_up_to 0 0 32 64 64",
            "grow_in_place 0 0 64 80 0",
            "allocate_blocks 1 1600 16 -",
            "grow_in_place 0 0 80 1600 -",
            "deallocate_blocks 0 64 16",
            "deallocate_blocks 0 0 64",
            "allocate_blocks 2 48 16 0",
            "clear",
        ], lines


def test_recording_leaves_the_heap_as_the_same_calls_would():
    # The recorder only watches: the heap ends byte for byte as without it.
    plain = Stalloc(40, 8)
    rec = TraceRecorder(Stalloc(40, 8), 256)
    for heap in (plain, rec):
        live = []
        _random_ops(heap, Rng(3), 120, live)
    assert snapshot(plain) == snapshot(rec.heap)
    assert rec.records + rec.dropped >= 120 - rec.heap.stats().failed


def test_dump_keeps_ids_after_a_partial_free_and_a_new_allocation_in_the_hole():
    rec = TraceRecorder(Stalloc(8, 4), 16)
    assert rec.allocate_blocks(4) == 0  # id 0: blocks 0..3
    rec.deallocate_blocks(0, 2)  # its head
    assert rec.allocate_blocks(2) == 0  # id 1, in the hole: 0..1
    rec.deallocate_blocks(2, 2)  # the rest of id 0, 8 bytes past its start
    rec.deallocate_blocks(0, 2)  # id 1
    v = rec.alloc(4)  # id 2 at 0
    rec.free(v)
    lines = _dump(rec)[1].splitlines()[1:]
    assert lines == [
        "allocate_blocks 0 16 4 0",
        "deallocate_blocks 0 0 8",
        "allocate_blocks 1 8 4 0",
        "deallocate_blocks 0 8 8",
        "deallocate_blocks 1 0 8",
        "alloc 2 4 1 0",
        "free 2 4",
    ], lines
    assert rec.is_empty()
    assert _replay(rec).is_empty()


def test_shrink_and_grow_carry_their_offset_inside_the_allocation():
    rec = TraceRecorder(Stalloc(16, 4), 16)
    i = rec.allocate_blocks(6)  # id 0: 0..5
    rec.deallocate_blocks(i, 2)  # head freed: the rest starts 8 bytes in
    rec.shrink_in_place(i + 2, 4, 3)  # 2..4
    rec.grow_in_place(i + 2, 3, 5)  # 2..6
    raises(AllocError, rec.grow_in_place, i + 2, 5, 20)
    assert rec.grow_up_to(i + 2, 5, 7) == 7  # 2..8
    rec.deallocate_blocks(i + 4, 1)  # a hole at 4: the tail 5..8 is 20 bytes in
    rec.shrink_in_place(i + 5, 4, 2)  # 5..6
    rec.grow_in_place(i + 5, 2, 3)  # 5..7
    lines = _dump(rec)[1].splitlines()[1:]
    assert lines == [
        "allocate_blocks 0 24 4 0",
        "deallocate_blocks 0 0 8",
        "shrink_in_place 0 8 16 12",
        "grow_in_place 0 8 12 20 2",
        "grow_in_place 0 8 20 80 -",
        "grow_up_to 0 8 20 28 28",
        "deallocate_blocks 0 16 4",
        "shrink_in_place 0 20 16 8",
        "grow_in_place 0 20 8 12 5",
    ], lines
    assert _replay(rec).map(16) == rec.map(16) == "..##.###........"


def _replay(rec):
    # rec's dump, each line replayed as dump() writes it (no text kept: a long log fits
    # a small GC heap) on a fresh heap of rec's shape, each op at its id's start + OFFSET,
    # checking every placement against the recorded one: the same calls in the same
    # order land at the same blocks. Returns the heap.
    B = rec.block_size
    heap = Stalloc(rec.blocks, B)
    live = {}  # id -> [start block, blocks held]: only ids that hold blocks
    views = {}

    def at(ident, offset, change):
        ent = live[ident]
        ent[1] += change
        i = ent[0] + offset // B
        if not ent[1]:
            del live[ident]
        return i

    def write(line):
        w = line.split()
        op = w[0]
        if op == "#":
            return
        if op == "clear":
            heap.clear()
            live.clear()
            views.clear()
            return
        ident = int(w[1])
        f = [-1 if x == "-" else int(x) for x in w[2:]]
        if op == "allocate_blocks":
            try:
                i = heap.allocate_blocks(f[0] // B, f[1] // B)
            except AllocError:
                i = -1
            else:
                live[ident] = [i, f[0] // B]
            assert i == f[2], line
        elif op == "alloc":
            try:
                views[ident] = heap.alloc(f[0], f[1])
            except AllocError:
                assert f[2] < 0, line
        elif op == "free":
            heap.free(views.pop(ident))
        elif op == "deallocate_blocks":
            heap.deallocate_blocks(at(ident, f[0], -f[1] // B), f[1] // B)
        elif op == "shrink_in_place":
            heap.shrink_in_place(at(ident, f[0], (f[2] - f[1]) // B), f[1] // B, f[2] // B)
        elif op == "grow_in_place":
            i = at(ident, f[0], 0)
            try:
                heap.grow_in_place(i, f[1] // B, f[2] // B)
            except AllocError:
                i = -1
            else:
                at(ident, 0, (f[2] - f[1]) // B)
            assert i == f[3], line
        elif op == "grow_up_to":
            got = heap.grow_up_to(at(ident, f[0], 0), f[1] // B, f[2] // B)
            at(ident, 0, got - f[1] // B)
            assert got * B == f[3], line
        else:
            raise AssertionError("unexpected line " + line)

    rec.dump(write)
    return heap


def _record_from_threads(steps, seed):
    try:
        from test_sync import _run_threads  # the portable thread runner, on `_thread`
    except ImportError:
        raise SkipTest("no _thread on this port") from None

    heap = SyncStalloc(64, 8)
    rec = TraceRecorder(heap, 4 * 2 * steps)
    calls = [0, 0, 0, 0]
    started = [0, 0, 0, 0]

    def worker(k):
        rng = Rng(seed + k)
        mine = []
        started[k] = 1
        while sum(started) < 4:  # all four at once: the calls interleave
            pass
        for _ in range(steps):
            n = rng.range(1, 3)
            calls[k] += 1
            try:
                mine.append((rec.allocate_blocks(n), n))
            except AllocError:
                pass
            if len(mine) > 3:
                i, n = mine.pop(0)
                calls[k] += 1
                rec.deallocate_blocks(i, n)  # the last 3 stay allocated

    assert _run_threads(4, worker) == []
    heap.check()
    total = calls[0] + calls[1] + calls[2] + calls[3]
    assert rec.records + rec.dropped == total, (rec.records, rec.dropped, total)
    assert rec.dropped == 0
    replayed = _replay(rec)  # every placement as recorded
    assert replayed.stats().used == heap.stats().used > 0
    assert replayed.map(64) == heap.map(64)


def test_recording_from_threads_logs_every_call_in_the_heap_order():
    # 4 threads x 4000 allocate/deallocate pairs on a SyncStalloc: each call and its
    # record happen under one acquisition of the heap's lock, so no record is lost and
    # the log's order is the heap's (a replay places every allocation where it was).
    # CPython's GIL interleaves threads less often: three rounds there.
    steps = 4000  # 512 KB of log on a host; a small board records less, as it has room for
    # (twice the log: the replay's dump lines and dicts need room of their own)
    while steps > 25 and not room_for(2 * 4 * 2 * steps * 16):
        steps //= 4
    for seed in (70, 80, 90) if not IS_MPY else (70,):
        _record_from_threads(steps, seed)


def test_recording_on_a_sync_heap_takes_its_lock_once_per_call():
    heap = SyncStalloc(8, 4)
    rec = TraceRecorder(heap, 8)
    with heap.acquire_locked() as h:  # another batch holds the lock: the recorder refuses,
        raises(RuntimeError, rec.allocate_blocks, 1)  # as the heap's own calls do
        raises(RuntimeError, rec.alloc, 4)
        assert h.is_empty()
    assert rec.records == 0
    assert rec.allocate_blocks(2) == 0 and rec.records == 1
    assert heap._lock.acquire(0)  # released after the call
    heap._lock.release()


class _Masked:
    # The shape of an IrqStalloc (ports/micropython/stalloc/irq.py) without importing it:
    # a Stalloc in _heap behind a critical section (_disable, _enable). enable() notes
    # how many records the recorder had when the section ended.
    def __init__(self, L, B):
        self._heap = Stalloc(L, B)
        self.depth = 0
        self.rec = None
        self.seen = []

    def _disable(self):
        self.depth += 1
        return self.depth - 1

    def _enable(self, state):
        self.seen.append(self.rec.records)
        self.depth = state

    def is_empty(self):
        return self._heap.is_empty()

    @property
    def blocks(self):
        return self._heap.blocks

    @property
    def block_size(self):
        return self._heap.block_size


def test_recording_on_an_irq_heap_logs_inside_its_critical_section():
    heap = _Masked(8, 4)
    rec = heap.rec = TraceRecorder(heap, 8)
    i = rec.allocate_blocks(2)
    raises(AllocError, rec.grow_in_place, i, 2, 20)  # the section ends also on an error
    rec.shrink_in_place(i, 2, 1)
    v = rec.alloc(4)
    rec.free(v)
    rec.deallocate_blocks(i, 1)
    assert heap.seen == [1, 2, 3, 4, 5, 6] and heap.depth == 0  # each record in its call's
    assert heap._heap.is_empty()
    assert _dump(rec)[1].splitlines()[1:] == [
        "allocate_blocks 0 8 4 0",
        "grow_in_place 0 0 8 80 -",
        "shrink_in_place 0 0 8 4",
        "alloc 1 4 1 1",
        "free 1 4",
        "deallocate_blocks 0 0 4",
    ]


# -- Stack.layout ----------------------------------------------------------------------------


def test_stack_layout_names_chunks_and_frames():
    stack = Stack(1024, allocator=Stalloc(64, 64))
    assert stack.layout() == ([(1024, 0)], [])
    with stack.frame(200), stack.frame(10, "O"), stack.frame(301):
        # 200 bytes at 0, object slots (no bytes), 301 bytes at the next 8-aligned offset
        assert stack.layout() == ([(1024, 501)], [(0, 0, 200), (0, 200, 301)])
        with stack.frame(900):  # does not fit: a new, bigger chunk
            chunks, frames = stack.layout()
            assert len(chunks) == 2 and chunks[0] == (1024, 501)
            assert chunks[1][0] >= 900 and chunks[1][1] == 900
            assert frames == [(0, 0, 200), (0, 200, 301), (1, 0, 900)]
    chunks, frames = stack.layout()
    assert frames == [] and chunks[-1][1] == 0
