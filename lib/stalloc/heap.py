"""The block heap: L blocks of B bytes in one bytearray, first fit, free list in-band.

A Python port of the Rust crate stalloc, with its defects S1-S8 fixed.

Layout of the backing bytearray (L * B + 12 bytes, fixed at construction)::

    offset 0            L blocks of B bytes: the data region. Block i starts at i * B.
                        Allocated blocks carry no header at all. The first block of
                        every maximal free run (a "run") holds a 4-byte header:
                            u16 next     index of the next run, 0 = end of list
                            u16 length   blocks in this run
    offset L * B        trailer (stalloc's 4-byte base header, then diagnostics):
                        +0  u16 first    index of the first run (meaningless while OOM)
                        +2  u16 oom      0xFFFF when no block is free, else 0
                        +4  u16 used     blocks allocated
                        +6  u16 peak     highest `used` ever
                        +8  u32 failed   failed requests (saturating)

All fields are little-endian. Runs are kept sorted by index and fully coalesced: no two
runs touch. Index 0 can only be the first run, which is why `next == 0` can mean "end".
Because the data region starts at offset 0 of a bytearray, a block index that is a
multiple of k is aligned to k * B bytes from the heap's start; the start itself is
aligned to at least 8 bytes on both runtimes (16 on 64-bit CPython and MicroPython).

Two APIs over the same blocks:

- the integer API (allocate_blocks and friends) works in block indexes and counts, keeps
  nothing outside the bytearray and allocates nothing on the MicroPython GC heap, so it
  can run with the heap locked (hard interrupt handlers);
- the byte API (alloc, free, realloc, scoped) hands out memoryviews. It keeps one dict
  entry per live view (block index -> view), bounded by L and dropped on free, so that
  a view can be checked and freed exactly; each view is one small GC object.

Costs: F is the number of free runs (F <= (L + 1) // 2). Allocation, free, shrink and
grow walk the free list: O(F). is_oom, is_empty and clear are O(1); stats and check are
O(F) (check also O(live views)).
"""

from ._allocator import Allocator, AllocError, check_align, check_count
from ._compat import IS_MPY, addressof, get_ident, heap_kernels, new_lock, release
from ._kernel import (
    FREED,
    GROW_EXACT,
    GROW_PROBE,
    GROW_UP_TO,
    OOM,
    RANGE,
    T_FAILED,
    T_FIRST,
    T_OOM,
    T_PEAK,
    T_USED,
    TRAILER,
)

_kernels = heap_kernels()
_allocate = _kernels.allocate
_release = _kernels.release
_grow = _kernels.grow
_reset = _kernels.reset

# Largest alignment worth passing to a kernel: indexes are u16, so any power of two
# above 65535 only admits index 0, exactly like 65536 does.
_MAX_ALIGN = 65536

ACCELERATED = _kernels.__name__.endswith("_viper")


class HeapStats:
    """A snapshot of a heap's diagnostics (o1heap's, plus free-run shape).

    Counts are in blocks unless the name says bytes. `peak_used` and `failed` survive
    clear(); `failed` counts every AllocError the heap raised (saturates at 2**32 - 1).
    """

    def __init__(
        self,
        blocks,
        block_size,
        used,
        free_runs,
        largest_free_run,
        peak,
        failed,
        footprint,
        live_views,
    ):
        self.blocks = blocks
        self.block_size = block_size
        self.used = used
        self.free = blocks - used
        self.free_runs = free_runs
        self.largest_free_run = largest_free_run
        self.peak_used = peak
        self.failed = failed
        self.footprint = footprint
        self.live_views = live_views

    def __repr__(self):
        return (
            "HeapStats(blocks=%d, block_size=%d, used=%d, free=%d, free_runs=%d, "
            "largest_free_run=%d, peak_used=%d, failed=%d, footprint=%d, live_views=%d)"
            % (
                self.blocks,
                self.block_size,
                self.used,
                self.free,
                self.free_runs,
                self.largest_free_run,
                self.peak_used,
                self.failed,
                self.footprint,
                self.live_views,
            )
        )


def _u16(m, o):
    return m[o] | (m[o + 1] << 8)


class Stalloc(Allocator):
    """A fixed heap of `L` blocks of `B` bytes: first fit, free list stored in the blocks.

    1 <= L <= 65535; B a power of two >= 4. The whole heap is one bytearray of
    L * B + 12 bytes, allocated here and never resized. Not thread-safe: see SyncStalloc.
    Raises TypeError / ValueError for bad L or B, MemoryError if the runtime cannot
    provide the bytearray.
    """

    def __init__(self, L, B):
        check_count(L, "L (number of blocks)")
        if L > 65535:
            raise ValueError("L (number of blocks) must be <= 65535, got %d" % L)
        check_count(B, "B (block size)")
        if B < 4 or B & (B - 1):
            raise ValueError("B (block size) must be a power of two >= 4, got %d" % B)
        shift = 2
        while 1 << shift < B:
            shift += 1
        self._nblocks = L
        self._block = B
        self._shift = shift
        self._bmask = B - 1
        self._top = L << shift  # byte offset of the trailer
        self._mem = bytearray(self._top + TRAILER)
        self._mv = memoryview(self._mem)
        self._base = addressof(self._mem)
        self._live = {}  # byte API: block index -> the view handed out for it
        _reset(self._mem, self._top, shift)

    # -- geometry ------------------------------------------------------------------

    @property
    def blocks(self):
        """L, the number of blocks."""
        return self._nblocks

    @property
    def block_size(self):
        """B, the block size in bytes."""
        return self._block

    @property
    def footprint(self):
        """Bytes of backing storage: L * B + 12, fixed for the heap's lifetime."""
        return len(self._mem)

    # -- integer API ---------------------------------------------------------------

    def allocate_blocks(self, size, align=1):
        """Allocate `size` blocks; return the index of the first.

        First fit: the lowest index that is a multiple of `align` (in blocks, a power of
        two) where `size` consecutive blocks are free. O(F), allocates nothing.
        Raises AllocError if no such run exists (heap unchanged except the failed
        counter), TypeError / ValueError for a size < 1, non-int or a bad alignment.
        """
        if 0 < size <= self._nblocks and align == 1:
            # `size | 0` raises TypeError for a float before the kernel sees it.
            i = _allocate(self._mem, self._top, self._shift, size | 0, 1)
            if i >= 0:
                return i
            raise AllocError("no run of %d free blocks" % size)
        return self._allocate_blocks_slow(size, align)

    def _allocate_blocks_slow(self, size, align):
        check_count(size, "size")
        check_align(align)
        if size > self._nblocks:
            size = self._nblocks + 1  # cannot fit; still counted as a failed request
        i = _allocate(self._mem, self._top, self._shift, size, min(align, _MAX_ALIGN))
        if i < 0:
            raise AllocError("no run of %d free blocks at alignment %d" % (size, align))
        return i

    def deallocate_blocks(self, index, size):
        """Free `size` blocks starting at `index`, merging with neighbouring free runs.

        O(F), allocates nothing. Raises ValueError, with the heap unchanged, if the range
        leaves the heap or overlaps a free run (a double free, or blocks never
        allocated). Like stalloc, the heap keeps no per-allocation sizes: freeing a
        different size than was allocated is only caught where it reaches free blocks.
        """
        if 0 <= index and 0 < size and index + size <= self._nblocks:
            r = _release(self._mem, self._top, self._shift, index | 0, index, size | 0)
            if not r:
                return
            self._raise(r, index, size)
        self._check_range(index, size)

    def shrink_in_place(self, index, old_size, new_size):
        """Give back the tail of an allocation: keep `new_size` of its `old_size` blocks.

        0 < new_size < old_size. O(F), allocates nothing, never fails for a valid
        allocation. ValueError (heap unchanged) for bad sizes or a range that overlaps
        free blocks.
        """
        self._check_range(index, old_size)
        check_count(new_size, "new_size")
        if new_size >= old_size:
            raise ValueError("shrink needs new_size < old_size (%d >= %d)" % (new_size, old_size))
        r = _release(
            self._mem, self._top, self._shift, index, index + new_size, old_size - new_size
        )
        if r:
            self._raise(r, index, old_size)

    def grow_in_place(self, index, old_size, new_size):
        """Extend an allocation to `new_size` blocks without moving it, or fail.

        Succeeds only if the free run right behind the allocation holds the extra
        new_size - old_size blocks. O(F), allocates nothing. AllocError (heap unchanged
        except the failed counter) if it does not; ValueError for bad sizes or ranges.
        """
        new_size = self._check_growth(index, old_size, new_size)
        r = _grow(self._mem, self._top, self._shift, index, old_size, new_size, GROW_EXACT)
        if r < 0:
            if r == OOM:
                raise AllocError(
                    "cannot grow %d blocks at %d to %d in place" % (old_size, index, new_size)
                )
            self._raise(r, index, old_size)

    def grow_up_to(self, index, old_size, new_size):
        """Extend an allocation in place by as much as is free behind it, up to new_size.

        Returns the size reached, old_size..new_size (old_size when nothing is free
        right behind). O(F), allocates nothing. ValueError for bad sizes or ranges.
        """
        want = self._check_growth(index, old_size, new_size)
        r = _grow(self._mem, self._top, self._shift, index, old_size, want, GROW_UP_TO)
        if r < 0:
            self._raise(r, index, old_size)
        return r

    def is_oom(self):
        """True iff no block is free. O(1).

        When False, allocate_blocks(1) succeeds (stalloc promised this and broke it, S1).
        """
        return self._mem[self._top + T_OOM] != 0

    def is_empty(self):
        """True iff every block is free, so allocate_blocks(L) succeeds. O(1).

        stalloc only looked at the first run's position (S3); this checks its length too.
        """
        m = self._mem
        t = self._top
        return not m[t + T_OOM] and not _u16(m, t + T_FIRST) and _u16(m, 2) == self._nblocks

    def clear(self):
        """Free everything at once. O(1) for the integer API, allocates nothing.

        Every outstanding index and view becomes invalid; on CPython the views are
        released, so using one raises ValueError. peak_used and failed are kept.
        """
        _reset(self._mem, self._top, self._shift)
        live = self._live
        if live:
            if not IS_MPY:
                for view in live.values():
                    release(view)
            live.clear()

    # -- byte API ------------------------------------------------------------------

    def alloc(self, nbytes, align=1):
        """A writable memoryview of exactly `nbytes` bytes, in ceil(nbytes / B) blocks.

        `align` (bytes, a power of two) is honoured relative to the heap's start, which
        is itself aligned to at least 8 bytes: up to that the address is aligned too.
        Contents are not zeroed. O(F); allocates the view (one small GC object) and one
        dict entry. AllocError if no run fits (heap unchanged but the failed counter);
        TypeError / ValueError for nbytes < 1, non-int or bad alignment.
        """
        if 0 < nbytes <= self._top and align == 1:
            i = _allocate(
                self._mem, self._top, self._shift, (nbytes + self._bmask) >> self._shift, 1
            )
            if i >= 0:
                return self._hand_out(i, nbytes)
        return self._alloc_slow(nbytes, align)

    def _alloc_slow(self, nbytes, align):
        check_count(nbytes, "nbytes")
        check_align(align)
        blocks = (nbytes + self._bmask) >> self._shift
        i = self.allocate_blocks(
            min(blocks, self._nblocks + 1), min((align + self._bmask) >> self._shift, _MAX_ALIGN)
        )
        return self._hand_out(i, nbytes)

    def _hand_out(self, i, nbytes):
        # Blocks [i, ...) are allocated: make the view and remember it. If the GC heap
        # cannot hold the view or the dict entry, give the blocks back before raising.
        try:
            off = i << self._shift
            view = self._mv[off : off + nbytes]
            self._live[i] = view
            return view
        except MemoryError:
            self._live.pop(i, None)
            _release(
                self._mem, self._top, self._shift, i, i, (nbytes + self._bmask) >> self._shift
            )
            raise

    def free(self, view):
        """Free a view returned by this heap's alloc() or realloc(). O(F).

        ValueError (heap unchanged) if the view is not one of this heap's live views:
        a copy or re-slice, a view already freed, or another allocator's view.
        On CPython the view is released: any later use raises ValueError.
        """
        i = (addressof(view) - self._base) >> self._shift
        if self._live.get(i) is not view:
            raise ValueError(
                "not a live view of this heap (double free, foreign view, "
                "or a copy/re-slice of the view)"
            )
        r = _release(
            self._mem, self._top, self._shift, i, i, (len(view) + self._bmask) >> self._shift
        )
        if r:
            self._raise(r, i, (len(view) + self._bmask) >> self._shift)
        del self._live[i]
        release(view)

    def owns(self, view):
        """True iff `view` is a live view handed out by this heap. O(1)."""
        try:
            i = (addressof(view) - self._base) >> self._shift
        except (TypeError, ValueError):
            return False
        return self._live.get(i) is view

    def realloc(self, view, nbytes, align=1):
        """Resize a live view to `nbytes`; returns the new view (the old one is dead).

        Stays in place when the block count is unchanged, when shrinking, or when the
        free run behind it has room, provided the current position meets `align` (S7);
        otherwise moves within this heap and copies min(old, new) bytes (S5). The block
        count is ceil(nbytes / B) (S4). O(F). AllocError leaves the old view valid and the
        heap unchanged but the failed counter; ValueError for a view that is not live here.
        """
        if not self.owns(view):
            raise ValueError("not a live view of this heap")
        check_count(nbytes, "nbytes")
        check_align(align)
        shift = self._shift
        i = (addressof(view) - self._base) >> shift
        old = (len(view) + self._bmask) >> shift
        new = min((nbytes + self._bmask) >> shift, self._nblocks + 1)
        ablocks = min((align + self._bmask) >> shift, _MAX_ALIGN)
        if i % ablocks == 0:
            if new < old:
                r = _release(self._mem, self._top, shift, i, i + new, old - new)
                if r:
                    self._raise(r, i, old)
                return self._replace(view, i, nbytes)
            if new == old or _grow(self._mem, self._top, shift, i, old, new, GROW_PROBE) == new:
                return self._replace(view, i, nbytes)
        moved = self._hand_out(self.allocate_blocks(new, ablocks), nbytes)
        keep = min(len(view), nbytes)
        try:
            moved[:keep] = view if keep == len(view) else view[:keep]
        except MemoryError:  # MicroPython could not allocate the slice of `view`
            self.free(moved)
            raise
        self.free(view)
        return moved

    def _replace(self, view, i, nbytes):
        # Same start block, new length: swap the registered view.
        off = i << self._shift
        new_view = self._mv[off : off + nbytes]
        self._live[i] = new_view
        release(view)
        return new_view

    # -- diagnostics ---------------------------------------------------------------

    def stats(self):
        """A HeapStats snapshot. O(F); allocates the result."""
        m = self._mem
        t = self._top
        runs = 0
        largest = 0
        if not m[t + T_OOM]:
            cur = _u16(m, t + T_FIRST)
            while True:
                h = cur << self._shift
                n = _u16(m, h + 2)
                runs += 1
                if n > largest:
                    largest = n
                cur = _u16(m, h)
                if not cur:
                    break
        failed = _u16(m, t + T_FAILED) | (_u16(m, t + T_FAILED + 2) << 16)
        return HeapStats(
            self._nblocks,
            self._block,
            _u16(m, t + T_USED),
            runs,
            largest,
            _u16(m, t + T_PEAK),
            failed,
            len(m),
            len(self._live),
        )

    def free_runs(self):
        """The free runs as a list of (index, length), in address order. O(F)."""
        m = self._mem
        t = self._top
        runs = []
        if not m[t + T_OOM]:
            cur = _u16(m, t + T_FIRST)
            while True:
                h = cur << self._shift
                runs.append((cur, _u16(m, h + 2)))
                cur = _u16(m, h)
                if not cur:
                    break
        return runs

    def check(self):
        """Recompute every invariant; raise RuntimeError naming the first that fails.

        Checks the trailer, that runs are in bounds, sorted, non-empty and coalesced
        (never touching), that the list ends, that free + used == L and peak >= used,
        and that live views are where they claim, non-overlapping and not free.
        O(F + live views). Cheap enough to call after every operation in tests.
        """
        m = self._mem
        t = self._top
        L = self._nblocks
        if len(m) != t + TRAILER or self._top != L * self._block:
            raise RuntimeError("heap check: backing buffer resized")
        oom = _u16(m, t + T_OOM)
        used = _u16(m, t + T_USED)
        peak = _u16(m, t + T_PEAK)
        if oom not in (0, 0xFFFF):
            raise RuntimeError("heap check: OOM marker is 0x%04x" % oom)
        if used > L or peak < used or peak > L:
            raise RuntimeError("heap check: used=%d peak=%d for %d blocks" % (used, peak, L))
        runs = []
        if oom:
            if _u16(m, t + T_FIRST):
                raise RuntimeError("heap check: OOM with a first-run index set")
        else:
            cur = _u16(m, t + T_FIRST)
            end = -1
            while True:
                if cur >= L:
                    raise RuntimeError("heap check: run index %d out of range" % cur)
                if cur <= end:
                    raise RuntimeError(
                        "heap check: run %d not after the previous run's end %d "
                        "(unsorted, overlapping or not coalesced)" % (cur, end)
                    )
                h = cur << self._shift
                n = _u16(m, h + 2)
                if n < 1 or cur + n > L:
                    raise RuntimeError("heap check: run %d has length %d" % (cur, n))
                runs.append((cur, n))
                end = cur + n  # the next run must start strictly after this
                cur = _u16(m, h)
                if not cur:
                    break
        free = 0
        for _, n in runs:
            free += n
        if free + used != L:
            raise RuntimeError("heap check: %d free + %d used != %d blocks" % (free, used, L))
        self._check_views(runs)

    def _check_views(self, runs):
        spans = []
        for i, view in self._live.items():
            if len(view) < 1 or addressof(view) != self._base + (i << self._shift):
                raise RuntimeError("heap check: live view at block %d moved" % i)
            spans.append((i, i + ((len(view) + self._bmask) >> self._shift)))
        spans.sort()
        for k in range(1, len(spans)):
            if spans[k][0] < spans[k - 1][1]:
                raise RuntimeError("heap check: live views overlap at block %d" % spans[k][0])
        r = 0
        for lo, hi in spans:
            while r < len(runs) and runs[r][0] + runs[r][1] <= lo:
                r += 1
            if r < len(runs) and runs[r][0] < hi:
                raise RuntimeError(
                    "heap check: live view at block %d overlaps free run %d" % (lo, runs[r][0])
                )

    def __str__(self):
        # stalloc's Debug output, byte for byte.
        parts = ["Stallocator with %d blocks of %d bytes each" % (self._nblocks, self._block)]
        runs = self.free_runs()
        if not runs:
            parts.append("\n\tNo free blocks (OOM)")
        for i, n in runs:
            parts.append("\n\tindex %d: %d free block%s" % (i, n, "" if n == 1 else "s"))
        return "".join(parts)

    def __repr__(self):
        s = self.stats()
        return "<%s %d x %d B: %d used, %d free in %d runs>" % (
            type(self).__name__,
            s.blocks,
            s.block_size,
            s.used,
            s.free,
            s.free_runs,
        )

    # -- errors --------------------------------------------------------------------

    def _check_range(self, index, size):
        # Raise the right error for an (index, size) that failed the fast range test.
        if not isinstance(index, int):
            raise TypeError("index must be an int, not %s" % type(index).__name__)
        check_count(size, "size")
        if index < 0 or index + size > self._nblocks:
            raise ValueError(
                "blocks %d..%d are outside the heap (0..%d)" % (index, index + size, self._nblocks)
            )

    def _check_growth(self, index, old_size, new_size):
        self._check_range(index, old_size)
        check_count(new_size, "new_size")
        if new_size <= old_size:
            raise ValueError("grow needs new_size > old_size (%d <= %d)" % (new_size, old_size))
        # Beyond the heap's end cannot fit; keep kernel arguments in machine-word range.
        return min(new_size, self._nblocks + 1)

    def _raise(self, code, index, size):
        if code == FREED:
            raise ValueError(
                "blocks %d..%d overlap free blocks (double free, or never "
                "allocated)" % (index, index + size)
            )
        if code == RANGE:
            raise ValueError("blocks %d..%d are outside the heap" % (index, index + size))
        raise AllocError("no room for %d blocks" % size)


class UnsafeStalloc(Stalloc):
    """Stalloc without a lock, for a heap only one thread (and no interrupt) ever touches.

    The same class as Stalloc under the crate's name: the crate needed a separate type to
    mark it shareable; in Python nothing stops sharing, so the name is the warning.
    Concurrent calls from two threads corrupt the free list (check() will tell).
    """


class _Locked:
    # Context manager returned by SyncStalloc.acquire_locked().
    def __init__(self, owner):
        self._owner = owner

    def __enter__(self):
        owner = self._owner
        owner._acquire()
        owner._holder = get_ident()
        return owner._heap

    def __exit__(self, exc_type, exc, tb):
        # Runs on exceptions too: the lock is never left held (stalloc's S6).
        owner = self._owner
        owner._holder = None
        owner._lock.release()


class SyncStalloc(Allocator):
    """A Stalloc behind a lock, safe to share between threads.

    Every call takes the lock (CPython `threading`, MicroPython `_thread`). To batch
    calls under one acquisition, use `with heap.acquire_locked() as h:` and call h.
    Calling this object's own methods inside that block raises RuntimeError instead of
    deadlocking. The lock is released when a call raises. Not for interrupt handlers:
    see the board critical-section variant for that.
    """

    def __init__(self, L, B):
        self._heap = UnsafeStalloc(L, B)
        self._lock = new_lock()
        self._holder = None

    def _acquire(self):
        if not self._lock.acquire(0):
            if self._holder == get_ident():
                raise RuntimeError(
                    "this thread holds the lock through acquire_locked(): use the heap it returned"
                )
            self._lock.acquire()

    def acquire_locked(self):
        """`with heap.acquire_locked() as h:` holds the lock for the whole block.

        h is the underlying UnsafeStalloc; it must not escape the block.
        """
        return _Locked(self)

    @property
    def blocks(self):
        return self._heap.blocks

    @property
    def block_size(self):
        return self._heap.block_size

    @property
    def footprint(self):
        return self._heap.footprint

    def allocate_blocks(self, size, align=1):
        self._acquire()
        try:
            return self._heap.allocate_blocks(size, align)
        finally:
            self._lock.release()

    def deallocate_blocks(self, index, size):
        self._acquire()
        try:
            return self._heap.deallocate_blocks(index, size)
        finally:
            self._lock.release()

    def shrink_in_place(self, index, old_size, new_size):
        self._acquire()
        try:
            return self._heap.shrink_in_place(index, old_size, new_size)
        finally:
            self._lock.release()

    def grow_in_place(self, index, old_size, new_size):
        self._acquire()
        try:
            return self._heap.grow_in_place(index, old_size, new_size)
        finally:
            self._lock.release()

    def grow_up_to(self, index, old_size, new_size):
        self._acquire()
        try:
            return self._heap.grow_up_to(index, old_size, new_size)
        finally:
            self._lock.release()

    def is_oom(self):
        self._acquire()
        try:
            return self._heap.is_oom()
        finally:
            self._lock.release()

    def is_empty(self):
        self._acquire()
        try:
            return self._heap.is_empty()
        finally:
            self._lock.release()

    def clear(self):
        self._acquire()
        try:
            return self._heap.clear()
        finally:
            self._lock.release()

    def alloc(self, nbytes, align=1):
        self._acquire()
        try:
            return self._heap.alloc(nbytes, align)
        finally:
            self._lock.release()

    def free(self, view):
        self._acquire()
        try:
            return self._heap.free(view)
        finally:
            self._lock.release()

    def realloc(self, view, nbytes, align=1):
        self._acquire()
        try:
            return self._heap.realloc(view, nbytes, align)
        finally:
            self._lock.release()

    def owns(self, view):
        self._acquire()
        try:
            return self._heap.owns(view)
        finally:
            self._lock.release()

    def stats(self):
        self._acquire()
        try:
            return self._heap.stats()
        finally:
            self._lock.release()

    def free_runs(self):
        self._acquire()
        try:
            return self._heap.free_runs()
        finally:
            self._lock.release()

    def check(self):
        self._acquire()
        try:
            return self._heap.check()
        finally:
            self._lock.release()

    def __str__(self):
        self._acquire()
        try:
            return str(self._heap)
        finally:
            self._lock.release()

    def __repr__(self):
        self._acquire()
        try:
            return repr(self._heap).replace("UnsafeStalloc", "SyncStalloc", 1)
        finally:
            self._lock.release()
