# Helpers for the portable tests: the same files run under pytest and tools/upytest.py,
# so nothing here may need pytest or a CPython-only module.

import sys

IS_MPY = sys.implementation.name == "micropython"

try:
    from unittest import SkipTest  # pytest reports this as a skip
except ImportError:

    class SkipTest(Exception):  # tools/upytest.py matches the class name
        pass


def threads():
    """The `_thread` module, or SkipTest on a port built without threads (the WebAssembly
    port, ESP8266): the tests that start threads call this first."""
    try:
        import _thread
    except ImportError:
        raise SkipTest("this port has no _thread") from None
    return _thread


def gc_measures():
    """SkipTest where gc.collect() cannot show what code keeps: the WebAssembly port frees
    nothing inside a running call (tools/footprint.py measures it step by step, each step
    its own call)."""
    if IS_MPY and sys.platform == "webassembly":
        raise SkipTest("this port's gc.collect() frees nothing inside a running call")


def room_for(nbytes):
    """True when this runtime can spare nbytes in one piece: always on CPython; on
    MicroPython when the GC heap has a free piece that big (imports fragment a small
    board's heap: tools/deploy.py) and 3 times that free in all. Tests scale down sizes
    that a board cannot hold, they do not skip."""
    if not IS_MPY:
        return True
    import gc

    gc.collect()
    try:
        bytearray(nbytes)
    except MemoryError:
        return False
    gc.collect()
    return gc.mem_free() >= 3 * nbytes


def raises(exc_type, fn, *args):
    """Call fn(*args); it must raise exc_type. Returns the exception."""
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc_type.__name__))


def snapshot(heap):
    """Every byte of a heap's backing store: free list, trailer and data."""
    inner = getattr(heap, "_heap", heap)  # SyncStalloc wraps a heap
    return bytes(inner._mem)


def rejects(exc_type, heap, fn, *args):
    """fn(*args) raises exc_type and leaves the heap byte-for-byte unchanged."""
    before = snapshot(heap)
    e = raises(exc_type, fn, *args)
    assert snapshot(heap) == before, "a rejected call changed the heap"
    return e


def data_and_free_list(heap):
    # Everything but the failed-requests counter (trailer bytes 8..11): an AllocError
    # changes that counter and nothing else.
    inner = getattr(heap, "_heap", heap)
    m = bytes(inner._mem)
    t = len(m) - 12  # the trailer starts 12 bytes from the end
    return m[: t + 8]


def fails_cleanly(heap, fn, *args):
    """fn(*args) raises AllocError, changing nothing but the failed counter (+1)."""
    from stalloc import AllocError

    before = data_and_free_list(heap)
    failed = heap.stats().failed
    e = raises(AllocError, fn, *args)
    assert data_and_free_list(heap) == before, "a failed allocation changed the heap"
    assert heap.stats().failed == failed + 1, "failed counter not incremented"
    return e


class Rng:
    """xorshift32: the same sequence on both runtimes, no `random` needed."""

    def __init__(self, seed):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.next() % n

    def range(self, lo, hi):
        """lo..hi inclusive."""
        return lo + self.next() % (hi - lo + 1)

    def choice(self, seq):
        return seq[self.next() % len(seq)]


def fill(view, seed):
    """Write a pattern derived from seed into view; verify() checks it."""
    n = len(view)
    for k in range(n):
        view[k] = (seed + k * 7) & 0xFF


def verify(view, seed):
    for k in range(len(view)):
        if view[k] != (seed + k * 7) & 0xFF:
            return False
    return True


def micropython_only(why="views are repointed only on MicroPython"):
    """The micropython module, or SkipTest saying `why`."""
    if not IS_MPY:
        raise SkipTest(why)
    import micropython

    return micropython


def fails_locked(micropython, fn):
    """True if fn() raised MemoryError with the GC heap locked. fn takes no argument: a
    call with *args could allocate, and fail, by itself. The flag lives in a bytearray
    made before the lock."""
    caught = bytearray(1)
    micropython.heap_lock()
    try:
        try:
            fn()
        except MemoryError:
            caught[0] = 1
    finally:
        micropython.heap_unlock()
    return caught[0] == 1


def write_first(view):
    view[0] = 1


def warm_stack(stack, depth):
    """Every depth up to `depth` has had a frame on the current chunk: it keeps its view."""
    for _ in range(2):
        for d in range(1, depth + 1):
            _nest(stack, d)


def _nest(stack, d):
    if d:
        with stack.frame(16):
            _nest(stack, d - 1)
