# The block heap under fault injection (_faults.py): every call of the byte and integer
# APIs, SyncStalloc, scoped(), the constructors and the TraceRecorder either completes
# or raises MemoryError with the heap exactly as it was (but the failed counter), its live
# views intact, and the same call then works.

from stalloc import AllocError, Stalloc, SyncStalloc, TraceRecorder

from _faults import (
    WASM,
    Case,
    allocates_nothing,
    attempt,
    fails,
    heap_state,
    locked,
    repeats_without_growth,
    sweep,
)
from _util import IS_MPY, fill, raises, verify

# A heap whose block indexes and trailer offsets pass 256: CPython makes such ints on the
# heap, so its kernels could fail between two writes if they computed while writing.
# (MicroPython's small ints are never made: there the cases run on a smaller heap, which
# a small board's fragmented GC heap can still copy for state().)
BIG = (600, 4) if not IS_MPY else (120, 4)


class HeapCase(Case):
    # A heap with two live views holding patterns (a before and b after a gap of free
    # blocks, c behind), so that the calls have runs to split and merge.
    L, B, views = 16, 16, 4

    def heap(self):
        return Stalloc(self.L, self.B, self.views)

    def make(self):
        h = self.heap()
        a = h.alloc(20)
        gap = h.alloc(self.B)
        b = h.alloc(40)
        h.free(gap)
        fill(a, 1)
        fill(b, 2)
        return [h, a, b]

    def state(self, s):
        return heap_state(s[0])

    def check(self, s):
        h, a, b = s[0], s[1], s[2]
        h.check()
        assert verify(a, 1) and verify(b, 2), "a live view lost its contents"

    def settle(self, s, extra):
        # Free everything: the heap must be empty and whole.
        h = s[0]
        for v in extra:
            h.free(v)
        h.free(s[1])
        h.free(s[2])
        assert h.is_empty(), "blocks leaked"
        h.check()


class Alloc(HeapCase):
    def op(self, s):
        return s[0].alloc(30)

    def done(self, s, r):
        fill(r, 3)
        self.check(s)
        self.settle(s, [r])


class AllocNoPool(Alloc):
    views = 0


class AllocPoolEmpty(Alloc):
    views = 1  # a holds the pooled view: alloc() makes a fresh one


class AllocBig(Alloc):
    L, B = BIG


class AllocBigNoPool(Alloc):
    L, B, views = BIG + (0,)


def test_alloc_is_all_or_nothing():
    for case in (Alloc(), AllocNoPool(), AllocPoolEmpty(), AllocBig(), AllocBigNoPool()):
        sweep(case)
    # Where views are fresh a MemoryError can strike while the view is made.
    fails(AllocNoPool())
    fails(AllocPoolEmpty())


class Free(HeapCase):
    def op(self, s):
        return s[0].free(s[1])

    def done(self, s, r):
        h = s[0]
        h.free(s[2])
        assert h.is_empty()
        h.check()


class FreeNoPool(Free):
    views = 0


class FreeBig(Free):
    L, B, views = BIG + (0,)


def test_free_is_all_or_nothing():
    for case in (Free(), FreeNoPool(), FreeBig()):
        sweep(case)


class ReallocGrowInPlace(HeapCase):
    # b grows into the free blocks behind it.
    size = 60

    def op(self, s):
        return s[0].realloc(s[2], self.size)

    def done(self, s, r):
        assert len(r) == self.size
        assert verify(r[:40] if self.size > 40 else r, 2)
        fill(r, 2)
        s[2] = r
        self.check(s)
        self.settle(s, [])


class ReallocGrowInPlaceNoPool(ReallocGrowInPlace):
    views = 0


class ReallocShrinkInPlace(ReallocGrowInPlace):
    size = 17


class ReallocShrinkInPlaceNoPool(ReallocShrinkInPlace):
    views = 0


class ReallocSameBlocks(ReallocGrowInPlace):
    size = 33


class ReallocSameBlocksNoPool(ReallocSameBlocks):
    views = 0


class ReallocMove(HeapCase):
    # a cannot grow (the gap is one block): it moves behind b.
    views = 4

    def op(self, s):
        return s[0].realloc(s[1], 100)

    def done(self, s, r):
        assert len(r) == 100 and verify(r[:20], 1)
        h = s[0]
        h.check()
        h.free(r)
        h.free(s[2])
        assert h.is_empty()
        h.check()

    def check(self, s):
        s[0].check()
        assert verify(s[1], 1) and verify(s[2], 2)


class ReallocMoveNoPool(ReallocMove):
    views = 0


class ReallocMoveBig(ReallocMove):
    L, B, views = BIG + (0,)


def test_realloc_is_all_or_nothing():
    for case in (
        ReallocGrowInPlace(),
        ReallocGrowInPlaceNoPool(),
        ReallocShrinkInPlace(),
        ReallocShrinkInPlaceNoPool(),
        ReallocSameBlocks(),
        ReallocSameBlocksNoPool(),
        ReallocMove(),
        ReallocMoveNoPool(),
        ReallocMoveBig(),
    ):
        sweep(case)
    # Where a view is made fresh, each of these can fail while making it.
    fails(ReallocGrowInPlaceNoPool())
    fails(ReallocShrinkInPlaceNoPool())
    fails(ReallocMoveNoPool())


class Scoped(HeapCase):
    # A whole `with heap.scoped(n)`, where freeing allocates nothing (MicroPython).
    def op(self, s):
        with s[0].scoped(30) as v:
            v[0] = 1
        return None

    def done(self, s, r):
        self.check(s)
        self.settle(s, [])


class ScopedNoPool(Scoped):
    views = 0


class ScopedEnter(HeapCase):
    # Entering a scope: its allocation. (On CPython the exit's free locates the view
    # through ctypes, which can fail: free() is all or nothing, the `with` as a whole is
    # not, see docs/api.md.)
    views = 0

    def op(self, s):
        scope = s[0].scoped(30)
        scope.__enter__()
        return scope

    def done(self, s, scope):
        scope.__exit__(None, None, None)
        self.check(s)
        self.settle(s, [])


def test_scoped_is_all_or_nothing():
    fails(ScopedEnter())
    if IS_MPY:
        sweep(Scoped())
        fails(ScopedNoPool())


class Blocks(HeapCase):
    # The integer API on a heap whose indexes are heap-made ints on CPython: one call per
    # case, on u blocks at s[3] (u = L / 6) with free blocks behind. op() returns their
    # new size.
    L, B, views = BIG + (0,)
    u = BIG[0] // 6

    def make(self):
        s = HeapCase.make(self)
        h = s[0]
        i = h.allocate_blocks(self.u, 4)
        j = h.allocate_blocks(self.u // 2)
        h.deallocate_blocks(j, self.u // 2)
        return s + [i]

    def done(self, s, r):
        h = s[0]
        h.check()
        if r:
            h.deallocate_blocks(s[3], r)
        self.settle(s, [])


class Allocate(Blocks):
    def op(self, s):
        return s[0].allocate_blocks(3 * self.u, 8)

    def done(self, s, r):
        s[0].deallocate_blocks(r, 3 * self.u)
        Blocks.done(self, s, self.u)


class Shrink(Blocks):
    def op(self, s):
        s[0].shrink_in_place(s[3], self.u, self.u // 2)
        return self.u // 2


class Grow(Blocks):
    def op(self, s):
        s[0].grow_in_place(s[3], self.u, 2 * self.u)
        return 2 * self.u


class GrowUpTo(Blocks):
    def op(self, s):
        return s[0].grow_up_to(s[3], self.u, 3 * self.u)


class Deallocate(Blocks):
    def op(self, s):
        s[0].deallocate_blocks(s[3], self.u)
        return 0


def test_integer_api_is_all_or_nothing():
    for case in (Allocate(), Shrink(), Grow(), GrowUpTo(), Deallocate()):
        sweep(case)


class SyncAlloc(Alloc):
    def heap(self):
        return SyncStalloc(self.L, self.B, self.views)


class SyncAllocNoPool(SyncAlloc):
    views = 0


class SyncRealloc(ReallocGrowInPlace):
    def heap(self):
        return SyncStalloc(self.L, self.B, self.views)


class SyncReallocNoPool(SyncRealloc):
    views = 0


def test_sync_heap_is_all_or_nothing():
    sweep(SyncAlloc())
    sweep(SyncRealloc())
    fails(SyncAllocNoPool())
    fails(SyncReallocNoPool())


class Construct(Case):
    # A constructor keeps nothing when it fails; the heap it makes is whole.
    views = 8

    def make(self):
        return [None]

    def op(self, s):
        return Stalloc(64, 16, self.views)

    def state(self, s):
        return s[0]

    def done(self, s, h):
        assert h.is_empty() and h.blocks == 64
        v = h.alloc(100)
        h.free(v)
        h.check()


class ConstructSync(Construct):
    def op(self, s):
        return SyncStalloc(64, 16, self.views)


def test_constructors_fail_whole():
    fails(Construct())
    fails(ConstructSync())


class Record(HeapCase):
    # A TraceRecorder's logged calls: the heap and the log both all-or-nothing.
    views = 0

    def make(self):
        h = Stalloc(self.L, self.B, self.views)
        rec = TraceRecorder(h, 64)
        a = rec.alloc(20)
        gap = rec.alloc(self.B)
        b = rec.alloc(40)
        rec.free(gap)
        fill(a, 1)
        fill(b, 2)
        return [rec, a, b]

    def state(self, s):
        rec = s[0]
        return (heap_state(rec.heap), rec.records, rec.dropped)

    def done(self, s, r):
        rec = s[0]
        # The call is in the log (or counted as dropped, with every later one).
        assert rec.records + rec.dropped == 5, (rec.records, rec.dropped)
        if r is not None:
            rec.free(r)
        for v in (s[1], s[2]):
            if rec.owns(v):
                rec.free(v)
        assert rec.is_empty()
        rec.check()


class RecordAlloc(Record):
    def op(self, s):
        return s[0].alloc(30)


class RecordRealloc(Record):
    def op(self, s):
        return s[0].realloc(s[2], 50)

    def done(self, s, r):
        s[2] = r
        Record.done(self, s, None)


class RecordFree(Record):
    def op(self, s):
        return s[0].free(s[1])


def test_trace_recorder_is_all_or_nothing():
    fails(RecordAlloc())
    fails(RecordRealloc())
    sweep(RecordFree())


class RecordRefused(Record):
    # A call the heap refuses (no room): it fails at every point, and must be logged as
    # failed, or counted as dropped where its record cannot be written (CPython) - or,
    # failing before the heap refused, not logged at all.
    def op(self, s):
        return s[0].alloc(10**4)


def test_a_refused_call_is_logged_or_dropped_and_the_log_stays_a_prefix():
    case = RecordRefused()
    clean = 0
    k = 0
    while clean < (1 if WASM else 3):  # (WebAssembly: the heap locked, one point)
        s = case.make()
        rec = s[0]
        heap = rec.heap
        n = rec.records
        failed = heap.stats().failed
        r, err = attempt(case, s, k)
        assert isinstance(err, MemoryError) and r is None, (k, err)
        refused = heap.stats().failed - failed
        assert rec.records + rec.dropped == n + refused, (k, rec.records, rec.dropped)
        rec.free(s[1])  # a later call: logged, unless the log lost a record before
        assert rec.records == (n if rec.dropped else n + refused + 1), k
        clean = clean + 1 if refused and not rec.dropped else 0
        k += 1
        assert k < 3000


def test_repeated_failures_keep_nothing():
    # The same failing call again and again on one heap keeps no GC memory.
    repeats_without_growth(AllocNoPool(), 0)
    repeats_without_growth(ReallocGrowInPlaceNoPool(), 0)
    repeats_without_growth(ReallocMoveNoPool(), 1)


def test_warm_pooled_calls_run_with_the_heap_locked():
    # The other side of all or nothing: with a view pool, alloc() and free() allocate
    # nothing at all (MicroPython: they run with the GC heap locked), also after a
    # refused call.
    if not IS_MPY:
        return
    from stalloc import heap as heap_module

    case = Alloc()
    s = case.make()
    s[0].free(case.op(s))
    s[0].free(s[0].alloc(10))
    raises(AllocError, s[0].alloc, 10**4)
    assert locked(Free().op, s)  # a's view back to the pool
    assert locked(case.op, s)  # and out again
    if heap_module.ACCELERATED:  # not even a call frame lent by the GC heap
        assert allocates_nothing(_pair, s)


def _pair(s):
    s[0].free(s[0].alloc(30))
