# Native twins of sync.py's locked-call helpers: MicroPython with the native emitter only.
#
# sync.py installs them from the table at its end. SyncStalloc._acquire is inlined in
# _take: bytecode runs scheduled callbacks on jumps, so a callback could land between
# taking the lock and recording the holder, find the lock taken by "someone else" and wait
# forever. Native code runs no callbacks, so here the two steps cannot be separated; a
# callback that re-enters later sees the holder and gets an error. And a native frame
# lives on the C stack, where a bytecode frame with `try` would come from the GC heap.

import micropython

from ._lock import get_ident


@micropython.native
def _take(sync):
    # The id before the lock, and only tried: see SyncStalloc._acquire.
    lock = sync._lock
    try:
        me = get_ident()
    except MemoryError:
        me = None
    if not lock.acquire(0):
        if me is None:
            raise MemoryError
        if sync._holder == me:
            from .sync import _reentered

            _reentered()
        lock.acquire()
    sync._holder = me


@micropython.native
def _locked0(sync, fn):
    _take(sync)
    try:
        return fn(sync._heap)
    finally:
        sync._holder = None
        sync._lock.release()


@micropython.native
def _locked1(sync, fn, a):
    _take(sync)
    try:
        return fn(sync._heap, a)
    finally:
        sync._holder = None
        sync._lock.release()


@micropython.native
def _locked2(sync, fn, a, b):
    _take(sync)
    try:
        return fn(sync._heap, a, b)
    finally:
        sync._holder = None
        sync._lock.release()


@micropython.native
def _locked3(sync, fn, a, b, c):
    _take(sync)
    try:
        return fn(sync._heap, a, b, c)
    finally:
        sync._holder = None
        sync._lock.release()


_READY = True  # see _base.load()
