"""The block heap: L blocks of B bytes in one bytearray, first fit, free list in-band.

A Python port of the Rust crate stalloc, with its defects S1-S8 fixed. Layout of the
backing bytearray, L * B + 12 bytes, fixed at construction (u16 fields in the machine's
byte order, as in the crate):

    offset        what
    0             L blocks of B bytes; block i starts at i * B. Allocated blocks carry
                  no header. The first block of each maximal free run holds
                  u16 next (index of the next run, 0 = end), u16 length (blocks)
    L * B + 0     u16 first   index of the first run (0 while OOM)
          + 2     u16 oom     0xFFFF when no block is free, else 0
          + 4     u16 used    blocks allocated
          + 6     u16 peak    highest `used` ever
          + 8     u32 failed  failed requests, two u16 halves, low first, saturating

Runs are sorted by index and fully coalesced (no two touch), so index 0 can only be the
first run and `next == 0` can mean "end". The data region starts on a multiple of B in
memory (the bytearray holds B - 16 bytes more for the shift when B > 16), so block k * n is
k * n * B aligned; the byte API aligns addresses to any `align` (the first fit counts the
region's block index in memory).

Two APIs over the same blocks: the integer API (allocate_blocks and friends) works in
block indexes, keeps nothing outside the bytearray and allocates nothing on the
MicroPython GC heap, so it runs with the heap locked (hard interrupt handlers); the byte
API (alloc, free, realloc, scoped) hands out memoryviews: on MicroPython from a fixed pool
of view objects tracked in a small table (_repoint.py), else fresh ones kept in a dict
(one entry per live view, bounded by L). Costs, with F the number of free runs
(F <= (L + 1) // 2) and V the pooled views: allocating, freeing, shrinking and growing
walk the free list, O(F) (the byte API's also scan the pool, O(V)); is_oom and is_empty
are O(1), clear O(V) plus the fresh views. What most programs never need loads on first
use: the diagnostics (check, stats, str, map, ...: diag.py) and the slow paths (arguments
the fast paths do not take, and refusals other than "no room": _slow.py).

Native twins: on MicroPython with the native emitter, heap_native.py replaces the kernel
methods (_k_alloc, _k_resize) and the hot methods named in the table at the end of this
file.
"""

from array import array

from ._base import (
    IS_MPY,
    REACH,
    Allocator,
    AllocError,
    addressof,
    at,
    const,
    load,
    release,
    u16_view,
    view_address,
)

_OOM = const(-1)  # kernel results: no fit (allocate) or no room behind (exact grow)
_FREED = const(-2)  # the range overlaps a free run: double free, or never allocated
_RANGE = const(-3)  # an argument is out of range (the caller finds out which)
_CORRUPT = const(-4)  # a run header breaks the invariants (a stale view wrote into it)
_UP_TO = const(0)  # kernel modes for growing: take what is free behind
_EXACT = const(1)  # all or nothing; a miss counts as a failed request
_SHRINK = const(-1)  # ... and this file's own, for shrinking and freeing
_FREE = const(-2)
_NOT_LIVE = const(-5)  # free() of something that is not a live view
# Where every runtime puts a bytearray's bytes: on a multiple of 16 (MicroPython's GC
# blocks, a 64-bit C malloc), 8 on a 32-bit CPython.
_GRAIN = 16 if IS_MPY or __import__("sys").maxsize > 1 << 32 else 8
_SLOTS = const(4)  # the view table (_repoint.py): a slot per pooled view from here, ...
_SLOT = const(3)  # ... this many u32 items each, the first one its block + 1 (0: free)
_TRAILER = const(12)  # trailer bytes; its u16 fields from tr:
_T_FIRST = const(0)
_T_OOM = const(1)

_native = load("heap_native", True)
_int = int  # `type(x) is _int` on the fast paths: a bool or float takes the slow one
ACCELERATED = _native is not None  # the native twins are in use


def _fail(w, tr):
    # Count a failed request (saturating): the new halves are made before either is
    # written (on CPython making an int can fail).
    t4 = tr + 4
    t5 = tr + 5
    lo = w[t4] + 1
    hi = w[t5]
    if lo > 0xFFFF:
        if hi == 0xFFFF:
            return
        lo = 0
        hi += 1
    w[t4] = lo
    w[t5] = hi


def table(h, n):
    # The view table with n empty slots (_repoint.pool draws it): the pool's, and the
    # geometry the native alloc() and free() read from it.
    vt = array("I", bytes(4 * (_SLOTS + n * _SLOT)))
    vt[0] = n
    vt[1] = h._shift | h._s1 << 8 | ((h._base >> h._shift) & 0x3FFF) << 16  # (a small int)
    vt[2] = h._tr
    return vt


class Stalloc(Allocator):
    """A fixed heap of `blocks` blocks of `block_size` bytes: first fit, free list stored in
    the free blocks themselves.

    Stalloc(blocks, block_size, views=4, strict=False), positional or by keyword (the Rust
    crate's L and B). 1 <= blocks <= 65535; block_size a power of two, 4 <= block_size <=
    2**29 (as in the crate); on a 32-bit MicroPython blocks * block_size < 16 MiB (its views
    reach no further into a buffer). The whole heap is one bytearray of blocks * block_size
    + 12 bytes (+ block_size - 16 when block_size > 16: the data region starts on a multiple
    of block_size in memory, so block k * n is aligned to k * n * block_size), allocated
    here and never resized. Not thread-safe: see SyncStalloc. TypeError / ValueError naming
    the bad argument, MemoryError if the runtime cannot provide the bytearray.

    views (MicroPython): the byte API's views come from a pool of this many memoryviews,
    made here and pointed at new bytes by alloc() and free(), so that alloc() and free()
    allocate nothing on the GC heap. A freed view is emptied (a stale reference reads
    nothing, writes raise IndexError) until alloc() hands the same object out again. With
    the pool empty, alloc() makes a fresh view (counted in stats()), or with strict=True
    raises AllocError. Where views cannot be repointed (CPython, a port whose memoryview
    layout the library does not recognise) every view is fresh.

    Read-only attributes: `blocks`, `block_size`, `footprint` (bytes of the backing
    bytearray, fixed; the Python objects around it, its 4 pooled views included, keep ~560
    more on a 32-bit MicroPython, ~1000 on 64-bit), `memory` (the data region as one
    writable memoryview of blocks * block_size bytes, made once: block i is
    memory[i * block_size : (i + 1) * block_size]; with the integer API this is how data is
    read and written without a view per allocation, also in interrupt handlers; writing
    into free blocks corrupts the free list).

    Methods: the integer API (allocate_blocks, deallocate_blocks, shrink_in_place,
    grow_in_place, grow_up_to), the byte API (alloc, free, realloc, owns, scoped),
    is_oom, is_empty, clear, chain, and the diagnostics (check, stats, stats_into,
    free_runs, map, map_into; str() is the crate's Debug text). On MicroPython realloc,
    scoped, chain and the diagnostics load on first use (each costs RAM for its code only
    once a program calls it): until then dir(Stalloc) does not list them, while dir() of a
    heap lists them all (loading them).
    """

    def __init__(self, blocks, block_size, views=4, strict=False):
        # (The crate's L and B: named as the attributes, so that keywords match them.)
        L = blocks
        B = block_size
        if not (
            type(L) is _int
            and type(B) is _int
            and type(views) is _int
            and 0 < L < 65536
            and 3 < B <= 1 << 29
            and not B & (B - 1)
            and 0 <= views < 65536
            and L * B < REACH
        ):
            L, B, views = load("_slow").geometry(L, B, views)  # raises, or takes bools
        shift = 2
        while 1 << shift < B:
            shift += 1
        top = L << shift  # bytes of the data region = offset of the trailer
        # The region starts on a multiple of B in memory (as the crate's buffer), so that an
        # alignment in blocks is one in addresses: B - _GRAIN bytes more hold the shift.
        pad = B - _GRAIN if B > _GRAIN else 0
        raw = bytearray(top + _TRAILER + pad)
        org = pad and -addressof(raw) & (B - 1)
        self._mem = mem = at(raw, org, top + _TRAILER)  # (MicroPython: may not hold raw)
        self.memory = memoryview(raw)[org : org + top]  # fresh views are slices of it
        self.blocks = L
        self.block_size = B
        self.footprint = top + _TRAILER + pad
        self._w = u16_view(mem)  # the trailer and run headers as u16 items
        self._tr = top >> 1  # the trailer's u16 index
        self._s1 = shift - 1  # block i's header is at u16 index i << s1
        self._shift = shift
        self._base = addressof(mem)
        self._live = {}  # byte API: first block -> a fresh view handed out there
        self._vs = None  # the pooled views (None: every view is fresh)
        self._vt = None  # their table, also the native alloc()'s geometry (MicroPython)
        self._strict = strict
        self._missed = 0  # alloc() found the pool empty
        if IS_MPY:
            if views:
                load("_repoint").pool(self, views, top)  # where views can be repointed
            if self._vt is None:
                self._vt = table(self, 0)
        self.clear()

    # -- the kernels: the free list, in place ---------------------------------------------
    # Each checks its arguments and what it can see of the heap, changes nothing when it
    # refuses, and returns a negative code instead of raising (viper cannot build a
    # message without allocating); the methods above and below turn codes into
    # exceptions. Nothing here allocates, so the integer API runs with the heap locked.
    # w is the memory as u16 items, tr the trailer's u16 index, s1 = log2(B) - 1: the
    # run at block i has its header at w[i << s1] (next) and w[(i << s1) + 1] (length).
    #
    # Headers live in free blocks, where a view kept after free() can still write. So
    # every header a walk reads is checked before it is used: the run lies inside the
    # heap, is not empty, and the next run starts after its end (sorted, coalesced).
    # That keeps every index in 0..L (no write outside the heap, even in viper) and
    # makes every walk end; a header that fails gives _CORRUPT, with nothing changed.
    #
    # Each kernel walks first and writes last, every value it writes made before the
    # first write: on CPython an int past 256 is a new object, and a MemoryError between
    # two writes would leave the list half linked. So a kernel changes all or nothing.

    def _k_alloc(self, size, align, nbytes=0):
        # First fit: the lowest index that is a multiple of `align` with `size` free blocks.
        # Returns the index, _OOM (counted as failed), or _RANGE if size < 1 or align is not
        # a power of two. nbytes > 0 (the byte API): the index whose address is a multiple
        # of align * B, and before any write the view of nbytes there is made
        # (_hand_out), and returned instead of the index; a MemoryError (or strict mode's
        # AllocError) there leaves the heap as it was.
        # Twin: heap_native.allocate.
        w = self._w
        tr = self._tr
        s1 = self._s1
        if size < 1 or align < 1 or align & (align - 1):
            return _RANGE
        if w[tr + 1]:
            _fail(w, tr)
            return _OOM
        L = tr >> s1
        prev = -1
        cur = w[tr]
        if cur >= L:
            return _CORRUPT
        mask = align - 1
        bias = 0  # the byte API aligns addresses: the index of the region's start, mod align
        if nbytes:
            vt = self._vt
            bias = (vt[1] >> 16 if vt is not None else self._base >> self._shift) & mask
        while True:
            h = cur << s1
            nxt = w[h]
            end = cur + w[h + 1]
            if end > L or end <= cur or (nxt and (nxt <= end or nxt >= L)):
                return _CORRUPT
            start = ((cur + bias + mask) & ~mask) - bias
            if start + size <= end:
                break
            if not nxt:
                _fail(w, tr)
                return _OOM
            prev = cur
            cur = nxt
        # Everything written below is made first (see above), then the view.
        back = start + size
        link = nxt  # what the run in front (or the base) links to from now on
        if back < end:
            # Blocks left behind the allocation become a run of their own.
            b = back << s1
            b1 = b + 1
            rest = end - back
            link = back
        h1 = h + 1
        front = start - cur
        p = prev << s1
        t1 = tr + 1
        t2 = tr + 2
        t3 = tr + 3
        u = w[t2] + size
        peak = w[t3]
        if u > peak:
            peak = u
        if nbytes:
            view = self._hand_out(start, nbytes)
        if back < end:
            w[b] = nxt
            w[b1] = rest
        if front:
            # Blocks skipped in front for alignment stay a run, still linked from
            # prev. (stalloc S2 unlinked them here and left a stale header.)
            w[h] = link
            w[h1] = front
        elif prev >= 0:
            w[p] = link
        elif link:
            w[tr] = link
        else:
            # The base points at nothing only when no run is left at all.
            # (stalloc S1 set this whenever the *last* run was consumed.)
            w[tr] = 0
            w[t1] = 0xFFFF
        w[t2] = u
        w[t3] = peak
        return view if nbytes else start

    def _k_resize(self, idx, old, new, mode):
        # Resize the allocated range [idx, idx + old) to `new` blocks without moving it.
        # new < old gives the tail back (new == 0: all of it, a free), merged with the free
        # runs around it; new > old takes the blocks from the free run right behind: all of
        # them or none (mode _EXACT: a miss counts as failed; _PROBE: not counted), or as
        # many as there are (_UP_TO). Returns the size reached, _OOM, _FREED if
        # [idx, idx + old) overlaps a free run (a double free, or blocks never allocated), or
        # _RANGE. Twin: heap_native.resize.
        w = self._w
        tr = self._tr
        s1 = self._s1
        L = tr >> s1
        if idx < 0 or old < 1 or new < 0 or new == old or idx + old > L:
            return _RANGE
        # One walk for both directions: prev is the last run before idx (ending at pend),
        # cur the first run at or after idx (followed by cnext). Inline on purpose: a helper
        # returning four values would allocate a tuple, and kernels must not allocate.
        prev = -1
        pend = 0
        cur = -1
        cnext = 0
        if not w[tr + 1]:
            cur = w[tr]
            if cur >= L:
                return _CORRUPT
            while True:
                h = cur << s1
                cnext = w[h]
                end = cur + w[h + 1]
                if end > L or end <= cur or (cnext and (cnext <= end or cnext >= L)):
                    return _CORRUPT
                if cur >= idx:
                    break
                prev = cur
                pend = end
                if not cnext:
                    cur = -1
                    break
                cur = cnext
        top = idx + old
        if (prev >= 0 and pend > idx) or (cur >= 0 and cur < top):
            return _FREED
        t1 = tr + 1
        t2 = tr + 2
        p = prev << s1
        if new < old:
            lo = idx + new  # the tail [lo, top) becomes free
            size = old - new
            u = w[t2] - size
            nxt = cur
            if cur == top:
                # Absorb the run that starts right behind.
                size += w[(cur << s1) + 1]
                nxt = cnext
            elif cur < 0:
                nxt = 0
            if prev >= 0 and pend == lo:
                # Extend the run right in front (only a free can touch it), up to nxt.
                p1 = p + 1
                n = pend - prev + size
                w[t2] = u
                w[p] = nxt
                w[p1] = n
                return 0
            h = lo << s1
            h1 = h + 1
            w[t2] = u
            w[h] = nxt
            w[h1] = size
            if prev >= 0:
                w[p] = lo
            else:
                w[tr] = lo
                w[t1] = 0
            return new
        avail = 0
        if cur == top:
            avail = w[(cur << s1) + 1]
        take = new - old
        if take > avail:
            if mode:
                if mode == _EXACT:
                    _fail(w, tr)
                return _OOM
            take = avail
        if take <= 0:
            return old
        nxt = cnext
        back = cur + take
        if take < avail:
            # The rest of the run behind stays a run, further back.
            b = back << s1
            b1 = b + 1
            rest = avail - take
            nxt = back
        t3 = tr + 3
        u = w[t2] + take
        peak = w[t3]
        if u > peak:
            peak = u
        reached = old + take
        if take < avail:
            w[b] = cnext
            w[b1] = rest
        if prev >= 0:
            w[p] = nxt
        elif nxt:
            w[tr] = nxt
        else:
            w[tr] = 0
            w[t1] = 0xFFFF
        w[t2] = u
        w[t3] = peak
        return reached

    def allocate_blocks(self, size, align=1):
        """Allocate `size` blocks; return the index of the first.

        First fit: the lowest index that is a multiple of `align` (blocks, a power of
        two: the block's address is then a multiple of align * block_size) where `size`
        consecutive blocks are free. O(F), F the free runs; allocates nothing, also with
        the heap locked. AllocError if there is no such run (heap unchanged but the
        failed counter); TypeError / ValueError for a non-int, size < 1 or a bad
        alignment.
        """
        # Twin: heap_native.allocate_blocks.
        code = 0
        if type(size) is _int and type(align) is _int and not (size | align) >> 16:
            code = self._k_alloc(size, align)
            if code >= 0:
                return code
        return self._refused(size, align, code, 0)

    def deallocate_blocks(self, index, size):
        """Free `size` blocks at `index`, merged with the free runs around.

        O(F); allocates nothing. ValueError (heap unchanged) if the range leaves the heap
        or overlaps a free run (a double free, or blocks never allocated); TypeError for
        a non-int. Like the Rust crate, the heap keeps no sizes: freeing another size than
        allocated is caught only where it reaches free blocks.
        """
        # Twin: heap_native.deallocate_blocks.
        self._resize(index, size, 0, _FREE)

    def shrink_in_place(self, index, old_size, new_size):
        """Keep `new_size` of an allocation's `old_size` blocks; 0 < new_size < old_size.

        The tail goes back to the free list; the index stays. O(F); allocates nothing;
        never fails for a valid allocation. ValueError (heap unchanged) for bad sizes or
        a range that overlaps free blocks; TypeError for a non-int.
        """
        self._resize(index, old_size, new_size, _SHRINK)

    def grow_in_place(self, index, old_size, new_size):
        """Extend an allocation to `new_size` blocks without moving it, or fail.

        Only if the free run right behind holds the new_size - old_size blocks. O(F);
        allocates nothing. AllocError (heap unchanged but the failed counter) if not;
        ValueError for new_size <= old_size or a range not in use; TypeError for a
        non-int.
        """
        self._resize(index, old_size, new_size, _EXACT)

    def grow_up_to(self, index, old_size, new_size):
        """Extend an allocation in place by what is free behind it, up to `new_size`.

        Returns the size reached, old_size..new_size (old_size when nothing is free
        right behind: never AllocError). O(F); allocates nothing. ValueError for
        new_size <= old_size or a range not in use; TypeError for a non-int.
        """
        return self._resize(index, old_size, new_size, _UP_TO)

    def _resize(self, index, old, new, mode):
        # deallocate (mode _FREE, new 0), shrink (_SHRINK) and grow (_EXACT, _UP_TO): the
        # fast path for small ints that ask for the right direction, else the slow path.
        if (
            type(index) is _int
            and type(old) is _int
            and type(new) is _int
            and not (index | old | new) >> 16
            and (new < old if mode < 0 else new > old)
            and (new or mode == _FREE)
        ):
            code = self._k_resize(index, old, new, mode if mode > 0 else 0)
            if code >= 0:
                return code
            if code == _OOM:
                raise AllocError("can't grow %d blocks at %d to %d" % (old, index, new))
        return load("_slow").resize(self, index, old, new, mode)

    def is_oom(self):
        """True iff no block is free. O(1), allocates nothing, never fails.

        When False, allocate_blocks(1) succeeds.
        """
        return self._w[self._tr + _T_OOM] != 0

    def is_empty(self):
        """True iff every block is free, so allocate_blocks(blocks) succeeds.

        O(1), allocates nothing, never fails.
        """
        w = self._w
        tr = self._tr
        return not (w[tr + _T_OOM] or w[tr + _T_FIRST]) and w[1] == self.blocks

    def clear(self):
        """Free everything at once. Never fails; allocates nothing.

        O(1), plus O(pooled views) and O(highest block of a fresh view) to retire the
        byte API's views (emptied on MicroPython, released on CPython: using one raises
        ValueError). Every outstanding index and view becomes invalid; the peak and
        failed counters are kept.
        """
        # One free run over the whole heap; the peak and failed counters are kept.
        w = self._w
        tr = self._tr
        w[0] = 0
        w[1] = self.blocks
        w[tr] = 0
        w[tr + 1] = 0
        w[tr + 2] = 0
        vs = self._vs
        if vs is not None:
            vt = self._vt
            for k in range(len(vs)):
                if vt[_SLOTS + k * _SLOT]:
                    vt[_SLOTS + k * _SLOT] = 0
                    self._retire(vs[k])
        live = self._live
        i = 0
        while live:  # by key, not by an iterator: nothing allocated, the table kept
            view = live.pop(i, None)
            if view is not None:
                self._retire(view)
            i += 1

    # -- byte API: memoryviews -------------------------------------------------------------

    def alloc(self, nbytes, align=1):
        """A writable memoryview of exactly `nbytes` bytes, in ceil(nbytes / block_size) blocks.

        `align` (bytes, a power of two below 65536) is of the address; without it the
        view starts on a block boundary (a multiple of block_size in memory). Not
        zeroed. O(F + views); allocates nothing with a pooled view (MicroPython), else
        the view and a dict entry. AllocError if no run fits (heap unchanged but the
        failed counter), or in strict mode when no pooled view is free; TypeError /
        ValueError for a non-int, nbytes < 1 or a bad alignment; MemoryError if the GC
        heap cannot hold a fresh view (the heap is left as it was).
        """
        # Twin: heap_native.alloc.
        s = self._shift
        code = 0
        if (
            type(nbytes) is _int
            and type(align) is _int
            and nbytes > 0
            and 0 < align < 65536
            and not align & (align - 1)
        ):
            # Past the heap's size: 65536 blocks, which never fit (and count as failed).
            n = (nbytes - 1 >> s) + 1 if nbytes <= self._tr << 1 else 65536
            code = self._k_alloc(n, (align - 1 >> s) + 1, nbytes)
            if type(code) is not _int:
                return code  # the view
        return self._refused(nbytes, align, code, s)

    def _refused(self, n, align, code, s):
        # allocate_blocks() (s = 0: n and align in blocks) or alloc() (s = log2(B): in
        # bytes) refused: AllocError for no room; anything else is the slow path's, as
        # are the refusals of free() (n: the block, code: the kernel's or _NOT_LIVE).
        if code == _OOM:
            raise AllocError("no room for %d %s" % (n, "bytes" if s else "blocks"))
        return load("_slow").allocate(self, n, align, code, s)

    def _hand_out(self, i, nbytes):
        # The view for blocks i.. about to be allocated (the kernel has not written yet): a
        # pooled view repointed at them, or a fresh one (no pool, or it is empty: counted,
        # or refused in strict mode). A MemoryError (or strict mode's AllocError) leaves
        # everything as it was but the counters, and the kernel then writes nothing.
        off = i << self._shift
        j = self._slot(-1)
        if j >= 0:
            view = self._vs[(j - _SLOTS) // _SLOT]
            self._move(view, off, nbytes)
            self._vt[j] = i + 1
            return view
        pool = self._vs is not None
        if pool:
            missed = self._missed + 1
            if self._strict:
                self._missed = missed
                _fail(self._w, self._tr)
                raise AllocError("no pooled view left (views=%d, strict)" % len(self._vs))
        view = self.memory[off : off + nbytes]
        self._live[i] = view  # the last step that can fail (a dict growing)
        if pool:
            self._missed = missed
        return view

    def _slot(self, i):
        # The view table's index of the slot whose view is at block i (i = -1: a free
        # slot), or -1. O(views).
        vt = self._vt
        if self._vs is not None:
            j = _SLOTS
            end = _SLOTS + vt[0] * _SLOT
            while j < end:
                if vt[j] == i + 1:
                    return j
                j += _SLOT
        return -1

    def _block(self, view):
        # The block a view starts at: on MicroPython a live one's found by identity, in the
        # pool or the dict (no address: past 2**30 on a 32-bit port that is an int made
        # per call); L for a free pooled view (never live); else from its address.
        if IS_MPY:
            k = 0
            for v in self._vs or ():
                if v is view:
                    return (self._vt[_SLOTS + k * _SLOT] or self.blocks + 1) - 1
                k += 1
            live = self._live
            for k in live:
                if live[k] is view:
                    return k
        return (view_address(view) - self._base) >> self._shift

    def _retire(self, view):
        # A view freed: released (CPython), or emptied (a stale reference sees nothing).
        if self._vs is None:
            release(view)
        else:
            self._move(view, 0, 0)

    def free(self, view):
        """Free a view returned by this heap's alloc() or realloc(). O(F + views).

        ValueError (heap unchanged) for anything but one of this heap's live views: a
        copy or re-slice, a view already freed, another allocator's view, a non-buffer.
        On CPython the view is released: using it afterwards raises ValueError; finding
        it takes a small object, so out of memory it raises MemoryError, the view still
        live. On MicroPython a freed view is emptied, and nothing is allocated.
        """
        # Twin: heap_native.free (pooled views; the rest it hands to this method).
        s = self._shift
        i = self._block(view)
        j = self._slot(i)
        code = _NOT_LIVE
        if j >= 0 and self._vs[(j - _SLOTS) // _SLOT] is not view:
            j = -1  # a copy of the pooled view there
        if j >= 0 or (view is not None and self._live.get(i) is view):
            code = self._k_resize(i, (len(view) - 1 >> s) + 1, 0, 0)
            if not code:  # freed: nothing below may raise
                if j >= 0:
                    self._vt[j] = 0
                else:
                    del self._live[i]
                try:
                    self._retire(view)
                except MemoryError:  # CPython: no room for the call; the view stays usable
                    pass
                return
        self._refused(i, 0, code, 0)

    def owns(self, view):
        """True iff `view` is a live view handed out by this heap (not a copy or slice).

        O(pooled views); never fails; allocates nothing on MicroPython.
        """
        # Twin: heap_native.owns.
        i = self._block(view)
        j = self._slot(i)
        if j >= 0:
            return self._vs[(j - _SLOTS) // _SLOT] is view
        return view is not None and self._live.get(i) is view

    # -- loaded on first use on MicroPython (CPython loads them with this module, below):
    # realloc() (_slow.py); check(), stats(), stats_into(), free_runs(), map(), map_into()
    # (diag.py). Each module adds its methods to this class when it loads.

    def __getattr__(self, name):
        # Only for names the class lacks (until the module that adds them is loaded).
        if name == "realloc":
            load("_slow")
        elif name in ("check", "stats", "stats_into", "free_runs", "map", "map_into"):
            load("diag")
        else:
            return Allocator.__getattr__(self, name)  # chain(), scoped()
        return getattr(self, name)

    def __str__(self):
        return load("diag").debug_text(self)

    def __repr__(self):
        L = self.blocks
        return "Stalloc(%d, %d, used=%d/%d blocks)" % (
            L,
            self.block_size,
            self._w[self._tr + 2],
            L,
        )


# Native twins: where heap_native loaded (MicroPython with the native emitter), its
# functions replace these methods, name for name. The pure methods stay reachable in
# PURE (then) for the tests that compare the twins byte for byte.
if _native:
    PURE = {}
    for _name in (
        "_k_alloc",
        "_k_resize",
        "allocate_blocks",
        "deallocate_blocks",
        "alloc",
        "free",
        "owns",
    ):
        PURE[_name] = getattr(Stalloc, _name)
        setattr(Stalloc, _name, getattr(_native, _name))
    Stalloc._free = PURE["free"]  # what the native free() does not take itself
    _native.strict = PURE["alloc"]  # ... nor the native alloc(): refusing in strict mode

# CPython has the memory to spare: every method is on the class from the start, so that
# help() and dir() list them all. (diag and _slow import this module, whole by now.)
if not IS_MPY:
    from . import _slow, diag  # noqa: F401

_READY = True  # see _base.load()
