"""The block heap's slow paths, loaded on first use by heap.py: realloc(); arguments the
fast paths do not take (bools, values past 65535, wrong types), checked, and retried when
they are valid; refusals other than "no room", raised as the exceptions they deserve. A
program that passes small ints, never reallocates and never errs never loads it.
"""

from ._base import REACH, AllocError, const, release
from ._check import check_align, check_count, is_int
from .heap import Stalloc

_OOM = const(-1)  # kernel results (as in heap.py)
_FREED = const(-2)
_CORRUPT = const(-4)
_NOT_LIVE = const(-5)  # heap.py's: free() of something that is not a live view
_PROBE = const(2)  # kernel mode: grow all or nothing, a miss not counted
_SHRINK = const(-1)  # heap.py's modes
_FREE = const(-2)


def geometry(blocks, block_size, views):
    # Stalloc(blocks, block_size, views) refused: raise naming the argument and what it
    # may be, or return bools as the ints they stand for.
    _in_range(blocks, "blocks", 1)
    check_count(block_size, "block_size")
    if block_size < 4 or block_size & (block_size - 1) or block_size > 1 << 29:
        raise ValueError(
            "block_size must be a power of two in 4..2**29 (4, 8, 16, ...), got %d" % block_size
        )
    _in_range(views, "views", 0)
    if blocks * block_size >= REACH:
        raise ValueError(
            "blocks * block_size = %d bytes: a 32-bit MicroPython's views reach only %d "
            "bytes into a buffer; use fewer or smaller blocks, or several heaps"
            % (blocks * block_size, REACH)
        )
    return int(blocks), int(block_size), int(views)


def _in_range(value, what, least):
    check_count(value, what, least)
    if value > 65535:
        raise ValueError("%s must be in %d..65535, got %d" % (what, least, value))


def allocate(h, n, align, code, s):
    # allocate_blocks() (s = 0: n, align in blocks) or alloc() (s = log2(B): in bytes)
    # refused with `code` (0: not tried). Values past the kernel's range are clamped to
    # ones that cannot fit either, so the failure is counted as the request's. Also
    # free()'s refusals (code _FREED, _CORRUPT or _NOT_LIVE; n: the view's block).
    if code in (_FREED, _NOT_LIVE):
        refuse(n, code)
    if code != _CORRUPT:
        check_count(n, "nbytes" if s else "size")
        check_align(align)
        blocks = min((n - 1 >> s) + 1, 65536)
        code = h._k_alloc(blocks, min((align - 1 >> s) + 1, 65536), int(n) if s else 0)
        if type(code) is not int or code >= 0:
            return code  # the view (s), or the index
        if code == _OOM:
            h._refused(n, align, code, s)  # raises AllocError
    refuse(0, code)


def resize(h, index, old, new, mode):
    # deallocate (mode _FREE), shrink (_SHRINK) or grow (1: exact, 0: up to) refused by
    # the fast path: check the arguments, call the kernel once more, raise its refusal.
    if not is_int(index):
        raise TypeError("index must be an int, not %s" % type(index).__name__)
    check_count(old, "size")
    if mode != _FREE:
        check_count(new, "new_size")
        if new == old or (new < old) != (mode == _SHRINK):
            raise ValueError("need new_size %s old size" % "<>"[mode != _SHRINK])
    if index < 0 or index + old > h.blocks:
        raise ValueError("blocks %d..%d not in heap" % (index, index + old))
    code = h._k_resize(int(index), int(old), min(int(new), 65536), max(mode, 0))
    if code >= 0:
        return code
    if code == _OOM:
        raise AllocError("can't grow %d blocks at %d to %d" % (old, index, new))
    refuse(index, code)


def refuse(i, code):
    # A refusal of the blocks at i: the kernel found them free or the list corrupt, or
    # the view is not a live view of this heap at all (_NOT_LIVE, or 0).
    if code == _CORRUPT:
        raise RuntimeError("heap corrupt: view used after free?")
    if code == _FREED:
        raise ValueError("blocks at %d are free: double free?" % i)
    raise ValueError("not a live view of this heap")


def realloc(self, view, nbytes, align=1):
    """Resize a live view to `nbytes`; returns the new view (the old one is dead).

    In place when the block count is unchanged, when shrinking, or when the run behind
    has room, provided the position meets `align` (bytes, a power of two, of the address);
    otherwise moves within this heap and copies min(old, new) bytes. Blocks:
    ceil(nbytes / block_size). O(F + views), plus the copy; allocates nothing with pooled
    views (MicroPython), else a new view.
    All or nothing: AllocError (no room: the failed counter counts it) or MemoryError (no
    room on the GC heap for a view or a copy's slice) leaves the old view valid and the
    heap as it was; ValueError for a view that is not live here, nbytes < 1 or a bad
    alignment; TypeError for a non-int.
    """
    # The crate's defects fixed here: S7 (align kept in place), S5 (copy min(old, new)),
    # S4 (blocks rounded up).
    s = self._shift
    tr = self._tr
    i = self._block(view)
    if not self.owns(view):
        refuse(i, 0)
    nbytes = int(check_count(nbytes, "nbytes"))
    align = int(check_align(align))
    n = len(view)
    old = (n - 1 >> s) + 1
    new = (nbytes - 1 >> s) + 1
    # Its blocks must still be allocated (the integer API may have freed them behind
    # its back): an impossible growth probes that, changing nothing.
    code = self._k_resize(i, old, old + 65536, _PROBE)
    if code != _OOM:
        refuse(i, code)
    # Larger than the heap: nothing to try in place, and no slicing (a size past a
    # small int raises OverflowError on MicroPython); alloc() below counts it.
    mask = (align - 1) >> s  # the address must meet align: the start's index counts
    bias = (self._vt[1] >> 16 if self._vt is not None else self._base >> s) & mask
    if nbytes <= tr << 1 and not (i + bias) & mask:
        off = i << s
        # In place: the new view first (the one thing that can fail), then the blocks.
        resized = view if self._vs is not None else self.memory[off : off + nbytes]
        if new == old or self._k_resize(i, old, new, _PROBE) >= 0:
            if resized is view:  # the same view, repointed: nothing allocated
                self._move(view, off, nbytes)
            else:
                self._live[i] = resized  # an existing key: the dict does not grow
                try:
                    release(view)
                except MemoryError:  # CPython: no room for the call; the old view lives on
                    pass
            return resized
    # Move: what is copied, then a new view (AllocError leaves everything as it was),
    # then the copy and the free, undone if either fails.
    src = view if nbytes >= n else view[:nbytes]
    moved = self.alloc(nbytes, align)
    try:
        moved[: len(src)] = src
        self.free(view)
    except MemoryError:  # CPython: no room to make a slice, or to locate the view
        self.free(moved)
        raise
    return moved


Stalloc.realloc = realloc

_READY = True  # see _base.load()
