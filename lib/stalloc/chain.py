"""Allocator chains: try one allocator, fall back to the next.

`primary.chain(fallback)` or `AllocChain(primary, fallback)`. Either side may itself be
a chain, so chains have any length (stalloc's 3-allocator chain could be built but not
used, S8). Every member follows the protocol in _base.py: alloc, free, realloc, owns.

`System(limit=None)` is the runtime's own heap (a fresh bytearray per allocation) with an
optional hard ceiling in bytes, so even the last allocator of a chain has a limit.
"""

from ._base import Allocator, AllocError, addressof, release
from ._check import check_align, check_count, is_int


def move(view, target, nbytes, align, owner):
    """realloc by moving: a new view from `target`, min(old, new) bytes copied, the old
    view freed by `owner`. All or nothing: the slice to copy is made first, and the new
    view goes back to `target` if the copy or the free fails (MemoryError: CPython
    locating a view). AllocError from `target` leaves everything as it was."""
    src = view if nbytes >= len(view) else view[:nbytes]
    moved = target.alloc(nbytes, align)
    try:
        moved[: len(src)] = src
        owner.free(view)
    except MemoryError:
        target.free(moved)
        raise
    return moved


# Alignment every bytearray payload already has on both runtimes (CPython's allocators
# and MicroPython's GC blocks give at least this); larger alignments are padded.
_NATURAL_ALIGN = 8


class System(Allocator):
    """The GC heap as an allocator: each alloc() is a new bytearray.

    `limit` (bytes, or None for no limit) caps the bytes held by live allocations,
    counting any alignment padding; a request past it raises AllocError, as does a
    MemoryError from the runtime. The limit is checked with the old view still held
    during realloc, because that is when the runtime holds both.
    """

    def __init__(self, limit=None):
        if limit is not None:
            if not is_int(limit):
                raise TypeError("limit must be an int or None, not %s" % type(limit).__name__)
            if limit < 0:
                raise ValueError("limit must be >= 0, got %d" % limit)
        self.limit = limit
        self.used = 0  # bytes held by live allocations, padding included
        self.peak = 0
        self.failed = 0
        self._live = {}  # id(view) -> (view, bytes held)

    def alloc(self, nbytes, align=1):
        """A writable memoryview of exactly `nbytes` fresh (zeroed) bytes.

        `align` (bytes, a power of two) is honoured on the real address. Costs one
        bytearray and one view. AllocError if the limit or the runtime refuses;
        TypeError / ValueError for bad arguments.
        """
        check_count(nbytes, "nbytes")
        check_align(align)
        pad = 0 if align <= _NATURAL_ALIGN else align - 1
        total = nbytes + pad
        used = self.used + total
        if self.limit is not None and used > self.limit:
            self.failed += 1
            raise AllocError("System limit: %d + %d bytes > %d" % (self.used, total, self.limit))
        peak = used if used > self.peak else self.peak
        try:
            buf = bytearray(total)
            view = memoryview(buf)
            if pad:
                off = -addressof(buf) & (align - 1)
                view = view[off : off + nbytes]
            entry = (view, total)
            self._live[id(view)] = entry  # the last step that can fail
        except (MemoryError, OverflowError):  # OverflowError: past the address space
            self.failed += 1
            raise AllocError("the runtime heap has no %d bytes" % total) from None
        self.used = used
        self.peak = peak
        return view

    def owns(self, view):
        """True iff `view` is a live view handed out by this allocator. O(1)."""
        entry = self._live.get(id(view))
        return entry is not None and entry[0] is view

    def free(self, view):
        """Drop a live view; its bytearray goes back to the GC. ValueError if not ours."""
        key = id(view)
        entry = self._live.get(key)
        if entry is None or entry[0] is not view:
            raise ValueError("not a live view of this System allocator")
        used = self.used - entry[1]
        del self._live[key]
        self.used = used
        try:
            release(view)
        except MemoryError:  # CPython: no room for the call; freed all the same
            pass

    def realloc(self, view, nbytes, align=1):
        """Move to a new bytearray of `nbytes`, copying min(old, new) bytes.

        AllocError leaves the old view valid.
        """
        if not self.owns(view):
            raise ValueError("not a live view of this System allocator")
        return move(view, self, nbytes, align, self)

    def __repr__(self):
        return "<System used=%d limit=%s>" % (self.used, self.limit)


class AllocChain(Allocator):
    """Try `primary`, then `fallback`, for every allocation.

    alloc: the first member that does not raise AllocError wins (other errors, such as
    a bad argument, propagate at once). free: goes to the member that owns the view.
    realloc: the owner resizes or moves it within itself if it can; otherwise the other
    member allocates, min(old, new) bytes are copied and the old view is freed.
    AllocError from every member leaves everything unchanged.
    """

    def __init__(self, primary, fallback):
        for name, member in (("primary", primary), ("fallback", fallback)):
            for method in ("alloc", "free", "realloc", "owns"):
                if not callable(getattr(member, method, None)):
                    raise TypeError("%s %r has no %s() method" % (name, member, method))
        self.primary = primary
        self.fallback = fallback

    def alloc(self, nbytes, align=1):
        """A view of `nbytes` from the first member that has room (align: bytes, of the
        address, as the member takes it). Costs what each member asked costs.
        AllocError when every member refuses (nothing changed); a member's other errors
        (TypeError, ValueError for bad arguments) propagate at once."""
        try:
            return self.primary.alloc(nbytes, align)
        except AllocError:
            pass
        return self.fallback.alloc(nbytes, align)

    def owns(self, view):
        """True iff a member owns `view` (a live view it handed out). Never fails."""
        return self.primary.owns(view) or self.fallback.owns(view)

    def _owner(self, view):
        if self.primary.owns(view):
            return self.primary
        if self.fallback.owns(view):
            return self.fallback
        raise ValueError("no allocator in this chain owns the view")

    def free(self, view):
        """Free `view` through the member that owns it, at that member's cost.
        ValueError if no member owns it."""
        self._owner(view).free(view)

    def realloc(self, view, nbytes, align=1):
        """Resize `view` to `nbytes`: by its owner if it can, else moved to the other
        member (min(old, new) bytes copied). Returns the new view; the old one is dead.
        AllocError when neither has room (the old view still valid); ValueError if no
        member owns the view."""
        owner = self._owner(view)
        try:
            return owner.realloc(view, nbytes, align)
        except AllocError:
            pass
        # The owner just failed; ask only the other member (each is asked once).
        other = self.fallback if owner is self.primary else self.primary
        return move(view, other, nbytes, align, owner)

    def members(self):
        """The chain's allocators in the order they are tried, nested chains flattened.

        O(members); allocates the list."""
        out = []
        for member in (self.primary, self.fallback):
            if isinstance(member, AllocChain):
                out.extend(member.members())
            else:
                out.append(member)
        return out

    def __repr__(self):
        return "<AllocChain %s>" % " -> ".join(repr(m) for m in self.members())


def chain(self, fallback):
    """An AllocChain that tries this allocator first, then `fallback`.

    Allocates the chain object. TypeError if `fallback` lacks alloc, free, realloc or
    owns.
    """
    return AllocChain(self, fallback)


Allocator.chain = chain

_READY = True  # see _base.load()
