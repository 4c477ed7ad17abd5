# noalloc(fn, *args): proof that a call allocates nothing on MicroPython's GC heap, with
# where it does when it does. MicroPython's own answer is a bare "heap is locked"; the
# traceback of that MemoryError (kept where the port has an emergency buffer: the unix
# port, not the WebAssembly one) names the line that allocated.

from ._base import IS_MPY


class AllocatedError(AssertionError):
    """The call given to noalloc() allocated on the GC heap. An AssertionError: a test
    suite reports it as a failed check."""


def noalloc(fn, *args):
    """fn(*args) with the GC heap locked, after one warm-up call with it unlocked (first-use
    imports, caches and frame managers happen there); returns what the locked call returns.

    AllocatedError when the locked call allocates: the message names the file and line of
    that first allocation where the port keeps a traceback for it (the unix port), and says
    that it cannot where it does not (the WebAssembly port). Where micropython.mem_total()
    exists (the unix port) a third call must not add to it either: that also catches call
    frames the GC heap lends (a bytecode function's state past 11 words), which a locked
    heap moves to the C stack instead. Up to 4 arguments (a star-call allocates). Any other
    exception of fn, AllocError included, passes through with the heap unlocked.

    MicroPython only: on CPython RuntimeError (there is no heap to lock). Cost: 3 calls.
    """
    if not IS_MPY:
        raise RuntimeError("noalloc() needs MicroPython: CPython has no GC heap to lock")
    import micropython

    if len(args) > 4:
        raise TypeError("noalloc() passes at most 4 arguments, got %d" % len(args))
    _call(fn, args)
    result = failed = None
    micropython.heap_lock()
    try:
        result = _call(fn, args)
    except MemoryError as e:
        if type(e) is not MemoryError:  # AllocError: fn's own allocator said no
            raise
        failed = e
    finally:
        micropython.heap_unlock()
    if failed is not None:
        raise AllocatedError("%s allocates on the GC heap%s" % (_name(fn), _where(failed)))
    if hasattr(micropython, "mem_total"):
        before = micropython.mem_total()
        _call(fn, args)
        lent = micropython.mem_total() - before
        if lent:
            raise AllocatedError(
                "%s takes %d bytes of the GC heap per call, given back at once (call "
                "frames the GC heap lends; with the heap locked they go on the C stack)"
                % (_name(fn), lent)
            )
    return result


def _call(fn, a):
    # fn(*a) without the star-call, which makes a tuple on the GC heap.
    n = len(a)
    if not n:
        return fn()
    if n == 1:
        return fn(a[0])
    if n == 2:
        return fn(a[0], a[1])
    if n == 3:
        return fn(a[0], a[1], a[2])
    return fn(a[0], a[1], a[2], a[3])


def _name(fn):
    return getattr(fn, "__name__", "the call")


def _where(e):
    # ': at File "x.py", line N, in f' from the MemoryError's traceback (its innermost
    # frame outside this file), or why there is none.
    import io
    import sys

    out = io.StringIO()
    sys.print_exception(e, out)
    found = None
    for line in out.getvalue().split("\n"):
        line = line.strip()
        if line.startswith("File ") and "stalloc/_noalloc." not in line:
            found = line
    if found is None:
        return " (this port keeps no traceback for it: the unix port's says where)"
    return ": first at " + found


_READY = True  # see _base.load()
