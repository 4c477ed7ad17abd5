"""Diagnostics of a Stalloc: check(), stats(), stats_into(), free_runs(), map(), map_into(),
str() and repr(). heap.py loads this module on the first use of one of them and it adds
them to the class, so a program that never asks pays nothing for them.

Everything here reads the heap (the layout is drawn in heap.py) and changes nothing. A
corrupt free list (a view written after free() lands in a run header) raises
RuntimeError instead of looping or reading outside the heap.
"""

from ._base import view_address
from ._check import check_count
from .heap import Stalloc


class HeapStats:
    """A snapshot of a heap's diagnostics (o1heap's, plus the shape of free space).

    Counts are in blocks unless the name says bytes. `peak_used` and `failed` survive
    clear(); `failed` counts every AllocError the heap raised (saturating at 2**32 - 1).
    `footprint` is the bytes of backing storage (the heap object and its pooled views
    keep ~560 more on a 32-bit MicroPython, ~1000 on 64-bit; see Stalloc); `live_views`
    the byte-API views out. `view_pool`: how many views the heap recycles (0: every
    alloc() makes a fresh view, as on CPython); `views_missed`: alloc() calls that found
    the pool empty (a fresh view then, or AllocError in strict mode).
    """

    def __init__(self, h, runs):
        w = h._w
        tr = h._tr
        self.blocks = tr >> h._s1
        self.block_size = 1 << h._shift
        self.used = w[tr + 2]
        self.free = self.blocks - self.used
        self.free_runs = len(runs)
        self.largest_free_run = max([n for _, n in runs] or [0])
        self.peak_used = w[tr + 3]
        self.failed = w[tr + 4] | w[tr + 5] << 16
        self.footprint = h.footprint
        self.live_views = len(_live(h))
        self.view_pool = len(h._vs) if h._vs is not None else 0
        self.views_missed = h._missed

    def __repr__(self):
        return "HeapStats(%s)" % ", ".join(
            "%s=%d" % (k, getattr(self, k))
            for k in (
                "blocks",
                "block_size",
                "used",
                "free",
                "free_runs",
                "largest_free_run",
                "peak_used",
                "failed",
                "footprint",
                "live_views",
                "view_pool",
                "views_missed",
            )
        )


def _live(h):
    # (block, view) for every live view: the pooled ones handed out, then the fresh ones.
    out = []
    vs = h._vs
    if vs is not None:
        for k in range(len(vs)):
            b = h._vt[4 + 3 * k]  # slot k's block + 1 (_repoint.pool)
            if b:
                out.append((b - 1, vs[k]))
    return out + list(h._live.items())


def _runs(h, strict):
    # The free runs [(index, length)] in address order. strict (check()): name the fault;
    # otherwise a corrupt list is the one short RuntimeError the heap's calls raise.
    w = h._w
    tr = h._tr
    L = tr >> h._s1
    runs = []
    if w[tr + 1]:
        if strict and w[tr]:
            raise RuntimeError("heap check: OOM with a first-run index set")
        return runs
    cur = w[tr]
    end = -1  # where the previous run ends: the next must start after it
    while True:
        n = w[(cur << h._s1) + 1] if cur < L else 0
        if cur >= L or cur <= end or n < 1 or cur + n > L:
            if not strict:
                raise RuntimeError("heap corrupted: a view was written after free()")
            raise RuntimeError(
                "heap check: run at %d (length %d) is out of range, empty, or does not "
                "start after the previous run's end %d" % (cur, n, end)
            )
        runs.append((cur, n))
        end = cur + n
        cur = w[cur << h._s1]
        if not cur:
            return runs


def free_runs(self):
    """The free runs as a list of (index, length in blocks), in address order.

    O(F), F the free runs; allocates the list. RuntimeError if the free list is corrupt.
    """
    return _runs(self, False)


def stats(self):
    """A HeapStats snapshot: used, free, free runs, largest run, peak, failed requests,
    footprint, views.

    O(F + views); allocates the snapshot. RuntimeError if the free list is corrupt.
    """
    return HeapStats(self, _runs(self, False))


def check(self):
    """Recompute every invariant of the heap; return None, or raise RuntimeError naming
    the first that fails (a corrupt free list, counts that do not add up, live views that
    moved, overlap or sit in free blocks).

    O(F + views log views); allocates lists of runs and views. Changes nothing.
    """
    # The trailer, the runs (in bounds, non-empty, sorted, coalesced, ending), the counts,
    # and the live views (where they claim, not overlapping, not free). O(F + views).
    w = self._w
    tr = self._tr
    L = tr >> self._s1
    oom, used, peak = w[tr + 1], w[tr + 2], w[tr + 3]
    if oom not in (0, 0xFFFF):
        raise RuntimeError("heap check: OOM marker is 0x%04x" % oom)
    if used > L or peak < used or peak > L:
        raise RuntimeError("heap check: used=%d peak=%d for %d blocks" % (used, peak, L))
    runs = _runs(self, True)
    free = sum([n for _, n in runs])
    if free + used != L:
        raise RuntimeError("heap check: %d free + %d used != %d blocks" % (free, used, L))
    spans = []
    for i, view in _live(self):
        if len(view) < 1 or self._base + (i << self._shift) != view_address(view):
            raise RuntimeError("heap check: live view at block %d moved" % i)
        spans.append((i, i + ((len(view) - 1) >> self._shift) + 1))
    spans.sort()
    r = 0
    for k in range(len(spans)):
        lo, hi = spans[k]
        if k and lo < spans[k - 1][1]:
            raise RuntimeError("heap check: live views overlap at block %d" % lo)
        while r < len(runs) and runs[r][0] + runs[r][1] <= lo:
            r += 1
        if r < len(runs) and runs[r][0] < hi:
            raise RuntimeError("heap check: live view at %d overlaps a free run" % lo)


def map(self, width=64):  # (named as the method, for help(): no builtin map() here)
    """The heap as a line of at most `width` characters, each for ceil(blocks / width)
    blocks: '#' all used, ':' partly, '.' all free.

    O(blocks); allocates the string and a bytearray of blocks bytes. TypeError /
    ValueError for a width that is not an int >= 1; RuntimeError if the free list is
    corrupt.
    """
    check_count(width, "width")
    L = self._tr >> self._s1
    group = (L + width - 1) // width
    free = bytearray(L)
    for i, n in _runs(self, False):
        free[i : i + n] = b"\x01" * n
    chars = []
    for g in range(0, L, group):
        nfree = sum(free[g : g + group])
        chars.append("." if nfree == min(group, L - g) else "#" if nfree == 0 else ":")
    return "".join(chars)


def map_into(self, buf):
    """Write one byte per block into `buf`: ord('#') used, ord('.') free; return blocks.

    For boards and interrupt handlers: allocates nothing, also with the heap locked (on
    MicroPython from the second call: the first loads the diagnostics). O(blocks).
    TypeError for a buf that is not a writable bytearray or memoryview, ValueError for
    one shorter than blocks (`buf` unchanged either way); RuntimeError if the free list
    is corrupt.
    """
    # Allocation-free on purpose (boards, interrupt handlers): no list of runs, a walk
    # with the same header checks as the kernels. `buf` untouched when an argument is bad.
    L = self._tr >> self._s1
    if not (isinstance(buf, bytearray) or isinstance(buf, memoryview)):
        raise TypeError("map_into needs a bytearray or memoryview")
    if len(buf) < L:
        raise ValueError("map_into needs %d bytes, got %d" % (L, len(buf)))
    buf[0] = buf[0]  # TypeError here, before any change, if buf is read-only
    for k in range(L):
        buf[k] = 35  # '#'
    w = self._w
    s1 = self._s1
    if w[self._tr + 1]:
        return L
    cur = w[self._tr]
    end = -1
    while True:
        n = w[(cur << s1) + 1] if cur < L else 0
        if cur >= L or cur <= end or n < 1 or cur + n > L:
            raise RuntimeError("heap corrupted: a view was written after free()")
        end = cur + n
        for k in range(cur, end):
            buf[k] = 46  # '.'
        cur = w[cur << s1]
        if not cur:
            return L


def stats_into(self, buf):
    """Write the figures into `buf` (7 ints): used, free, largest free run, free runs,
    peak used, failed requests' low 16 bits, then their high 16 bits.

    For interrupt handlers and locked loops: allocates nothing (on MicroPython from the
    second call: the first loads the diagnostics). O(F). ValueError for a buf of fewer
    than 7 items, TypeError for one that cannot take ints (`buf` unchanged either way);
    RuntimeError if the free list is corrupt (buf then holds what was found before).
    """
    # Allocation-free, for an interrupt handler or a locked loop: figures only (ints below
    # 2**16, so that none is made), the walk as map_into()'s. `buf` untouched when it is
    # bad; on a corrupt list (RuntimeError) it holds what was found before.
    if len(buf) < 7:
        raise ValueError("stats_into needs 7 items, got %d" % len(buf))
    buf[6] = buf[6]  # TypeError here, before any change, if buf cannot take ints
    w = self._w
    tr = self._tr
    buf[0] = w[tr + 2]
    buf[1] = (tr >> self._s1) - w[tr + 2]
    buf[2] = buf[3] = 0
    buf[4] = w[tr + 3]
    buf[5] = w[tr + 4]
    buf[6] = w[tr + 5]
    if not w[tr + 1]:
        _walk(self, buf, w[tr])


def _walk(h, buf, cur):
    # stats_into()'s runs and largest run (a frame of its own: each stays within 11 words,
    # which MicroPython keeps off the GC heap).
    w = h._w
    L = h._tr >> h._s1
    end = -1
    while True:
        n = w[(cur << h._s1) + 1] if cur < L else 0
        if cur >= L or cur <= end or n < 1 or cur + n > L:
            raise RuntimeError("heap corrupted: a view was written after free()")
        buf[3] += 1
        if n > buf[2]:
            buf[2] = n
        end = cur + n
        cur = w[cur << h._s1]
        if not cur:
            return


def debug_text(h):
    # stalloc's Debug output, byte for byte.
    parts = ["Stallocator with %d blocks of %d bytes each" % (h._tr >> h._s1, 1 << h._shift)]
    runs = _runs(h, False)
    if not runs:
        parts.append("\n\tNo free blocks (OOM)")
    for i, n in runs:
        parts.append("\n\tindex %d: %d free block%s" % (i, n, "" if n == 1 else "s"))
    return "".join(parts)


Stalloc.free_runs = free_runs
Stalloc.stats = stats
Stalloc.check = check
Stalloc.map = map
Stalloc.map_into = map_into
Stalloc.stats_into = stats_into

_READY = True  # see _base.load()
