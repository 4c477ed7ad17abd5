"""The block heap: L blocks of B bytes in one bytearray, first fit, free list in-band.

A Python port of the Rust crate stalloc, with its defects S1-S8 fixed.

Layout of the backing bytearray (L * B + 12 bytes, fixed at construction)::

    offset 0            L blocks of B bytes: the data region. Block i starts at i * B.
                        Allocated blocks carry no header at all. The first block of
                        every maximal free run (a "run") holds a 4-byte header:
                            u16 next     index of the next run, 0 = end of list
                            u16 length   blocks in this run
    offset L * B        trailer (stalloc's 4-byte base header, then diagnostics):
                        +0  u16 first    index of the first run (0 while OOM)
                        +2  u16 oom      0xFFFF when no block is free, else 0
                        +4  u16 used     blocks allocated
                        +6  u16 peak     highest `used` ever
                        +8  u32 failed   failed requests, as two u16 halves, low first

Fields are in the machine's native byte order, as in the crate (little-endian on every
MicroPython target and on x86 and ARM hosts). Runs are sorted by index and fully
coalesced: no two runs touch. Index 0 can only be the first run, which is why
`next == 0` can mean "end". Because the data region starts at offset 0 of a bytearray,
a block index that is a multiple of k is aligned to k * B bytes from the heap's start;
the start itself is aligned to at least 8 bytes on both runtimes.

Two APIs over the same blocks:

- the integer API (allocate_blocks and friends) works in block indexes and counts, keeps
  nothing outside the bytearray and allocates nothing on the MicroPython GC heap, so it
  can run with the heap locked (hard interrupt handlers);
- the byte API (alloc, free, realloc, scoped) hands out memoryviews. It keeps one dict
  entry per live view (block index -> view), bounded by L and dropped on free, so that
  a view can be checked and freed exactly; each view is one small GC object.

Costs, with F the number of free runs (F <= (L + 1) // 2): allocating, freeing,
shrinking and growing walk the free list, O(F); is_oom, is_empty and clear are O(1);
stats and check are O(F), check also O(live views).

On MicroPython with the native emitter the kernels and the four hottest methods run as
viper/native twins from _viper.py; elsewhere everything runs as written here.
"""

from ._allocator import Allocator, AllocError, check_align, check_count, move
from ._compat import (
    IS_MPY,
    LOCK_KNOWS_OWNER,
    addressof,
    get_ident,
    heap_kernels,
    is_int,
    new_lock,
    release,
    u16_view,
    view_address,
)
from ._kernel import (
    CORRUPT,
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

ACCELERATED = _kernels.TAKES_BYTEARRAY  # True when the viper kernels are in use


class HeapStats:
    """A snapshot of a heap's diagnostics (o1heap's, plus the shape of free space).

    Counts are in blocks unless the name says bytes. `peak_used` and `failed` survive
    clear(); `failed` counts every AllocError the heap raised (saturating at 2**32 - 1).
    `footprint` is the bytes of backing storage; `live_views` the byte-API views out.
    """

    def __init__(
        self, blocks, block_size, used, free_runs, largest, peak, failed, footprint, views
    ):
        self.blocks = blocks
        self.block_size = block_size
        self.used = used
        self.free = blocks - used
        self.free_runs = free_runs
        self.largest_free_run = largest
        self.peak_used = peak
        self.failed = failed
        self.footprint = footprint
        self.live_views = views

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


def _corrupt():
    raise RuntimeError(
        "heap corrupted: a free run's header breaks the free-list invariants; most likely "
        "a view was written to after free() (check() names the fault)"
    )


class Stalloc(Allocator):
    """A fixed heap of `L` blocks of `B` bytes: first fit, free list stored in the blocks.

    1 <= L <= 65535; B a power of two, 4 <= B <= 2**29 (as in the crate). The whole heap
    is one bytearray of L * B + 12 bytes, allocated here and never resized. Not
    thread-safe: see SyncStalloc. Raises TypeError / ValueError for bad L or B,
    MemoryError if the runtime cannot provide the bytearray.
    """

    def __init__(self, L, B):
        check_count(L, "L (number of blocks)")
        if L > 65535:
            raise ValueError("L (number of blocks) must be <= 65535, got %d" % L)
        check_count(B, "B (block size)")
        if B < 4 or B & (B - 1) or B > 1 << 29:
            raise ValueError("B (block size) must be a power of two, 4..2**29, got %d" % B)
        shift = 2
        while 1 << shift < B:
            shift += 1
        self._nblocks = L
        self._block = B
        self._shift = shift
        self._bmask = B - 1
        self._top = L << shift  # bytes in the data region = byte offset of the trailer
        self._tr = self._top >> 1  # the same in u16 items
        self._s1 = shift - 1  # block index -> u16 index of its header
        self._mem = bytearray(self._top + TRAILER)
        self._mv = memoryview(self._mem)
        self._data = self._mv[: self._top]  # the blocks, for the integer API's users
        self._w = u16_view(self._mem)  # for the diagnostics below
        self._k = self._mem if ACCELERATED else self._w  # what the kernels take
        self._base = addressof(self._mem)
        self._live = {}  # byte API: block index -> the view handed out for it
        # Everything the native fast paths (_viper.py) need, loaded with one lookup.
        self._hot = (
            self._k,
            self._tr,
            self._s1,
            shift,
            self._bmask,
            self._top,
            self._mv,
            self._live,
            self._base,
        )
        _reset(self._k, self._tr, self._s1)

    # -- geometry ----------------------------------------------------------------------

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

    @property
    def memory(self):
        """The data region as one writable memoryview of L * B bytes, made once.

        Block i is memory[i * B : (i + 1) * B]. With the integer API this is how data is
        read and written without creating a view per allocation (zero GC allocation, also
        in interrupt handlers). Writing into free blocks corrupts the free list.
        """
        return self._data

    # -- integer API -------------------------------------------------------------------

    def allocate_blocks(self, size, align=1):
        """Allocate `size` blocks; return the index of the first.

        First fit: the lowest index that is a multiple of `align` (in blocks, a power of
        two) where `size` consecutive blocks are free. O(F), allocates nothing.
        Raises AllocError if there is no such run (heap unchanged but the failed
        counter), TypeError / ValueError for a non-int, size < 1 or a bad alignment.
        """
        i = RANGE
        # Both in 0..65535 (`|` raises TypeError for non-ints); others take the slow path.
        if not (size | align) >> 16:
            i = _allocate(self._k, self._tr, self._s1, size, align)
            if i >= 0:
                return i
        return self._allocate_blocks_slow(i, size, align)

    def _allocate_blocks_slow(self, code, size, align):
        # The fast path refused (code) or did not apply (RANGE): name the bad argument,
        # or retry with values clamped into the kernels' range.
        check_count(size, "size")
        check_align(align)
        if code == RANGE:
            code = _allocate(
                self._k, self._tr, self._s1, min(size, self._nblocks + 1), min(align, 65536)
            )
            if code >= 0:
                return code
        if code == CORRUPT:
            _corrupt()
        raise AllocError("no run of %d free blocks at alignment %d" % (size, align))

    def deallocate_blocks(self, index, size):
        """Free `size` blocks starting at `index`, merging with neighbouring free runs.

        O(F), allocates nothing. Raises ValueError, with the heap unchanged, if the range
        leaves the heap or overlaps a free run (a double free, or blocks never
        allocated). Like stalloc, the heap keeps no per-allocation sizes: freeing a
        different size than was allocated is only caught where it reaches free blocks.
        """
        r = RANGE
        if not (index | size) >> 16:  # both in 0..65535, as in allocate_blocks
            r = _release(self._k, self._tr, self._s1, index, index, size)
            if not r:
                return
        self._refuse(r, index, size)

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
        r = _release(self._k, self._tr, self._s1, index, index + new_size, old_size - new_size)
        if r:
            self._refuse(r, index, old_size)

    def grow_in_place(self, index, old_size, new_size):
        """Extend an allocation to `new_size` blocks without moving it, or fail.

        Succeeds only if the free run right behind the allocation holds the extra
        new_size - old_size blocks. O(F), allocates nothing. AllocError (heap unchanged
        but the failed counter) if it does not; ValueError for bad sizes or ranges.
        """
        new_size = self._check_growth(index, old_size, new_size)
        r = _grow(self._k, self._tr, self._s1, index, old_size, new_size, GROW_EXACT)
        if r == OOM:
            raise AllocError(
                "cannot grow %d blocks at %d to %d in place" % (old_size, index, new_size)
            )
        if r < 0:
            self._refuse(r, index, old_size)

    def grow_up_to(self, index, old_size, new_size):
        """Extend an allocation in place by as much as is free behind it, up to new_size.

        Returns the size reached, old_size..new_size (old_size when nothing is free
        right behind). O(F), allocates nothing. ValueError for bad sizes or ranges.
        """
        want = self._check_growth(index, old_size, new_size)
        r = _grow(self._k, self._tr, self._s1, index, old_size, want, GROW_UP_TO)
        if r < 0:
            self._refuse(r, index, old_size)
        return r

    def is_oom(self):
        """True iff no block is free. O(1).

        When False, allocate_blocks(1) succeeds (stalloc promised this and broke it, S1).
        """
        return self._w[self._tr + T_OOM] != 0

    def is_empty(self):
        """True iff every block is free, so allocate_blocks(L) succeeds. O(1).

        stalloc only looked at where the first run starts (S3); this checks its length.
        """
        w = self._w
        return not w[self._tr + T_OOM] and not w[self._tr + T_FIRST] and w[1] == self._nblocks

    def clear(self):
        """Free everything at once. O(1), plus O(live views) when the byte API has views
        out (they are retired); allocates nothing.

        Every outstanding index and view becomes invalid; on CPython the views are
        released, so using one raises ValueError. peak_used and failed are kept.
        """
        _reset(self._k, self._tr, self._s1)
        live = self._live
        if live:
            if not IS_MPY:
                for view in live.values():
                    release(view)
            live.clear()

    # -- byte API ----------------------------------------------------------------------

    def alloc(self, nbytes, align=1):
        """A writable memoryview of exactly `nbytes` bytes, in ceil(nbytes / B) blocks.

        `align` (bytes, a power of two) is honoured relative to the heap's start, which
        is itself aligned to at least 8 bytes: up to that the address is aligned too.
        Contents are not zeroed. O(F); allocates the view (one small GC object) and a
        dict entry. AllocError if no run fits (heap unchanged but the failed counter);
        TypeError / ValueError for a non-int, nbytes < 1 or a bad alignment. If the GC
        heap cannot hold the view, MemoryError, with the blocks given back (peak_used
        may keep the attempt).
        """
        i = RANGE
        # Floats, None and strings raise TypeError in the comparisons or the shifts.
        if 0 < nbytes <= self._top and 0 < align < 65536 and not align & (align - 1):
            i = _allocate(
                self._k,
                self._tr,
                self._s1,
                (nbytes + self._bmask) >> self._shift,
                (align + self._bmask) >> self._shift,
            )
            if i >= 0:
                return self._hand_out(i, nbytes)
        return self._alloc_slow(i, nbytes, align)

    def _alloc_slow(self, code, nbytes, align):
        check_count(nbytes, "nbytes")
        check_align(align)
        if code == RANGE:
            code = _allocate(
                self._k,
                self._tr,
                self._s1,
                min((nbytes + self._bmask) >> self._shift, self._nblocks + 1),
                min((align + self._bmask) >> self._shift, 65536),
            )
            if code >= 0:
                return self._hand_out(code, nbytes)
        if code == CORRUPT:
            _corrupt()
        raise AllocError("no room for %d bytes at alignment %d" % (nbytes, align))

    def _hand_out(self, i, nbytes):
        # Blocks from i on are allocated: make the view and remember it. If the GC heap
        # cannot hold the view or the dict entry, give the blocks back before raising.
        try:
            off = i << self._shift
            view = self._mv[off : off + nbytes]
            self._live[i] = view
            return view
        except MemoryError:
            self._live.pop(i, None)
            _release(self._k, self._tr, self._s1, i, i, (nbytes + self._bmask) >> self._shift)
            raise

    def free(self, view):
        """Free a view returned by this heap's alloc() or realloc(). O(F).

        ValueError (heap unchanged) for anything that is not one of this heap's live
        views: a copy or re-slice, a view already freed, another allocator's view, a
        non-buffer. On CPython the view is released: using it afterwards raises
        ValueError (views made from it, such as slices, are not released).
        """
        i = (view_address(view) - self._base) >> self._shift
        if view is not None and self._live.get(i) is view:  # get() answers None if absent
            r = _release(
                self._k, self._tr, self._s1, i, i, (len(view) + self._bmask) >> self._shift
            )
            if not r:
                del self._live[i]
                release(view)
                return
            self._free_refused(r)
        self._free_refused(0)

    def _index_of(self, view):
        # The block a view starts in; a negative number for anything without an address.
        return (view_address(view) - self._base) >> self._shift

    def _free_refused(self, code):
        if code == CORRUPT:
            _corrupt()
        if code:
            # The view is registered but its blocks are (partly) free: they were freed
            # through the integer API behind the byte API's back.
            raise ValueError("the view's blocks were already freed with deallocate_blocks")
        raise ValueError(
            "not a live view of this heap (double free, a view of another allocator, "
            "a copy/re-slice of the view, or not a view at all)"
        )

    def owns(self, view):
        """True iff `view` is a live view handed out by this heap. O(1)."""
        return view is not None and self._live.get(self._index_of(view)) is view

    def realloc(self, view, nbytes, align=1):
        """Resize a live view to `nbytes`; returns the new view (the old one is dead).

        Stays in place when the block count is unchanged, when shrinking, or when the
        free run behind it has room, provided the current position meets `align` (S7);
        otherwise moves within this heap and copies min(old, new) bytes (S5). The block
        count is ceil(nbytes / B) (S4). O(F). AllocError leaves the old view valid and
        the heap unchanged but the failed counter; ValueError for a view that is not
        live here.
        """
        if not self.owns(view):
            raise ValueError("not a live view of this heap")
        check_count(nbytes, "nbytes")
        check_align(align)
        shift = self._shift
        i = self._index_of(view)
        old = (len(view) + self._bmask) >> shift
        for start, n in self.free_runs():
            if start < i + old and i < start + n:
                raise ValueError("the view's blocks were already freed with deallocate_blocks")
        new = (nbytes + self._bmask) >> shift
        ablocks = min((align + self._bmask) >> shift, 65536)
        # Larger than the heap: no slicing (a size past a small int raises OverflowError
        # on MicroPython); alloc() in move() fails and counts it.
        if nbytes <= self._top and i % ablocks == 0:
            # Try in place. Make the new view first: if the GC heap cannot hold it,
            # nothing has changed yet.
            off = i << shift
            resized = self._mv[off : off + nbytes]
            if new < old:
                r = _release(self._k, self._tr, self._s1, i, i + new, old - new)
            elif new > old:
                r = _grow(self._k, self._tr, self._s1, i, old, new, GROW_PROBE)
                r = 0 if r == new else r
            else:
                r = 0
            if r == 0:
                self._live[i] = resized  # an existing key: the dict does not grow
                release(view)
                return resized
            if r != OOM:
                self._refuse(r, i, old)
        return move(view, self, nbytes, align, self)

    # -- diagnostics -------------------------------------------------------------------

    def free_runs(self):
        """The free runs as a list of (index, length) in address order. O(F)."""
        w = self._w
        tr = self._tr
        s1 = self._s1
        L = self._nblocks
        runs = []
        if not w[tr + T_OOM]:
            cur = w[tr + T_FIRST]
            end = -1
            while True:
                # The kernels' header checks: a corrupt list must not loop or leave L.
                if cur >= L or cur <= end:
                    _corrupt()
                h = cur << s1
                n = w[h + 1]
                if n < 1 or cur + n > L:
                    _corrupt()
                runs.append((cur, n))
                end = cur + n
                cur = w[h]
                if not cur:
                    break
        return runs

    def map(self, width=64):
        """The heap as one line of text: '#' used, '.' free, one character per block.

        With more than `width` blocks, each character stands for a group of
        ceil(L / width) consecutive blocks (the last group may be shorter) and ':' marks
        a group that is partly used. O(L); allocates the string.
        """
        check_count(width, "width")
        L = self._nblocks
        group = (L + width - 1) // width
        free = bytearray(L)
        for i, n in self.free_runs():
            for k in range(i, i + n):
                free[k] = 1
        chars = []
        for g in range(0, L, group):
            nfree = sum(free[g : g + group])
            chars.append("." if nfree == min(group, L - g) else "#" if nfree == 0 else ":")
        return "".join(chars)

    def map_into(self, buf):
        """Write the heap's map into `buf`, one byte per block: ord('#') used, ord('.') free.

        The allocation-free map(width=L), for boards and interrupt handlers: `buf` is a
        writable bytearray or memoryview of at least L items, made once by the caller;
        bytes past the first L are left alone. Returns L, the bytes written. O(L),
        allocates nothing on the GC heap (also with the heap locked). TypeError for
        anything but a bytearray or memoryview, or a read-only one; ValueError if it is
        shorter than L; RuntimeError if the free list is corrupt. The heap is never
        changed, and `buf` not touched when an error is raised before writing; after
        a RuntimeError it may hold part of a map.
        """
        L = self._nblocks
        if not (isinstance(buf, bytearray) or isinstance(buf, memoryview)):
            raise TypeError("map_into needs a bytearray or memoryview")
        if len(buf) < L:
            raise ValueError("map_into needs %d bytes, got %d" % (L, len(buf)))
        buf[0] = buf[0]  # TypeError here, before any change, if buf is read-only
        for k in range(L):
            buf[k] = 35  # '#'
        w = self._w
        if w[self._tr + T_OOM]:
            return L
        s1 = self._s1
        cur = w[self._tr + T_FIRST]
        end = -1
        while True:
            # The kernels' header checks: a corrupt list must not loop or leave L.
            if cur >= L or cur <= end:
                _corrupt()
            n = w[(cur << s1) + 1]
            if n < 1 or cur + n > L:
                _corrupt()
            end = cur + n
            for k in range(cur, end):
                buf[k] = 46  # '.'
            cur = w[cur << s1]
            if not cur:
                return L

    def stats(self):
        """A HeapStats snapshot. O(F); allocates the result."""
        w = self._w
        tr = self._tr
        runs = self.free_runs()
        largest = 0
        for _, n in runs:
            if n > largest:
                largest = n
        return HeapStats(
            self._nblocks,
            self._block,
            w[tr + T_USED],
            len(runs),
            largest,
            w[tr + T_PEAK],
            w[tr + T_FAILED] | (w[tr + T_FAILED + 1] << 16),
            len(self._mem),
            len(self._live),
        )

    def check(self):
        """Recompute every invariant; raise RuntimeError naming the first that fails.

        Checks the trailer, that runs are in bounds, non-empty, sorted and coalesced
        (never touching), that the list ends, that free + used == L and peak >= used,
        and that live views sit where they claim, do not overlap and are not free.
        O(F + live views). Cheap enough to call after every operation in tests.
        """
        w = self._w
        tr = self._tr
        L = self._nblocks
        oom = w[tr + T_OOM]
        used = w[tr + T_USED]
        peak = w[tr + T_PEAK]
        if oom not in (0, 0xFFFF):
            raise RuntimeError("heap check: OOM marker is 0x%04x" % oom)
        if used > L or peak < used or peak > L:
            raise RuntimeError("heap check: used=%d peak=%d for %d blocks" % (used, peak, L))
        runs = []
        free = 0
        if oom:
            if w[tr + T_FIRST]:
                raise RuntimeError("heap check: OOM with a first-run index set")
        else:
            cur = w[tr + T_FIRST]
            end = -1  # where the previous run ends; the next must start after it
            while True:
                if cur >= L:
                    raise RuntimeError("heap check: run index %d out of range" % cur)
                if cur <= end:
                    raise RuntimeError(
                        "heap check: run %d does not start after the previous run's end "
                        "%d (unsorted, overlapping or not coalesced)" % (cur, end)
                    )
                h = cur << self._s1
                n = w[h + 1]
                if n < 1 or cur + n > L:
                    raise RuntimeError("heap check: run %d has length %d" % (cur, n))
                runs.append((cur, n))
                free += n
                end = cur + n
                cur = w[h]
                if not cur:
                    break
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
        r = 0
        for k in range(len(spans)):
            lo, hi = spans[k]
            if k and lo < spans[k - 1][1]:
                raise RuntimeError("heap check: live views overlap at block %d" % lo)
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

    # -- argument errors -----------------------------------------------------------------

    def _check_range(self, index, size):
        # TypeError / ValueError unless blocks [index, index + size) lie in the heap.
        if not is_int(index):
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
        # Past the heap's end cannot fit anyway; keep kernel arguments in range.
        return min(new_size, self._nblocks + 1)

    def _refuse(self, code, index, size):
        # Raise the error a refused (index, size) call deserves; `code` from a kernel.
        self._check_range(index, size)
        if code == CORRUPT:
            _corrupt()
        if code == FREED:
            raise ValueError(
                "blocks %d..%d overlap free blocks (double free, or never allocated)"
                % (index, index + size)
            )
        raise ValueError("bad block range %d..%d" % (index, index + size))


if ACCELERATED:
    # Native twins of the hot methods: same behaviour, no bytecode dispatch and no frame
    # on the GC heap (_viper.py).
    Stalloc.allocate_blocks = _kernels.allocate_blocks
    Stalloc.deallocate_blocks = _kernels.deallocate_blocks
    Stalloc.alloc = _kernels.alloc
    Stalloc.free = _kernels.free
    Stalloc.owns = _kernels.owns


class UnsafeStalloc(Stalloc):
    """Stalloc under the crate's name for a heap shared without a lock.

    The crate needed a separate type to mark a heap shareable; in Python nothing stops
    sharing, so the name is the warning. Use it only where one thread (and no interrupt)
    touches the heap at a time. Concurrent calls corrupt the free list (check() tells).
    """


# -- locked calls for SyncStalloc ------------------------------------------------------
# One helper per arity instead of *args, which would allocate a tuple per call. On
# MicroPython they are replaced by native twins: a bytecode function with `try` gets its
# frame from the GC heap on every call.


def _locked0(sync, fn):
    sync._acquire()
    try:
        return fn(sync._heap)
    finally:
        sync._release()


def _locked1(sync, fn, a):
    sync._acquire()
    try:
        return fn(sync._heap, a)
    finally:
        sync._release()


def _locked2(sync, fn, a, b):
    sync._acquire()
    try:
        return fn(sync._heap, a, b)
    finally:
        sync._release()


def _locked3(sync, fn, a, b, c):
    sync._acquire()
    try:
        return fn(sync._heap, a, b, c)
    finally:
        sync._release()


if ACCELERATED:
    _locked0 = _kernels.locked0
    _locked1 = _kernels.locked1
    _locked2 = _kernels.locked2
    _locked3 = _kernels.locked3


def _reentered():
    raise RuntimeError(
        "this thread already holds the heap's lock (inside acquire_locked(), or re-entered "
        "from a signal handler or scheduled callback): use the heap acquire_locked() returned"
    )


class _Locked:
    # Context manager returned by SyncStalloc.acquire_locked().
    def __init__(self, sync):
        self._sync = sync

    def __enter__(self):
        self._sync._acquire()
        return self._sync._heap

    def __exit__(self, exc_type, exc, tb):
        # Runs on exceptions too: the lock is never left held (stalloc's S6).
        self._sync._release()


class _Guarded(Allocator):
    # Base of SyncStalloc (and ports/micropython's IrqStalloc): a Stalloc in self._heap
    # whose every call runs through the guard helpers the subclass names, _guard0 to
    # _guard3 (one per arity: *args would allocate a tuple per call).

    @property
    def blocks(self):
        return self._heap.blocks

    @property
    def block_size(self):
        return self._heap.block_size

    @property
    def footprint(self):
        return self._heap.footprint

    @property
    def memory(self):
        # Never changes: reading it needs no guard. Item access allocates nothing.
        return self._heap.memory

    def allocate_blocks(self, size, align=1):
        return self._guard2(self, Stalloc.allocate_blocks, size, align)

    def deallocate_blocks(self, index, size):
        return self._guard2(self, Stalloc.deallocate_blocks, index, size)

    def shrink_in_place(self, index, old_size, new_size):
        return self._guard3(self, Stalloc.shrink_in_place, index, old_size, new_size)

    def grow_in_place(self, index, old_size, new_size):
        return self._guard3(self, Stalloc.grow_in_place, index, old_size, new_size)

    def grow_up_to(self, index, old_size, new_size):
        return self._guard3(self, Stalloc.grow_up_to, index, old_size, new_size)

    def is_oom(self):
        return self._guard0(self, Stalloc.is_oom)

    def is_empty(self):
        return self._guard0(self, Stalloc.is_empty)

    def clear(self):
        return self._guard0(self, Stalloc.clear)

    def alloc(self, nbytes, align=1):
        return self._guard2(self, Stalloc.alloc, nbytes, align)

    def free(self, view):
        return self._guard1(self, Stalloc.free, view)

    def realloc(self, view, nbytes, align=1):
        return self._guard3(self, Stalloc.realloc, view, nbytes, align)

    def owns(self, view):
        return self._guard1(self, Stalloc.owns, view)

    def free_runs(self):
        return self._guard0(self, Stalloc.free_runs)

    def map(self, width=64):
        return self._guard1(self, Stalloc.map, width)

    def map_into(self, buf):
        return self._guard1(self, Stalloc.map_into, buf)

    def stats(self):
        return self._guard0(self, Stalloc.stats)

    def check(self):
        return self._guard0(self, Stalloc.check)

    def __str__(self):
        return self._guard0(self, Stalloc.__str__)


class SyncStalloc(_Guarded):
    """A Stalloc behind a lock, safe to share between threads.

    Every call takes the lock (CPython `threading`, MicroPython `_thread`) and releases
    it also when the call raises. To batch calls under one acquisition use
    `with heap.acquire_locked() as h:` and call h; calling this object's own methods
    inside that block raises RuntimeError instead of deadlocking. Not for interrupt
    handlers: a lock cannot be waited for there.
    """

    _guard0 = staticmethod(_locked0)
    _guard1 = staticmethod(_locked1)
    _guard2 = staticmethod(_locked2)
    _guard3 = staticmethod(_locked3)

    def __init__(self, L, B):
        self._heap = UnsafeStalloc(L, B)
        self._lock = new_lock()
        self._holder = None  # thread inside acquire_locked(), if any

    def _acquire(self):
        # Take the lock, or raise if this thread holds it already: waiting would never
        # end (a call inside acquire_locked(), or a signal handler or scheduled callback
        # that interrupted a call on this heap).
        lock = self._lock
        if LOCK_KNOWS_OWNER:
            if lock._is_owned():
                _reentered()
            lock.acquire()
        else:
            me = get_ident()
            if not lock.acquire(0):
                if self._holder == me:
                    _reentered()
                lock.acquire()
            self._holder = me

    def _release(self):
        self._holder = None
        self._lock.release()

    def acquire_locked(self):
        """`with heap.acquire_locked() as h:` holds the lock for the whole block.

        h is the underlying UnsafeStalloc; it must not be used after the block.
        """
        return _Locked(self)

    def __repr__(self):
        return "<SyncStalloc %d x %d B>" % (self._heap.blocks, self._heap.block_size)
