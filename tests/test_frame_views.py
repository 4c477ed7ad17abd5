# The second stack's fast byte frames (stack_native.py) and the arena's pooled views
# (arena.py): what the fast path leaves for the slow one, the views it must not reuse,
# and the GC heap untouched. Apart from test_views.py so that each file's code fits a
# small virtual board next to the stacks it makes.

import gc
import sys

from stalloc import MemoryArena, Stack, Stalloc
from stalloc._base import view_address

from _util import (
    IS_MPY,
    Rng,
    SkipTest,
    micropython_only,
    raises,
    room_for,
    warm_stack,
    write_first,
)

# -- the fast byte frames (stack_native.py): what they leave for the slow path -------------


def _stack_state(stack):
    return (stack.depth, stack._top, stack.capacity, stack.held, len(stack._old))


def _grows_inside(stack, seen):
    # A frame's body that moves the stack to a new chunk, noting what it sees.
    def outer(a):
        a[:] = bytes(range(200))
        with stack.frame(2000) as b:  # does not fit: a new chunk
            b[1999] = 5
            seen.append(stack.layout()[1])
        seen.append(bytes(a) == bytes(range(200)))
        return len(a)

    return outer


def test_a_fast_frame_ends_right_when_the_stack_grows_inside_it():
    # uninit()'s frame opens on the warm chunk; inside it a frame that does not fit moves
    # the stack to a new chunk. Ending the outer frame then takes the slow path: the old
    # chunk is given back and the stack is as a stack that never grew would leave it.
    for closure in (True, False):
        heap = Stalloc(64, 64, views=4)
        stack = Stack(512, allocator=heap)
        warm_stack(stack, 2)
        seen = []
        outer = _grows_inside(stack, seen)
        if closure:
            assert stack.uninit(200, outer) == 200
        else:
            with stack.frame(200) as a:
                outer(a)
        assert seen[0] == [(0, 0, 200), (1, 0, 2000)] and seen[1], (closure, seen)
        assert stack.depth == 0 and stack._old == [] and stack._top == 0, closure
        assert stack.held == stack.capacity == len(stack._chunk), closure
        assert stack.uninit(100, len) == 100 and _stack_state(stack)[:2] == (0, 0)
        heap.check()
        heap = stack = outer = None  # gone before the next one is made (a small board)
        gc.collect()


def test_layout_shows_the_frames_of_the_fast_path():
    stack = Stack(4096)
    warm_stack(stack, 3)
    got = []

    def inner(v):
        got.append(stack.layout())

    def outer(v):
        with stack.frame(10):
            stack.uninit(30, inner)

    stack.uninit(100, outer)
    chunks, frames = got[0]
    assert chunks == [(4096, 150)] and frames == [(0, 0, 100), (0, 104, 10), (0, 120, 30)], got
    assert _stack_state(stack)[:2] == (0, 0)


def test_a_frame_left_open_inside_a_fast_frame_is_a_lifo_error():
    stack = Stack(4096)
    warm_stack(stack, 2)
    left = []

    def leaks(v):
        f = stack.frame(8)
        f.__enter__()  # never ended
        left.append(f)

    raises(RuntimeError, stack.uninit, 64, leaks)
    assert stack.depth == 2  # the outer frame's exit was refused: it is marked ended
    left[0].__exit__(None, None, None)  # the inner frame ends, and the outer one with it
    assert _stack_state(stack)[:2] == (0, 0) and stack.uninit(64, len) == 64


def test_object_slots_opened_inside_a_fast_frame_are_cleared():
    stack = Stack(4096)
    warm_stack(stack, 2)
    kept = []

    def fn(v):
        with stack.frame(3, "O") as slots:
            slots[0] = kept
        return stack._nslots

    assert stack.uninit(64, fn) == 0 and stack._nslots == 0
    assert stack._slots[0] is None  # the reference was dropped when its frame ended


def test_nested_fast_frames_run_with_the_gc_heap_locked():
    micropython = micropython_only()
    stack = Stack(8192 if room_for(16384) else 4096)  # (scaled down on a small board)
    warm_stack(stack, 4)

    def inner(v):
        v[len(v) - 1] = 3
        return len(v)

    def outer(v):
        return stack.uninit(1000, inner) + stack.uninit_slice(24, inner) + len(v)

    stack.uninit(2048, outer)
    micropython.heap_lock()
    try:
        n = stack.uninit(2048, outer)
    finally:
        micropython.heap_unlock()
    assert n == 2048 + 1000 + 24 and stack.depth == 0


def test_a_chunk_past_the_offset_field_gets_fresh_views_not_wrong_ones():
    # A view's offset word holds 24 bits of offset in the u32 the library writes: a depth
    # view is reused only where its chunk lies below that (chunks under 16 MiB into their
    # buffer), else every frame gets a fresh view. Here a chunk straddles 16 MiB of a
    # buffer whose first 16 MiB are never touched (uctypes.bytearray_at over `real`), and
    # frames of one depth alternate on either side: each writes exactly its own bytes.
    if not IS_MPY:
        raise SkipTest("views are repointed only on MicroPython")
    import uctypes

    from stalloc import _repoint

    if not _repoint._WIDE:
        # A 32-bit port's memoryview keeps 24 bits of offset: MicroPython itself cannot
        # slice a view 16 MiB into a buffer there.
        raise SkipTest("no memoryview reaches 16 MiB into a buffer on a 32-bit port")

    real = bytearray(4096)
    lead = (16 << 20) - 64  # the chunk's offset in `big`: its byte 64 is 16 MiB in
    if not _repoint.OK or uctypes.addressof(real) < lead:
        raise SkipTest("no repointing here, or no address range below this buffer")
    big = uctypes.bytearray_at(uctypes.addressof(real) - lead, lead + len(real))

    class Far:  # hands out its one chunk, which lies `lead` bytes into `big`
        def alloc(self, n, align=1):
            return memoryview(big)[lead : lead + n]

        def free(self, view):
            pass

    stack = Stack(4096, allocator=Far())
    got = []

    def fill(v):
        v[:] = bytes([len(got) + 1]) * len(v)
        got.append(bytes(real[120:184]) + bytes(real[8:72]))

    for _ in range(3):
        for below in (120, 8):  # depth 1 at 16 MiB + 56, then at 16 MiB - 56
            with stack.frame(below):
                real[:] = bytes(len(real))
                stack.uninit(64, fill)
                mark = bytes([len(got)]) * 64
                want = (mark + bytes(64)) if below == 120 else (bytes(64) + mark)
                assert got[-1] == want, (below, got[-1])
    assert _repoint.offset(memoryview(big)[lead + 100 : lead + 101]) == lead + 100


# -- the arena's pooled views (arena.py) --------------------------------------------------


def test_arena_allocations_and_scopes_run_with_the_gc_heap_locked():
    micropython = micropython_only()
    arena = MemoryArena(1024, views=6)
    scope = arena.allocator()
    with scope as a:
        a.alloc(10)  # warm: every code path once
    out = bytearray(4)
    micropython.heap_lock()
    try:
        for _ in range(3):
            with scope as a:
                v = a.alloc(100)
                w = a.alloc(24, 8)
                v[99] = 1
                w[0] = 2
                out[0] += len(v) == 100 and len(w) == 24
        out[1] = arena.used == 0 and arena.blocks == 1
    finally:
        micropython.heap_unlock()
    assert list(out[:2]) == [3, 1], list(out)


def test_an_arena_view_is_empty_after_its_scope_and_past_the_pool_views_are_fresh():
    arena = MemoryArena(1024, views=2)
    with arena.allocator() as a:
        views = [a.alloc(8) for _ in range(4)]  # two pooled, two fresh
        for k in range(4):
            views[k][:] = bytes([k + 1]) * 8
        assert [bytes(v) for v in views] == [bytes([k + 1]) * 8 for k in range(4)]
    if IS_MPY:
        assert [len(v) for v in views[:2]] == [0, 0]  # emptied: a stale reference sees nothing
        raises(IndexError, write_first, views[0])
        assert len(views[2]) == 8  # a fresh view cannot be emptied
        with arena.allocator() as a:
            assert a.alloc(8) is views[0]  # the pool's first view again
    else:
        raises(ValueError, len, views[0])  # released


def test_arena_views_never_overlap_in_a_random_workload():
    # Random sizes and alignments over scopes, on blocks of the GC heap and of a fixed
    # heap: each view holds its own pattern until the scope ends, aligned as asked.
    for seed in range(6):
        rng = Rng(seed)
        heap = Stalloc(64, 64) if seed & 1 else None
        arena = MemoryArena(512, allocator=heap, views=rng.range(0, 8))
        for _ in range(20):
            with arena.allocator() as a:
                held = []
                for k in range(rng.range(1, 14)):
                    n = rng.range(1, 300)
                    align = rng.choice((1, 2, 4, 8, 16, 64))  # of addresses
                    v = a.alloc(n, align)
                    assert len(v) == n and view_address(v) % align == 0, (seed, n, align)
                    v[:] = bytes([k + 1]) * n
                    held.append((v, k + 1))
                for v, mark in held:
                    assert bytes(v) == bytes([mark]) * len(v), seed
        if heap is not None:
            arena.release()
            assert heap.is_empty()
        heap = arena = a = v = held = None  # gone before the next seed's (a small board)
        gc.collect()


# -- what a MemoryError, or a long life, must not break ----------------------------------


class _FullDict(dict):
    # A dict that cannot grow, as on a full GC heap.
    def __setitem__(self, key, value):
        raise MemoryError("dict cannot grow")


def test_a_fresh_view_that_cannot_be_recorded_gives_its_blocks_back():
    for views in (0, 1):
        h = Stalloc(16, 16, views=views)
        if views:
            h.alloc(16)  # the pool's one view: the next alloc() makes a fresh one
        h._live = _FullDict()
        used = h.stats().used
        raises(MemoryError, h.alloc, 20)
        assert h.stats().used == used, views
        h.check()


def test_a_depth_whose_row_cannot_be_made_still_opens_and_ends_its_frames():
    from stalloc import stack as stack_module

    native = stack_module._native
    if native is None:
        raise SkipTest("the state table exists with the native emitter only")

    class NoRoom:
        def __iter__(self):
            raise MemoryError("no room for the row")

    stack = Stack(1024)
    row = native._ROW
    native._ROW = NoRoom()
    try:
        for _ in range(2):
            with stack.frame(16) as v:
                v[15] = 1
                assert stack.uninit(8, len) == 8  # a new depth: no row, the slow path
    finally:
        native._ROW = row
    assert stack.depth == 0 and stack._top == 0
    stack.trim()


def test_the_chunk_generation_wraps_without_reviving_old_views():
    # A depth's row holds the gen its view was made in and the view's address. When the
    # gen wraps, every row is forgotten: a row from long ago (here: one naming a decoy
    # view, with the gen the stack reaches two chunk changes after the wrap) must not be
    # moved. Its depth's chunk stays (a frame lives in it), so no chunk given back
    # forgets the row first: only the wrap does.
    stack = Stack(256)
    if stack._h is None or stack._move is None:
        # A depth gets a row in the state table (stack_native.py) only where its view is
        # repointed: the native emitter and views that move (_repoint.OK, Stack._move).
        raise SkipTest("no depth rows: no native emitter, or views are not repointed here")
    warm_stack(stack, 3)
    h = stack._h
    assert h[5] >= 3, "depths 0 to 2 keep their views: each has a row"
    decoy = memoryview(bytearray(64))[0:4]
    addr = id(decoy)  # MicroPython's id() is negative from 2**(W-2) to 2**(W-1)
    if addr < 0:
        addr += sys.maxsize + 1
    r = 8 + 8 * 2  # depth 2's row
    h[r + 4] = 0
    h[r + 5] = 2
    h[r + 6] = addr & 0xFFFFFFFF
    h[r + 7] = addr >> 32
    h[3] = 1 << 30  # the next chunk change wraps
    with stack.frame(16) as a:  # depth 0, on the first chunk, which it keeps
        a[:] = bytes([7]) * 16
        with stack.frame(300):  # depth 1: a new chunk, the gen wraps to 1
            assert h[3] == 1 and h[r + 5] == 0, "the wrap forgot no row"
        with stack.frame(600):  # depth 1: another new chunk, gen 2, room left on it
            assert h[3] == 2 and stack.capacity - stack._top >= 8
            assert stack.uninit(8, len) == 8  # depth 2 at gen 2: no row of its own
        assert bytes(a) == bytes([7]) * 16
    assert len(decoy) == 4 and stack.depth == 0


def test_layout_inside_a_fast_frame_leaves_no_reference_behind():
    stack = Stack(1024)
    warm_stack(stack, 2)
    got = []
    stack.uninit(64, lambda v: got.append(stack.layout()))
    assert got[0][1] == [(0, 0, 64)]
    stack.trim()
    assert all(rec[1] is None and rec[7] is None for rec in stack._recs)
