"""SyncStalloc: a Stalloc behind a lock, safe to share between threads (UnsafeStalloc is
Stalloc under the crate's name for a heap shared without one).

The call table (_Guarded) is shared with ports/micropython's IrqStalloc, whose guard is
a critical section instead of a lock. One helper per arity, _locked0 to _locked3: *args
would allocate a tuple per call. Native twins (sync_native.py) replace the helpers where
the native emitter is there: in bytecode the `try` puts their frame on the GC heap.
"""

from ._base import IS_MPY, Allocator, load
from ._lock import get_ident, new_lock
from .heap import Stalloc


def _locked0(sync, fn):
    sync._acquire()
    try:
        return fn(sync._heap)
    finally:
        sync._holder = None  # inline: a call here could fail (CPython) and keep the lock
        sync._lock.release()


def _locked1(sync, fn, a):
    sync._acquire()
    try:
        return fn(sync._heap, a)
    finally:
        sync._holder = None  # inline: a call here could fail (CPython) and keep the lock
        sync._lock.release()


def _locked2(sync, fn, a, b):
    sync._acquire()
    try:
        return fn(sync._heap, a, b)
    finally:
        sync._holder = None  # inline: a call here could fail (CPython) and keep the lock
        sync._lock.release()


def _locked3(sync, fn, a, b, c):
    sync._acquire()
    try:
        return fn(sync._heap, a, b, c)
    finally:
        sync._holder = None  # inline: a call here could fail (CPython) and keep the lock
        sync._lock.release()


def _method(name):
    # A Stalloc method that diag.py or _slow.py adds to the class when it loads. Once it
    # is there nothing is allocated here (map_into() through the lock, heap locked).
    m = getattr(Stalloc, name, None)
    if m is None:
        load("_slow" if name == "realloc" else "diag")
        m = getattr(Stalloc, name)
    return m


def _reentered():
    raise RuntimeError(
        "this thread already holds the heap's lock: inside acquire_locked(), use the heap "
        "it returned; in an interrupt or scheduled callback, use IrqStalloc or never hold "
        "the lock where one can run"
    )


class _Locked:
    # What SyncStalloc.acquire_locked() returns.
    def __init__(self, sync):
        self._sync = sync

    def __enter__(self):
        self._sync._acquire()
        return self._sync._heap

    def __exit__(self, exc_type, exc, tb):
        # Also on exceptions: the lock is never left held (S6). Inline, as in _locked0.
        sync = self._sync
        sync._holder = None
        sync._lock.release()


class _Guarded(Allocator):
    # A Stalloc in self._heap whose every call runs through the subclass's guard helpers
    # _guard0 to _guard3 (one per arity). The geometry and memory need no guard.

    def _guard(self, blocks, block_size, views, strict):
        h = self._heap = Stalloc(blocks, block_size, views, strict)
        self.blocks = h.blocks
        self.block_size = h.block_size
        self.footprint = h.footprint
        self.memory = h.memory

    def allocate_blocks(self, size, align=1):
        return self._guard2(self, Stalloc.allocate_blocks, size, align)

    def deallocate_blocks(self, index, size):
        return self._guard2(self, Stalloc.deallocate_blocks, index, size)

    def shrink_in_place(self, index, old_size, new_size):
        return self._guard3(self, Stalloc.shrink_in_place, index, old_size, new_size)

    def grow_in_place(self, index, old_size, new_size):
        return self._guard3(self, Stalloc.grow_in_place, index, old_size, new_size)

    def grow_up_to(self, index, old_size, new_size):
        return self._guard3(self, Stalloc.grow_up_to, index, old_size, new_size)

    def is_oom(self):
        return self._guard0(self, Stalloc.is_oom)

    def is_empty(self):
        return self._guard0(self, Stalloc.is_empty)

    def clear(self):
        return self._guard0(self, Stalloc.clear)

    def alloc(self, nbytes, align=1):
        return self._guard2(self, Stalloc.alloc, nbytes, align)

    def free(self, view):
        return self._guard1(self, Stalloc.free, view)

    def realloc(self, view, nbytes, align=1):
        return self._guard3(self, _method("realloc"), view, nbytes, align)

    def owns(self, view):
        return self._guard1(self, Stalloc.owns, view)

    def free_runs(self):
        return self._guard0(self, _method("free_runs"))

    def map(self, width=64):
        return self._guard1(self, _method("map"), width)

    def map_into(self, buf):
        return self._guard1(self, _method("map_into"), buf)

    def stats_into(self, buf):
        return self._guard1(self, _method("stats_into"), buf)

    def stats(self):
        return self._guard0(self, _method("stats"))

    def check(self):
        return self._guard0(self, _method("check"))

    def __str__(self):
        return self._guard0(self, Stalloc.__str__)


class SyncStalloc(_Guarded):
    """A Stalloc behind a lock, safe to share between threads.

    Every call takes the lock (CPython `threading`, MicroPython `_thread`) and releases
    it also when the call raises. To batch calls under one acquisition use
    `with heap.acquire_locked() as h:` and call h; calling this object's own methods
    inside that block raises RuntimeError instead of deadlocking. Not for interrupt
    handlers: a lock cannot be waited for there (the board package's IrqStalloc is).
    SyncStalloc(blocks, block_size, views=4, strict=False): as Stalloc's, and the same
    methods with the same costs, errors and alignment, plus the lock (each method's
    docstring is Stalloc's).
    """

    _guard0 = staticmethod(_locked0)
    _guard1 = staticmethod(_locked1)
    _guard2 = staticmethod(_locked2)
    _guard3 = staticmethod(_locked3)

    def __init__(self, blocks, block_size, views=4, strict=False):
        self._guard(blocks, block_size, views, strict)
        try:
            self._lock = _new_lock()
        except RuntimeError:  # CPython's "can't allocate lock": out of memory
            raise MemoryError("can't allocate lock") from None
        self._holder = None  # the thread holding the lock, where the lock cannot tell

    def _acquire(self):
        # Take the lock, or raise if this thread holds it already: waiting would never
        # end (a call inside acquire_locked(), or a signal handler or scheduled callback
        # that interrupted a call on this heap).
        lock = self._lock
        if not IS_MPY:
            if lock._is_owned():
                _reentered()
            lock.acquire()
        else:
            # The id first, and only tried: past 2**30 it is a big int (32-bit ports, high
            # task addresses), a MemoryError with the heap locked. An uncontended call
            # needs none; a contended one without it could be waiting for itself.
            try:
                me = get_ident()
            except MemoryError:
                me = None
            if not lock.acquire(0):
                if me is None:
                    raise MemoryError
                if self._holder == me:
                    _reentered()
                lock.acquire()
            self._holder = me  # None: held by a thread whose id could not be had

    def _release(self):
        self._holder = None
        self._lock.release()

    def acquire_locked(self):
        """`with heap.acquire_locked() as h:` holds the lock for the whole block.

        h is the underlying Stalloc; it must not be used after the block. Allocates the
        small context object. The `with` waits for the lock, or raises RuntimeError if
        this thread holds it already.
        """
        return _Locked(self)

    def __repr__(self):
        return "Sync" + repr(self._heap)  # (a snapshot, without the lock)


if IS_MPY:
    _new_lock = new_lock
else:
    # An RLock records its owner atomically as it is taken, so a signal handler that
    # interrupts a call can tell that its own thread holds the lock (_is_owned()).
    # SyncStalloc never takes it twice.
    from _thread import RLock as _new_lock

UnsafeStalloc = Stalloc  # the crate's name for a heap shared without a lock

if not IS_MPY:  # help(SyncStalloc): each method's docstring is Stalloc's (CPython only)
    from ._cpython import document

    document(_Guarded, Stalloc)

# Native twins (sync_native.py), name for name.
_native = load("sync_native", True)
if _native:
    SyncStalloc._guard0 = staticmethod(_native._locked0)
    SyncStalloc._guard1 = staticmethod(_native._locked1)
    SyncStalloc._guard2 = staticmethod(_native._locked2)
    SyncStalloc._guard3 = staticmethod(_native._locked3)

_READY = True  # see _base.load()
