# The integer API allocates nothing on the MicroPython GC heap: with the heap locked
# (as inside a hard interrupt handler) every call still works. Any allocation would
# raise MemoryError. MicroPython only; the suite runs it on the viper and pure paths.
#
# Inside the locked regions the tests themselves must not allocate either: results go
# into preallocated bytearrays and are asserted after unlocking.

from stalloc import Stalloc, SyncStalloc

from _util import fails_locked, micropython_only


def _locked_region():
    return micropython_only("micropython.heap_lock() exists only on MicroPython")


def _exercise(h, out):
    # Every integer-API call, results recorded in out (a bytearray). a takes 0..2, b
    # the 4-aligned 4..5, c the first single block, 3; c cannot grow (b is behind it).
    a = h.allocate_blocks(3)
    b = h.allocate_blocks(2, 4)
    c = h.allocate_blocks(1)
    h.shrink_in_place(a, 3, 1)
    h.grow_in_place(a, 1, 2)
    n = h.grow_up_to(c, 1, 3)
    h.deallocate_blocks(b, 2)
    out[0] = a
    out[1] = b
    out[2] = c
    out[3] = n
    out[4] = h.is_oom()
    out[5] = h.is_empty()
    h.deallocate_blocks(a, 2)
    h.deallocate_blocks(c, n)
    out[6] = h.is_empty()
    h.allocate_blocks(16)
    out[7] = h.is_oom()
    h.clear()
    out[8] = h.is_empty()


def _exercise_locked(h):
    micropython = _locked_region()
    out = bytearray(9)
    micropython.heap_lock()
    try:
        _exercise(h, out)
    finally:
        micropython.heap_unlock()
    assert list(out) == [0, 4, 3, 1, 0, 0, 1, 1, 1], list(out)
    h.check()


def test_integer_api_runs_with_the_heap_locked():
    _exercise_locked(Stalloc(16, 8))


def test_sync_heap_integer_api_runs_with_the_heap_locked():
    _exercise_locked(SyncStalloc(16, 8))


def test_out_of_memory_with_the_heap_locked_raises_memoryerror_and_changes_nothing():
    # AllocError cannot be built without the GC heap: MicroPython raises its
    # preallocated MemoryError instead, which is why handlers catch MemoryError.
    micropython = _locked_region()
    h = Stalloc(4, 8)
    h.allocate_blocks(3)
    before = bytes(h._mem)
    assert fails_locked(micropython, lambda: h.allocate_blocks(2))
    after = bytes(h._mem)
    t = len(after) - 12  # the trailer
    assert after[: t + 8] == before[: t + 8]  # only the failed counter moved
    assert h.stats().failed == 1


def test_many_operations_with_the_heap_locked():
    # A longer run through the allocator's branches (splits, merges, aligned fits).
    micropython = _locked_region()
    h = Stalloc(64, 4)
    idx = bytearray(16)
    size = bytearray(16)
    micropython.heap_lock()
    try:
        for round_ in range(20):
            for k in range(16):
                s = 1 + (k * 7 + round_) % 5
                a = 1 << ((k + round_) % 3)
                try:
                    idx[k] = h.allocate_blocks(s, a)
                    size[k] = s
                except MemoryError:
                    size[k] = 0
            for k in range(0, 16, 2):
                if size[k]:
                    h.deallocate_blocks(idx[k], size[k])
                    size[k] = 0
            for k in range(1, 16, 2):
                if size[k]:
                    h.deallocate_blocks(idx[k], size[k])
                    size[k] = 0
    finally:
        micropython.heap_unlock()
    h.check()
    assert h.is_empty()


def test_a_view_the_gc_heap_cannot_hold_leaves_the_heap_as_it_was():
    # Without a view pool, alloc() makes the memoryview before it takes the blocks: when
    # the GC heap refuses the view, the heap is byte for byte as it was (its peak too;
    # nothing counted as failed).
    micropython = _locked_region()
    h = Stalloc(16, 8, views=0)
    h.free(h.alloc(8))  # the view table has room: only the view itself is refused
    keep = h.alloc(20)
    before = bytes(h._mem)
    assert fails_locked(micropython, lambda: h.alloc(30))
    assert bytes(h._mem) == before
    assert h.stats().live_views == 1 and h.stats().peak_used == 3
    h.check()
    h.free(keep)
    assert h.is_empty()
