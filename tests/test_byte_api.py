# The block heap's byte API: alloc/free/realloc/scoped over memoryviews, including
# stalloc's realloc defects S4, S5 and S7. Portable: pytest and tools/upytest.py.

from stalloc import AllocError, Stalloc
from stalloc._base import addressof

from _util import IS_MPY, fails_cleanly, fill, raises, rejects, verify


def block_of(heap, view):
    return (addressof(view) - addressof(heap._mem)) // heap.block_size


def test_alloc_returns_exact_length_writable_view():
    h = Stalloc(8, 16)
    v = h.alloc(20)
    assert len(v) == 20
    v[:] = b"0123456789abcdefghij"
    assert bytes(v) == b"0123456789abcdefghij"
    assert h.stats().used == 2  # ceil(20 / 16)
    assert h.stats().live_views == 1
    h.free(v)
    assert h.is_empty() and h.stats().live_views == 0


def test_views_never_overlap_and_keep_contents():
    h = Stalloc(64, 8)
    views = []
    for k in range(1, 12):
        v = h.alloc(k * 3)
        fill(v, k)
        views.append((v, k))
    for v, k in views:
        assert verify(v, k)
    for v, _ in views[::2]:
        h.free(v)
    h.check()
    for v, k in views[1::2]:
        assert verify(v, k)


def test_alignment_is_of_addresses_at_every_block_size():
    # The data region starts on a multiple of B in memory, and the byte API aligns
    # addresses, not offsets: every alignment from 1 to 1024, on heaps of B = 4 .. 256,
    # with the blocks in front taken so that the first fit must skip ahead.
    for B in (4, 8, 16, 32, 64, 256):
        h = Stalloc(4096 // B + 8, B)
        assert addressof(h.memory) % B == 0, B
        for align in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024):
            first = h.alloc(1)
            v = h.alloc(5, align)
            assert addressof(v) % align == 0, (B, align)
            w = h.realloc(v, 3 * B + 1, align)  # in place or moved: aligned either way
            assert addressof(w) % align == 0, (B, align)
            h.free(w)
            h.free(first)
        h.check()
        assert h.is_empty()


def test_the_integer_api_aligns_indexes_as_the_crate():
    # allocate_blocks(size, align) keeps the crate's meaning: an index that is a multiple
    # of align, whose address is then align * B aligned (the region starts on a multiple
    # of B; larger alignments of the byte API are of addresses, see above).
    h = Stalloc(64, 16)
    h.allocate_blocks(1)
    for align in (2, 4, 8):
        i = h.allocate_blocks(1, align)
        assert i % align == 0
        assert addressof(h.memory[i * 16 :]) % 16 == 0
        h.deallocate_blocks(i, 1)


def test_heap_start_is_aligned_on_this_runtime():
    # The docs promise at least 8; record what the runtime really gives.
    for L in (1, 7, 100):
        assert addressof(Stalloc(L, 4)._mem) % 8 == 0


def test_alloc_failures_and_bad_arguments():
    h = Stalloc(4, 8)
    fails_cleanly(h, h.alloc, 33)  # one byte more than the heap
    fails_cleanly(h, h.alloc, 1 << 80)
    v = h.alloc(16)
    fails_cleanly(h, h.alloc, 17)
    rejects(ValueError, h, h.alloc, 0)
    rejects(ValueError, h, h.alloc, -5)
    rejects(ValueError, h, h.alloc, 4, 3)
    rejects(ValueError, h, h.alloc, 4, 0)
    rejects(TypeError, h, h.alloc, 4.0)
    rejects(TypeError, h, h.alloc, "4")
    rejects(TypeError, h, h.alloc, 4, None)
    h.free(v)


def test_an_alignment_is_met_where_an_address_meets_it_or_refused():
    # 1 MiB on a 32-byte heap: met only if a block's address is a multiple of it.
    h = Stalloc(4, 8)
    base = addressof(h.memory)
    fits = [i for i in range(4) if (base + 8 * i) % (1 << 20) == 0]
    if fits:
        v = h.alloc(8, 1 << 20)
        assert block_of(h, v) == fits[0]
        h.free(v)
    fails_cleanly(h, h.alloc, 8 * (5 - (fits or [0])[0]), 1 << 20)


def test_bad_frees_leave_heap_unchanged():
    h = Stalloc(8, 8)
    a = h.alloc(10)
    b = h.alloc(10)
    other = Stalloc(8, 8)
    c = other.alloc(10)
    rejects(ValueError, h, h.free, c)  # another heap's view
    rejects(ValueError, h, h.free, a[0:10])  # a re-slice is not the view handed out
    rejects(ValueError, h, h.free, memoryview(bytearray(10)))  # a foreign buffer
    # Anything that is not a live view is a ValueError, the same on both runtimes.
    for not_a_view in (12, None, b"bytes", memoryview(bytearray(0))):
        rejects(ValueError, h, h.free, not_a_view)
    h.free(a)
    rejects(ValueError, h, h.free, a)  # double free
    assert not h.owns(a) and h.owns(b) and not h.owns(c) and not h.owns(None)
    h.free(b)
    other.free(c)
    assert h.is_empty() and other.is_empty()


def test_freed_view_is_dead_on_cpython():
    if IS_MPY:
        return  # MicroPython cannot release a memoryview: documented limitation
    h = Stalloc(4, 8)
    v = h.alloc(8)
    h.free(v)
    raises(ValueError, v.__getitem__, 0)
    raises(ValueError, h.free, v)


def test_free_refuses_a_view_whose_blocks_were_freed_by_index():
    h = Stalloc(4, 8)
    v = h.alloc(8)
    h.deallocate_blocks(block_of(h, v), 1)  # mixing the APIs behind the view's back
    rejects(ValueError, h, h.free, v)


def test_realloc_grows_in_place_when_room_behind():
    h = Stalloc(16, 8)
    v = h.alloc(10)
    fill(v, 3)
    start = addressof(v)
    w = h.realloc(v, 40)
    assert addressof(w) == start and len(w) == 40
    assert verify(w[:10], 3)
    assert h.stats().used == 5
    h.check()


def test_realloc_moves_when_blocked_and_keeps_contents():
    h = Stalloc(16, 8)
    v = h.alloc(16)
    fill(v, 9)
    blocker = h.alloc(8)
    w = h.realloc(v, 30)
    assert block_of(h, w) == 3 and len(w) == 30
    assert verify(w[:16], 9)
    assert not h.owns(v) and h.owns(w)
    assert h.free_runs() == [(0, 2), (7, 9)]
    h.free(blocker)
    h.free(w)
    assert h.is_empty()


def test_realloc_shrinks_in_place():
    h = Stalloc(16, 8)
    v = h.alloc(64)
    fill(v, 5)
    start = addressof(v)
    w = h.realloc(v, 9)
    assert addressof(w) == start and len(w) == 9
    assert verify(w, 5)
    assert h.free_runs() == [(2, 14)]


def test_realloc_failure_keeps_old_view():
    h = Stalloc(4, 8)
    v = h.alloc(16)
    fill(v, 1)
    h.alloc(8)
    fails_cleanly(h, h.realloc, v, 33)
    assert h.owns(v) and verify(v, 1)
    rejects(ValueError, h, h.realloc, v, 0)
    rejects(ValueError, h, h.realloc, memoryview(bytearray(4)), 8)
    h.check()


def test_s4_realloc_rounds_partial_blocks_up():
    # stalloc S4: realloc computed the old block count with floor division, leaking
    # the partial block (or passing 0 blocks for sizes below B).
    h = Stalloc(8, 4)
    v = h.alloc(5)  # 2 blocks
    w = h.realloc(v, 9)  # 3 blocks
    assert h.stats().used == 3
    x = h.realloc(w, 3)  # below one block
    assert h.stats().used == 1
    h.free(x)
    assert h.is_empty()


def test_s5_moving_shrink_copies_only_what_fits():
    # stalloc S5: a shrink that had to move (new alignment) copied the old size into
    # the smaller block, writing past it (over the heap's end in the crate's case).
    h = Stalloc(8, 8)
    a = h.alloc(16)  # blocks 0..1
    pad = h.alloc(8)  # block 2: an overrun of the moved data would land here
    fill(pad, 42)
    v = h.alloc(24)  # blocks 3..5, not 2-block aligned
    fill(v, 7)
    tail = h.alloc(16)  # blocks 6..7
    fill(tail, 99)
    h.free(a)
    w = h.realloc(v, 10, 16)  # 2 blocks at a 2-block-aligned index: moves to 0
    assert block_of(h, w) == 0 and len(w) == 10
    assert verify(w, 7)
    assert verify(pad, 42) and verify(tail, 99)
    assert h.free_runs() == [(3, 3)]
    h.check()


def test_s7_growth_in_place_respects_new_alignment():
    # stalloc S7: grow_in_place was tried before checking the new alignment, so a grown
    # block could be misaligned.
    h = Stalloc(16, 8)
    h.alloc(8)  # block 0
    v = h.alloc(8)  # block 1, free space right behind it
    w = h.realloc(v, 16, 16)  # room behind, but block 1 is not 2-block aligned
    assert block_of(h, w) % 2 == 0
    assert (addressof(w) - addressof(h._mem)) % 16 == 0
    h.check()


def test_scoped_frees_on_exit_and_on_exception():
    h = Stalloc(8, 8)
    with h.scoped(20) as v:
        assert len(v) == 20 and h.stats().used == 3
    assert h.is_empty()
    try:
        with h.scoped(8) as v:
            raise KeyError("boom")
    except KeyError:
        pass
    assert h.is_empty()
    h.alloc(64)
    scope = h.scoped(1)
    raises(AllocError, scope.__enter__)
    assert h.stats().live_views == 1


def test_scoped_view_freed_or_reallocated_inside_the_block():
    h = Stalloc(8, 8)
    try:
        with h.scoped(8) as v:
            h.free(v)
            raise KeyError("the body's own error")
    except KeyError:
        pass  # not masked by the scope
    scope = h.scoped(8)
    v = scope.__enter__()
    moved = h.realloc(v, 40)  # in place: MicroPython's pooled view is the same object
    if moved is v:
        scope.__exit__(None, None, None)  # still the scope's live view: freed
    else:
        raises(RuntimeError, scope.__exit__, None, None, None)
        h.free(moved)
    assert h.is_empty()
    scope = h.scoped(8)
    v = scope.__enter__()
    keep = h.alloc(8)  # behind it: the realloc below must move
    moved = h.realloc(v, 16)
    assert moved is not v
    raises(RuntimeError, scope.__exit__, None, None, None)
    h.free(moved)
    h.free(keep)
    assert h.is_empty()


def test_clear_retires_every_view():
    h = Stalloc(8, 8)
    views = [h.alloc(8) for _ in range(4)]
    h.clear()
    assert h.is_empty() and h.stats().live_views == 0
    for v in views:
        assert not h.owns(v)
    h.check()


def test_realloc_refuses_a_view_whose_blocks_were_freed_by_index():
    h = Stalloc(8, 8)
    v = h.alloc(16)
    h.alloc(8)
    h.deallocate_blocks(block_of(h, v) + 1, 1)  # half the view's blocks, behind its back
    rejects(ValueError, h, h.realloc, v, 12)  # same block count: would re-register them
    rejects(ValueError, h, h.realloc, v, 60)  # a move would allocate before noticing
    rejects(ValueError, h, h.realloc, v, 4)


def test_bools_are_ints_on_both_runtimes():
    # MicroPython's isinstance(True, int) is False; the heap treats bools as 0 and 1
    # on both runtimes, as CPython does.
    h = Stalloc(2, 8)
    v = h.alloc(True)
    assert len(v) == 1
    assert h.allocate_blocks(True, True) == 1
    fails_cleanly(h, h.allocate_blocks, True)  # full: AllocError, not TypeError
    fails_cleanly(h, h.alloc, True)
    rejects(ValueError, h, h.allocate_blocks, 1, False)  # align 0
    h.deallocate_blocks(True, True)
    w = h.realloc(v, True)
    assert len(w) == 1


def test_stale_slice_writes_are_caught_not_followed():
    # A view (or a slice of it) written after free() lands in a free run's header. The
    # kernels check every header before using it, so the next call fails cleanly instead
    # of looping forever or (viper) writing outside the heap.
    for poison in ((0, 0, 0xFF, 0xFF), (16, 0, 1, 0), (2, 0, 0, 0)):
        h = Stalloc(8, 16)
        v = h.alloc(16)
        stale = v[0:4]  # on CPython free() releases v, but not slices of it
        keep = h.alloc(16)
        h.free(v)
        stale[:] = bytes(poison)  # huge length / next out of range / next into itself
        before = bytes(h._mem)
        raises(RuntimeError, h.allocate_blocks, 7)
        raises(RuntimeError, h.alloc, 100)
        raises(RuntimeError, h.deallocate_blocks, 1, 1)
        raises(RuntimeError, h.free, keep)
        raises(RuntimeError, h.stats)
        raises(RuntimeError, h.check)
        raises(RuntimeError, str, h)
        assert bytes(h._mem) == before, "a refused call changed the heap"


def test_realloc_to_a_size_no_heap_holds_is_an_alloc_error():
    # Also where such a size is not a small int (2**31 on a 32-bit board): the size is
    # checked before anything is sliced.
    h = Stalloc(16, 16)
    v = h.alloc(20)
    for size in (2**64 + 3, 2**31, 2**31 - 1, 16 * 16 + 1):
        fails_cleanly(h, h.realloc, v, size)
        assert h.owns(v) and len(v) == 20
    h.check()
