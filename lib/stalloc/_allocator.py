# The allocator protocol shared by Stalloc, SyncStalloc, System and AllocChain.
#
# An allocator hands out writable memoryviews:
#   alloc(nbytes, align=1) -> view      AllocError when it cannot
#   free(view)                          ValueError when the view is not its own
#   realloc(view, nbytes, align=1)      -> view, possibly moved; the old view is dead
#   owns(view) -> bool                  used by AllocChain to route free/realloc
# Anything with these four methods can sit in a chain.

from ._compat import is_int


class AllocError(MemoryError):
    """Out of memory: no free space fits the request. The allocator is unchanged.

    A subclass of MemoryError, so code that already handles MemoryError keeps working.
    Inside a hard interrupt handler (heap locked) MicroPython cannot build the exception
    and raises a plain MemoryError instead: catch MemoryError there.
    """


class _Scope:
    # Context manager returned by Allocator.scoped(): allocate on entry, free on exit.
    def __init__(self, allocator, nbytes, align):
        self._allocator = allocator
        self._nbytes = nbytes
        self._align = align
        self._view = None

    def __enter__(self):
        if self._view is not None:
            raise RuntimeError("scope already entered")
        self._view = self._allocator.alloc(self._nbytes, self._align)
        return self._view

    def __exit__(self, exc_type, exc, tb):
        view = self._view
        self._view = None
        if self._allocator.owns(view):
            self._allocator.free(view)
        elif exc_type is None:
            # Never mask an exception from the block; otherwise say what went wrong.
            raise RuntimeError(
                "the scoped view was freed or reallocated inside its with block; "
                "free the reallocated view yourself"
            )


class Allocator:
    """Base class: what every allocator gets from the protocol above."""

    def chain(self, fallback):
        """An AllocChain that tries this allocator first, then `fallback`."""
        from .chain import AllocChain

        return AllocChain(self, fallback)

    def scoped(self, nbytes, align=1):
        """`with allocator.scoped(n) as view:` allocates on entry and frees on exit.

        The view is freed when the block ends, also by an exception. Allocation happens
        on entry, so AllocError is raised by the `with` statement itself.
        """
        return _Scope(self, nbytes, align)


def move(view, target, nbytes, align, owner):
    """realloc by moving: a new view from `target`, min(old, new) bytes copied, the old
    view freed by `owner`. An AllocError from `target` leaves everything as it was."""
    moved = target.alloc(nbytes, align)
    keep = min(len(view), nbytes)
    try:
        moved[:keep] = view if keep == len(view) else view[:keep]
    except MemoryError:  # MicroPython could not allocate the slice of `view`
        target.free(moved)
        raise
    owner.free(view)
    return moved


def check_count(value, what, least=1):
    # A size or count argument: an int >= least (TypeError / ValueError otherwise).
    # Bools count as ints on both runtimes, as they do in CPython.
    if not is_int(value):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if value < least:
        raise ValueError("%s must be >= %d, got %d" % (what, least, value))
    return value


def check_align(align):
    # An alignment: a power of two >= 1.
    if not is_int(align):
        raise TypeError("align must be an int, not %s" % type(align).__name__)
    if align < 1 or align & (align - 1):
        raise ValueError("align must be a power of two >= 1, got %d" % align)
    return align
