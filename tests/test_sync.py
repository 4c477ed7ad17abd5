# SyncStalloc: threads on both runtimes (`_thread` exists on CPython and on the
# MicroPython unix port, which runs threads without a GIL), the batching lock, and
# stalloc's S6 (a lock left held after an exception).

import time

from stalloc import AllocError, Stalloc, SyncStalloc

from _util import IS_MPY, Rng, SkipTest, fill, raises, threads, verify


def _lock_is_free(sh):
    if sh._lock.acquire(0):
        sh._lock.release()
        return True
    return False


def _run_threads(n, target):
    _thread = threads()
    # Start n threads running target(k); wait for all; return the errors they raised.
    state = {"done": 0, "errors": []}
    guard = _thread.allocate_lock()

    def body(k):
        try:
            target(k)
        except Exception as e:  # reported to the main thread
            with guard:
                state["errors"].append(repr(e))
        with guard:
            state["done"] += 1

    if not IS_MPY:
        # CPython's GIL switches threads every 5 ms, too rarely to interleave calls
        # that take microseconds; switch as often as possible so races can show.
        import sys

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
    try:
        for k in range(n):
            _thread.start_new_thread(body, (k,))
        deadline = time.time() + 120
        while state["done"] < n:
            assert time.time() < deadline, "threads did not finish"
            time.sleep(0.005)
    finally:
        if not IS_MPY:
            sys.setswitchinterval(interval)
    return state["errors"]


def test_threads_hammering_one_heap_never_share_blocks():
    sh = SyncStalloc(96, 16)

    def worker(k):
        rng = Rng(1000 + k)
        mine = []  # (view or index, size, seed, is_view)
        for step in range(250):
            if mine and (len(mine) > 6 or rng.below(3) == 0):
                item, size, seed, is_view = mine.pop(rng.below(len(mine)))
                if is_view:
                    assert verify(item, seed), "thread %d: view overwritten" % k
                    sh.free(item)
                else:
                    sh.deallocate_blocks(item, size)
                continue
            seed = k * 1000 + step
            try:
                if rng.below(2):
                    v = sh.alloc(rng.range(1, 80))
                    fill(v, seed)
                    mine.append((v, len(v), seed, True))
                else:
                    size = rng.range(1, 4)
                    mine.append((sh.allocate_blocks(size), size, seed, False))
            except AllocError:
                pass
        for item, size, seed, is_view in mine:
            if is_view:
                assert verify(item, seed), "thread %d: view overwritten" % k
                sh.free(item)
            else:
                sh.deallocate_blocks(item, size)

    errors = _run_threads(4, worker)
    assert errors == [], errors
    sh.check()
    assert sh.is_empty()
    assert _lock_is_free(sh)


def test_acquire_locked_batches_and_detects_reentry():
    sh = SyncStalloc(8, 8)
    with sh.acquire_locked() as h:
        a = h.allocate_blocks(2)
        b = h.allocate_blocks(2)
        raises(RuntimeError, sh.allocate_blocks, 1)  # would deadlock on a plain lock
        h.deallocate_blocks(a, 2)
        h.deallocate_blocks(b, 2)
    assert _lock_is_free(sh)
    assert sh.is_empty()


def test_acquire_locked_blocks_other_threads():
    _thread = threads()
    sh = SyncStalloc(8, 8)
    order = []

    def other(_k):
        sh.allocate_blocks(1)
        order.append("other")

    with sh.acquire_locked() as h:
        h.allocate_blocks(1)
        _thread.start_new_thread(other, (0,))
        time.sleep(0.05)
        order.append("holder")
    deadline = time.time() + 10
    while len(order) < 2 and time.time() < deadline:
        time.sleep(0.005)
    assert order == ["holder", "other"]


def test_reentry_from_the_same_thread_raises_instead_of_deadlocking():
    # A signal handler or scheduled callback that interrupts a call on this heap and
    # calls it again would wait forever for its own lock. Simulate the interrupted call
    # by holding the lock the way every call does.
    sh = SyncStalloc(8, 8)
    sh._acquire()
    try:
        e = raises(RuntimeError, sh.allocate_blocks, 1)
        raises(RuntimeError, sh.stats)
    finally:
        sh._release()
    # The fix for each way in: acquire_locked()'s own heap, or IrqStalloc for a callback
    msg = str(e)
    assert "use the heap it returned" in msg and "IrqStalloc" in msg, msg
    assert _lock_is_free(sh) and sh.is_empty()


def test_sync_heap_offers_every_public_method_of_stalloc():
    missing = [
        name
        for name in dir(Stalloc)
        if not name.startswith("_") and not hasattr(SyncStalloc, name)
    ]
    assert missing == [], missing


def test_s6_lock_released_after_exceptions():
    # stalloc S6: a panic while holding the guard poisoned the mutex and the next call
    # was undefined behaviour. Here the lock is released on every exception path.
    sh = SyncStalloc(8, 8)
    try:
        with sh.acquire_locked() as h:
            h.allocate_blocks(1)
            raise KeyError("user code failed while holding the lock")
    except KeyError:
        pass
    assert _lock_is_free(sh)
    raises(ValueError, sh.deallocate_blocks, 5, 1)  # a refused call
    assert _lock_is_free(sh)
    raises(AllocError, sh.allocate_blocks, 9)  # a failed allocation
    assert _lock_is_free(sh)
    raises(TypeError, sh.alloc, "x")
    assert _lock_is_free(sh)
    assert sh.allocate_blocks(1) == 1  # and the heap still works


def test_sync_heap_has_the_full_api():
    sh = SyncStalloc(16, 8)
    i = sh.allocate_blocks(2)
    sh.grow_in_place(i, 2, 3)
    assert sh.grow_up_to(i, 3, 4) == 4
    sh.shrink_in_place(i, 4, 1)
    v = sh.alloc(10)
    assert sh.owns(v)
    v = sh.realloc(v, 30)
    with sh.scoped(8) as s:
        assert len(s) == 8
    sh.free(v)
    sh.deallocate_blocks(i, 1)
    assert sh.is_empty() and not sh.is_oom()
    assert sh.stats().peak_used >= 4 and sh.free_runs() == [(0, 16)]
    sh.check()
    sh.clear()
    assert (sh.blocks, sh.block_size, sh.footprint) == (16, 8, 16 * 8 + 12)
    assert "SyncStalloc" in repr(sh)


def test_scheduled_callbacks_reentering_a_sync_heap_never_deadlock():
    _thread = threads()
    # What a soft (hard=False) pin or timer IRQ does on a board: micropython.schedule.
    if not IS_MPY:
        raise SkipTest("micropython.schedule exists only on MicroPython")
    from stalloc import heap

    if not heap.ACCELERATED:
        raise SkipTest("without the native emitter this can deadlock (see README)")
    import micropython

    sh = SyncStalloc(64, 16)
    seen = {"ran": 0, "refused": 0, "stop": False}

    def callback(_):
        try:
            sh.deallocate_blocks(sh.allocate_blocks(1), 1)
            seen["ran"] += 1
        except RuntimeError:
            seen["refused"] += 1

    def ticker(_k):
        while not seen["stop"]:
            try:
                micropython.schedule(callback, 0)
            except RuntimeError:  # the schedule queue is full
                pass
            time.sleep(0.001)

    _thread.start_new_thread(ticker, (0,))
    t0 = time.time()
    while time.time() - t0 < 1.0:
        for _ in range(100):
            sh.free(sh.alloc(100))
    seen["stop"] = True
    time.sleep(0.01)
    assert seen["ran"] + seen["refused"] > 0
    sh.check()
    assert sh.is_empty()
