# Allocator.scoped(), added to the class when this module loads (on first use): a
# program that never scopes a view never pays for it.

from ._base import Allocator


class Scope:
    # `with allocator.scoped(n) as view:` allocates on entry and frees on exit.
    # The allocator keeps one and hands it out again when it is free: not between
    # scoped() and __enter__ (_busy), nor while it holds a view.
    def __init__(self, allocator, nbytes, align):
        self._a = allocator
        self._n = nbytes
        self._align = align
        self._view = None
        self._busy = True

    def __enter__(self):
        if self._view is not None:
            raise RuntimeError("scope entered twice")
        self._busy = False  # no try here: if alloc() raises, the scope is free again
        self._view = self._a.alloc(self._n, self._align)
        return self._view

    def __exit__(self, exc_type, exc, tb):
        view = self._view
        self._view = None
        if self._a.owns(view):
            self._a.free(view)
        elif exc_type is None:  # never mask the block's own exception
            raise RuntimeError("scoped view was freed or reallocated in its block")


def scoped(self, nbytes, align=1):
    """`with allocator.scoped(nbytes, align=1) as view:` allocates on entry and frees on
    exit.

    The view is the allocator's alloc(nbytes, align) (its cost, alignment and errors:
    AllocError, ValueError, TypeError are raised by the `with` statement itself), freed
    when the block ends, also by an exception. RuntimeError at the end if the block
    freed or moved the view itself; RuntimeError on entering the same scope twice. The
    allocator keeps one scope object and hands it out again once it has ended, so a
    scope at a time allocates nothing more than alloc() does: enter it at once.
    """
    s = self._scope
    if s is None or s._busy or s._view is not None:  # none yet, or in use (nested)
        s = Scope(self, nbytes, align)
        if self._scope is None:
            self._scope = s  # kept: a scope at a time allocates nothing
        return s
    s._n = nbytes
    s._align = align
    s._busy = True
    return s


Allocator.scoped = scoped
Allocator._scope = None

_READY = True  # see _base.load()
