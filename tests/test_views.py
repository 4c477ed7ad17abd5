# The byte API's views on MicroPython: a pool of views made at construction, repointed
# by alloc() and free() (_repoint.py), so that the byte API allocates nothing. CPython
# makes fresh views (and releases them): the behaviour tests run there too.

from stalloc import AllocError, Stack, Stalloc, SyncStalloc

from _util import (
    IS_MPY,
    Rng,
    SkipTest,
    micropython_only,
    raises,
    room_for,
    threads,
    warm_stack,
    write_first,
)


def _pooled(h):
    return h.stats().view_pool > 0


# -- the layout probe ------------------------------------------------------------------


def test_the_probe_passes_on_this_port_and_fails_on_a_wrong_layout():
    micropython_only()
    from stalloc import _repoint

    assert _repoint.OK and _repoint.probe()
    # A view of another buffer: word 3 is not the probe's buffer, nothing is written.
    other = bytearray(64)
    assert not _repoint.probe(lambda buf: memoryview(other)[3:10])
    assert other == bytearray(64)
    # A view at another offset or length: the offset and length words do not match.
    assert not _repoint.probe(lambda buf: memoryview(buf)[4:10])
    assert not _repoint.probe(lambda buf: memoryview(buf)[3:11])
    # Not a memoryview at all: a bytearray's words are not a view's.
    assert not _repoint.probe(lambda buf: bytearray(7))


def test_a_failed_probe_falls_back_to_fresh_views():
    micropython_only()
    from stalloc import _repoint

    ok = _repoint.OK
    _repoint.OK = False
    try:
        h = Stalloc(16, 8)
    finally:
        _repoint.OK = ok
    assert h.stats().view_pool == 0
    v = h.alloc(10)
    v[:2] = b"ok"
    w = h.alloc(10)
    assert v is not w and bytes(v[:2]) == b"ok"
    h.free(v)
    h.free(w)
    assert h.is_empty() and h.stats().views_missed == 0


def test_pool_size_is_the_users_and_cpython_makes_fresh_views():
    h = Stalloc(16, 8, views=3)
    assert h.stats().view_pool == (3 if IS_MPY else 0)
    assert Stalloc(16, 8, views=0).stats().view_pool == 0
    assert Stalloc(16, 8).stats().view_pool == (4 if IS_MPY else 0)  # the default
    for bad in (-1, 65536):
        raises(ValueError, Stalloc, 16, 8, bad)
    raises(TypeError, Stalloc, 16, 8, 2.0)


# -- zero GC allocation ----------------------------------------------------------------


def _warm(h, n):
    # Reach the steady state: the view table has held n views once, and realloc() and
    # scoped() have loaded their modules.
    vs = [h.alloc(8) for _ in range(n)]
    for v in vs:
        h.free(v)
    h.free(h.realloc(h.alloc(8), 24))
    with h.scoped(8):
        pass


def test_every_pooled_operation_runs_with_the_gc_heap_locked():
    micropython = micropython_only()
    h = Stalloc(64, 16, views=4)
    _warm(h, 4)
    out = bytearray(8)
    micropython.heap_lock()
    try:
        a = h.alloc(100)
        b = h.alloc(20, 64)
        a[0] = 1
        out[0] = len(a) == 100 and len(b) == 20
        a = h.realloc(a, 40)  # shrink in place: the same view
        out[1] = len(a) == 40 and a[0] == 1
        a = h.realloc(a, 60)  # grow in place
        out[2] = len(a) == 60
        h.free(b)
        out[3] = len(b) == 0
        with h.scoped(300) as s:
            s[299] = 7
            out[4] = len(s) == 300
        h.free(a)
        for _ in range(50):
            h.free(h.alloc(16 * (1 + _ % 5)))
        out[5] = h.is_empty()
    finally:
        micropython.heap_unlock()
    assert list(out[:6]) == [1] * 6, list(out)
    h.check()


def test_the_byte_api_allocates_nothing_not_even_a_frame():
    # Where MicroPython counts every allocation (micropython.mem_total(), the unix port),
    # the hot calls make none at all, not even a call frame freed on return: bytecode
    # frames over 11 words come from the GC heap. With the native emitter only.
    micropython = micropython_only()
    from stalloc import heap

    if not hasattr(micropython, "mem_total") or not heap.ACCELERATED:
        raise SkipTest("needs micropython.mem_total() and the native emitter")
    h = Stalloc(64, 16, views=4)
    _warm(h, 4)
    h.free(h.alloc(64))
    t = micropython.mem_total()
    for k in range(100):
        h.free(h.alloc(16 + k))
    assert micropython.mem_total() == t


# -- behaviour -------------------------------------------------------------------------


def test_a_view_is_empty_after_free():
    h = Stalloc(16, 8)
    v = h.alloc(20)
    v[0] = 5
    h.free(v)
    if IS_MPY:
        assert len(v) == 0  # emptied, back in the pool
        raises(IndexError, write_first, v)
    else:
        raises(ValueError, len, v)  # released
    raises(ValueError, h.free, v)  # not live: refused, the heap unchanged
    assert h.is_empty()


def test_an_empty_pool_makes_a_fresh_view_or_refuses_in_strict_mode():
    h = Stalloc(16, 8, views=2)
    a, b = h.alloc(8), h.alloc(8)
    c = h.alloc(8)  # the pool is empty now: a fresh view
    c[:] = b"abcdefgh"
    assert bytes(c) == b"abcdefgh"
    assert h.stats().views_missed == (1 if IS_MPY else 0)
    for v in (a, b, c):
        h.free(v)
    assert h.is_empty() and h.stats().view_pool == (2 if IS_MPY else 0)
    s = Stalloc(16, 8, views=2, strict=True)
    a, b = s.alloc(8), s.alloc(8)
    runs, used, failed = s.free_runs(), s.stats().used, s.stats().failed
    if IS_MPY:
        raises(AllocError, s.alloc, 8)  # strict: no fresh view
        assert s.free_runs() == runs and s.stats().used == used
        assert s.stats().failed == failed + 1 and s.stats().views_missed == 1
        s.free(a)
        c = s.alloc(8)  # a view came back: it is handed out again
        assert c is a
    else:
        c = s.alloc(8)  # CPython makes fresh views: strict changes nothing
        s.free(a)
    for v in (b, c):
        s.free(v)
    assert s.is_empty()
    s.check()


def test_realloc_moves_a_pooled_view_with_its_data():
    h = Stalloc(32, 8, views=3)
    a = h.alloc(12)
    a[:] = bytes(range(12))
    block = h.alloc(8)  # behind `a`: growing must move it
    b = h.realloc(a, 40)
    assert bytes(b[:12]) == bytes(range(12)) and len(b) == 40
    if IS_MPY:
        assert b is not a and len(a) == 0  # the old view went back to the pool
    assert h.owns(b) and not h.owns(a)
    h.free(b)
    h.free(block)
    assert h.is_empty()
    h.check()


def test_clear_empties_and_pools_every_view():
    h = Stalloc(16, 8, views=2)
    vs = [h.alloc(8) for _ in range(3)]
    h.clear()
    assert h.is_empty() and h.stats().live_views == 0
    if IS_MPY:
        assert [len(v) for v in vs] == [0, 0, 0]
        assert h.stats().view_pool == 2
    vs = [h.alloc(8) for _ in range(2)]
    assert h.stats().live_views == 2


def test_views_never_reach_outside_their_range():
    # A model of every live view's bytes: each step allocates (filled with a pattern),
    # frees, reallocates (in place or moving) or writes into a view; after every step
    # every live view must read exactly its model, so no view ever wrote into another.
    for seed in range(1, 6):
        rng = Rng(seed)
        h = Stalloc(48, 8, views=rng.range(0, 6))
        live = []  # [view, model bytearray]
        for step in range(150):
            op = rng.below(5)
            if op < 2 or not live:
                n = rng.range(1, 40)
                try:
                    v = h.alloc(n, 1 << rng.below(3))
                except AllocError:
                    continue
                model = bytearray((seed * 31 + step + k) & 0xFF for k in range(n))
                v[:] = model
                live.append([v, model])
            elif op == 2:
                v, _ = live.pop(rng.below(len(live)))
                h.free(v)
            elif op == 3:
                rec = live[rng.below(len(live))]
                n = rng.range(1, 48)
                try:
                    rec[0] = h.realloc(rec[0], n)
                except AllocError:
                    continue
                keep = rec[1][:n]
                rec[1] = keep + bytearray(n - len(keep))
                rec[0][len(keep) :] = bytearray(n - len(keep))
            else:
                v, model = live[rng.below(len(live))]
                k = rng.below(len(v))
                v[k] = model[k] = rng.below(256)
            for v, model in live:
                assert len(v) == len(model) and bytes(v) == bytes(model), (seed, step)
        h.check()
        for v, _ in live:
            h.free(v)
        assert h.is_empty()


def test_threads_share_a_sync_heap_with_pooled_views():
    threads()  # SkipTest without _thread
    from test_sync import _run_threads

    heap = SyncStalloc(256, 16, views=8)

    def worker(k):
        rng = Rng(100 + k)
        mine = []
        for step in range(300):
            if len(mine) < 2 or (rng.below(2) and len(mine) < 4):
                try:
                    v = heap.alloc(rng.range(1, 120))
                except AllocError:
                    continue
                for i in range(len(v)):
                    v[i] = (k * 40 + i) & 0xFF
                mine.append(v)
            else:
                v = mine.pop(rng.below(len(mine)))
                for i in range(len(v)):
                    assert v[i] == (k * 40 + i) & 0xFF, (k, step)
                heap.free(v)
        for v in mine:
            heap.free(v)

    assert _run_threads(4, worker) == []
    assert heap.is_empty()
    heap.check()


# -- the second stack's byte frames ------------------------------------------------------


def _fn(v):
    v[0] = 1
    return len(v)


def test_byte_frames_run_with_the_gc_heap_locked():
    micropython = micropython_only()
    n = 4096 if room_for(16384) else 1024  # (scaled down on a small board)
    stack = Stack(2 * n)
    warm_stack(stack, 3)
    stack.uninit(n, _fn)
    stack.uninit_slice(n, _fn)
    out = bytearray(5)
    micropython.heap_lock()
    try:
        out[0] = stack.uninit(n, _fn) == n
        out[1] = stack.uninit_slice(n, _fn) == n
        with stack.frame(n) as f:
            f[n - 1] = 7
            out[2] = len(f) == n
            with stack.frame(100) as g:
                with stack.frame(0) as z:
                    out[3] = len(g) == 100 and len(z) == 0
        out[4] = stack.depth == 0
    finally:
        micropython.heap_unlock()
    assert list(out) == [1] * 5, list(out)


def test_byte_frames_allocate_nothing_not_even_a_frame():
    micropython = micropython_only()
    from stalloc import stack as stack_module

    if not hasattr(micropython, "mem_total") or not stack_module.ACCELERATED:
        raise SkipTest("needs micropython.mem_total() and the native emitter")
    n = 4096 if room_for(16384) else 1024  # (scaled down on a small board)
    stack = Stack(2 * n)
    warm_stack(stack, 2)
    stack.uninit(n, _fn)
    t = micropython.mem_total()
    for _ in range(50):
        stack.uninit(n, _fn)
        with stack.frame(2000) as f:
            f[0] = 1
    assert micropython.mem_total() == t


def test_a_frame_view_is_empty_once_the_frame_ends():
    stack = Stack(1024)
    kept = []
    for _ in range(2):
        with stack.frame(64) as f:
            f[0] = 9
            kept.append(f)
    if IS_MPY:
        assert kept[0] is kept[1]  # the depth's view, moved and emptied again
        assert len(kept[1]) == 0
        raises(IndexError, write_first, kept[1])
    else:
        raises(ValueError, len, kept[1])  # released
    with stack.frame(64) as f:
        assert len(f) == 64


def test_views_follow_the_stack_across_chunks():
    # A frame too big for the chunk moves the stack to a new one: the depth's view of
    # the old chunk is dropped with it (no reference keeps a freed chunk alive), and the
    # frames on the new chunk read and write their own bytes.
    heap = Stalloc(64, 64, views=4)
    stack = Stack(256, allocator=heap)
    warm_stack(stack, 2)
    with stack.frame(100) as a:
        a[:] = bytes(range(100))
        with stack.frame(1000) as b:  # does not fit: a new chunk
            b[:] = bytes(k & 0xFF for k in range(1000))
            assert bytes(a) == bytes(range(100))
        assert bytes(a) == bytes(range(100))
    stack.trim()
    assert all(rec[8] is None for rec in stack._recs)  # no depth holds a freed chunk
    assert heap.is_empty()
    with stack.frame(300) as c:
        c[299] = 1
        assert len(c) == 300
    heap.check()
