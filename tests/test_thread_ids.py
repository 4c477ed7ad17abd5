# Thread ids that are big ints (issue 17): past 2**30 a MicroPython id is a big int (the
# 32-bit unix port, ports whose task addresses are high), so `_thread.get_ident()`
# allocates and, with the heap locked, raises MemoryError. Simulated on every runtime by
# replacing the get_ident the library calls: a failed id must leave no lock held and
# nothing changed, and what needs no id (an uncontended SyncStalloc call) must work.

import sys
import time

from stalloc import AllocError, SyncStalloc, set_default_stack, stack, uninit
from stalloc._lock import get_ident as _real_id

from _util import IS_MPY, micropython_only, raises, threads

_BIG = 1 << 62  # past every MicroPython's small ints: adding to it allocates


def _no_id():
    raise MemoryError  # what a big id does with the heap locked


def _big_id():
    return _BIG + _real_id()  # per thread, a new big int each call


def _with_ids(fake, fn):
    # fn() with every module of the library that asks for the id asking `fake`.
    names = ("_views", "sync", "sync_native", "stack", "_alloca")
    mods = [sys.modules.get("stalloc." + m) for m in names]
    mods = [m for m in mods if m is not None and hasattr(m, "get_ident")]
    for m in mods:
        m.get_ident = fake
    try:
        return fn()
    finally:
        for m in mods:
            m.get_ident = _real_id


def _free(lock):
    if lock.acquire(0):
        lock.release()
        return True
    return False


def _default_lock_free():
    lock = getattr(stack._default, "_lock", None)  # MicroPython's dict by id
    return lock is None or _free(lock)


def _default_stack_usable():
    # Checked first: a lock an earlier test left held would make this test hang.
    assert _default_lock_free(), "the per-thread lock is held"


def _try(fn):  # no *args: a tuple with the heap locked
    try:
        return fn()
    except MemoryError:
        return MemoryError
    except RuntimeError:
        return RuntimeError


def _u64():
    return uninit(64, len)


def _held_here(sh):
    if IS_MPY:
        return not _free(sh._lock)
    return sh._lock._is_owned()  # an RLock: acquire(0) by its owner succeeds


def test_default_stack_call_without_an_id_holds_no_lock():
    _default_stack_usable()
    assert uninit(64, len) == 64  # warm: this thread's stack exists
    before = stack.default_stack()
    r = _with_ids(_no_id, lambda: _try(_u64))
    assert r is MemoryError  # the module functions check the last thread's id first
    assert _default_lock_free(), "a failed thread id left the per-thread lock held"
    assert stack.default_stack() is before and before.depth == 0
    assert uninit(64, len) == 64


def test_setting_the_default_stack_without_an_id_changes_nothing():
    _default_stack_usable()
    before = stack.default_stack()
    other = stack.Stack(64)
    r = _with_ids(_no_id, lambda: _try(lambda: set_default_stack(other)))
    assert r is (MemoryError if IS_MPY else None)
    assert _default_lock_free()
    assert stack.default_stack() is (before if IS_MPY else other)
    set_default_stack(before)
    assert stack.default_stack() is before


def test_sync_calls_need_no_id_when_uncontended():
    sh = SyncStalloc(16, 8)

    def calls():
        i = sh.allocate_blocks(2)
        sh.free(sh.alloc(20))
        sh.deallocate_blocks(i, 2)
        with sh.acquire_locked() as h:
            h.deallocate_blocks(h.allocate_blocks(1), 1)
        raises(AllocError, sh.allocate_blocks, 17)
        return sh.is_empty()

    assert _with_ids(_no_id, calls)
    assert _free(sh._lock) and sh._holder is None
    sh.check()


def test_reentry_without_an_id_raises_instead_of_waiting():
    # The lock is held (by this thread, id known); a call that cannot learn its own id
    # cannot tell whether it would wait for itself: it raises and leaves the lock as it
    # was. CPython's RLock knows its owner without an id: RuntimeError as ever.
    sh = SyncStalloc(8, 8)

    def one():
        return sh.allocate_blocks(1)

    refused = MemoryError if IS_MPY else RuntimeError
    sh._acquire()
    try:
        assert _with_ids(_no_id, lambda: _try(one)) is refused
        assert _held_here(sh), "a refused call released another caller's lock"
    finally:
        sh._release()
    assert _free(sh._lock) and sh.is_empty()

    def inside():  # the holder's id was not had either
        with sh.acquire_locked():
            return _try(one)

    assert _with_ids(_no_id, inside) is refused
    assert _free(sh._lock) and sh.is_empty()


def test_big_ids_still_detect_reentry():
    # Each call makes a new big int: the holder is matched by value.
    sh = SyncStalloc(8, 8)

    def batch():
        with sh.acquire_locked() as h:
            h.allocate_blocks(1)
            raises(RuntimeError, sh.allocate_blocks, 1)
            h.clear()

    _with_ids(_big_id, batch)
    assert _free(sh._lock) and sh.is_empty()


def test_big_ids_with_the_heap_locked():
    micropython = micropython_only("micropython.heap_lock() exists only on MicroPython")
    sh = SyncStalloc(16, 8)
    out = bytearray(4)

    def take3():
        return sh.allocate_blocks(3)

    def give3():
        return sh.deallocate_blocks(0, 3)

    def one():
        return sh.allocate_blocks(1)

    def run():
        sh.deallocate_blocks(sh.allocate_blocks(2), 2)  # warm
        sh.free(sh.alloc(20))
        _default_stack_usable()
        uninit(64, len)
        micropython.heap_lock()
        try:
            out[0] = _try(take3) == 0  # uncontended: no id needed
            out[1] = _try(give3) is None
            out[2] = _try(_u64) is MemoryError  # the default stack needs one
        finally:
            micropython.heap_unlock()
        sh._acquire()  # held, id known; then the same thread, heap locked, no id
        try:
            micropython.heap_lock()
            try:
                out[3] = _try(one) is MemoryError
            finally:
                micropython.heap_unlock()
            assert _held_here(sh)
        finally:
            sh._release()

    _with_ids(_big_id, run)
    assert _free(sh._lock) and _default_lock_free(), "a lock left held"
    assert list(out) == [1, 1, 1, 1], list(out)
    sh.check()
    assert sh.is_empty()


def test_other_threads_go_on_after_a_failed_id():
    _thread = threads()
    _default_stack_usable()
    sh = SyncStalloc(16, 8)
    done = []

    def one():
        return sh.allocate_blocks(1)

    def other(_k):
        sh.free(sh.alloc(8))
        n = uninit(32, len)
        set_default_stack(None)  # MicroPython keeps a thread's entry until then
        done.append(n)

    sh._acquire()
    try:
        _with_ids(_no_id, lambda: _try(one))
    finally:
        sh._release()
    _with_ids(_no_id, lambda: _try(_u64))
    assert _free(sh._lock) and _default_lock_free()
    _thread.start_new_thread(other, (0,))
    deadline = time.time() + 10
    while not done:
        assert time.time() < deadline, "another thread blocked on a lock left held"
        time.sleep(0.005)
    assert done == [32] and sh.is_empty()
