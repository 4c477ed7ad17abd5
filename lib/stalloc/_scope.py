# What Allocator.scoped() returns, loaded on its first use: a program that never scopes
# a view never pays for the class.


class Scope:
    # `with allocator.scoped(n) as view:` allocates on entry and frees on exit.
    def __init__(self, allocator, nbytes, align):
        self._a = allocator
        self._n = nbytes
        self._align = align
        self._view = None

    def __enter__(self):
        if self._view is not None:
            raise RuntimeError("scope entered twice")
        self._view = self._a.alloc(self._n, self._align)
        return self._view

    def __exit__(self, exc_type, exc, tb):
        view = self._view
        self._view = None
        if self._a.owns(view):
            self._a.free(view)
        elif exc_type is None:  # never mask the block's own exception
            raise RuntimeError("scoped view was freed or reallocated in its block")
