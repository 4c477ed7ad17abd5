"""alloca-style scoped buffers (after the Rust crate stackalloc), on the thread's stack.

Each function takes a count, puts a frame on this thread's second stack (stack.py), calls
fn(view) and returns what fn returns; the frame ends when fn returns or raises. There is
no real call-stack allocation in Python, so nothing can overflow the call stack: past the
stack's max_capacity, AllocError.

Without a typecode, items are object slots holding any Python values; they are dropped
(the slots cleared) when the scope ends, also when fn raises, where the crate leaked
them (SA4). With an `array` typecode ('B', 'h', 'i', 'f', 'd', ...) items are numbers in
a typed view. Counts must be ints >= 0 (ValueError, never a wrapped size: SA1).
"""

from . import stack as _stack
from ._lock import get_ident
from .stack import _check_n, _mine

_ZEROS = bytes(256)  # zeroing in slices of this: no temporary as large as the frame


def _zero(view):
    n = len(view)
    k = 0
    while k + 256 <= n:
        view[k : k + 256] = _ZEROS
        k += 256
    if k < n:
        view[k:n] = _ZEROS[: n - k]


def alloca(n, fn):
    """fn(view) on n uninitialised bytes."""
    c = _stack._last  # _mine() inline, and the closure form: the fast frames
    if c[0] == get_ident() and type(n) is int and n >= 0:
        return c[1].uninit(n, fn)
    return _mine().uninit(_check_n(n, "n"), fn)


def _closure_frame(n, typecode):
    # A closure form's frame manager, entered with its _open(): unchecked for asyncio tasks
    # (stack._claim), as this frame ends before any other task runs, and on any stack of
    # a TaskStacks when none is free.
    f = _mine()._scratch().frame(n, typecode)
    f._stalloc_task = None
    return f


def alloca_zeroed(n, fn):
    """fn(view) on n zeroed bytes."""
    f = _closure_frame(_check_n(n, "n"), None)
    view = f._open()
    try:
        _zero(view)
        return fn(view)
    finally:
        f.__exit__(None, None, None)


def stackalloc_uninit(n, fn, typecode=None):
    """fn(items) on n items: object slots holding None, or uninitialised numbers."""
    return _mine().uninit_slice(_check_n(n, "n"), fn, typecode or "O")


def stackalloc(n, value, fn, typecode=None):
    """fn(items) on n items, each `value`."""
    f = _closure_frame(_check_n(n, "n"), typecode or "O")
    items = f._open()
    try:
        k = 0
        while k < n:  # not a range: on CPython that is an object to make
            items[k] = value
            k += 1
        return fn(items)
    finally:
        f.__exit__(None, None, None)


def stackalloc_with(n, factory, fn, typecode=None):
    """fn(items) on n items, each made by calling factory()."""
    f = _closure_frame(_check_n(n, "n"), typecode or "O")
    items = f._open()
    try:
        k = 0
        while k < n:
            items[k] = factory()
            k += 1
        return fn(items)
    finally:
        f.__exit__(None, None, None)


def stackalloc_with_iter(iterable, fn, typecode=None, limit=None):
    """fn(items) on the items of `iterable`, at most `limit` of them if given (the
    crate's size argument; fewer when the iterable runs out first)."""
    if limit is not None:
        iterable = _take(iterable, _check_n(limit, "limit"))
    return _mine().buffer(iterable, fn, typecode)


def _take(iterable, limit):
    it = iter(iterable)
    try:
        while limit:
            yield next(it)
            limit -= 1
    except StopIteration:
        return
    finally:
        # Stopping early: a generator left suspended could hold frames of the stack.
        close = getattr(it, "close", None)
        if close is not None:
            close()


_READY = True  # see _base.load()
