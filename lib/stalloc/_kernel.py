# Free-list kernels of the block heap, in plain Python: the reference implementation.
#
# `_viper.py` holds line-for-line twins for MicroPython's viper emitter; the tests run
# both on the same operation sequences and compare the backing bytes after every step.
# The layout and its invariants are documented in heap.py. Conventions of both twins:
#
#   w      the heap memory as u16 items (here a u16 view, in _viper the bytearray)
#   tr     u16 index of the trailer (L * B / 2)
#   s1     log2(B) - 1: the run at block i has its header at w[i << s1] (next) and
#          w[(i << s1) + 1] (length); L == tr >> s1
#   next == 0 ends the list (block 0 can only ever be the first run).
#
# Each kernel checks its arguments and what it can see of the heap, changes nothing
# when it refuses, and returns a negative code instead of raising (viper cannot build a
# message without allocating); the caller turns codes into exceptions. Nothing here
# allocates, so the integer API is usable with the MicroPython heap locked.
#
# Headers live in free blocks, where a view kept after free() can still write. So every
# header a walk reads is checked before it is used: the run lies inside the heap, is not
# empty, and the next run starts after its end (the list is sorted and coalesced). That
# keeps every index in 0..L (no write outside the heap, even in viper) and makes every
# walk end; a header that fails gives CORRUPT, with nothing changed.

from ._compat import const

OOM = const(-1)  # no fit (allocate) or no room behind (exact grow)
FREED = const(-2)  # the range overlaps a free run: double free, or never allocated
RANGE = const(-3)  # an argument is out of range (the caller finds out which)
CORRUPT = const(-4)  # a run header breaks the invariants (a stale view wrote into it)

GROW_UP_TO = const(0)  # take what is free behind, return the size reached
GROW_EXACT = const(1)  # all or nothing; a miss counts as a failed request
GROW_PROBE = const(2)  # all or nothing, a miss is not counted (realloc, before moving)

# Trailer fields, u16 offsets from tr.
T_FIRST = const(0)  # index of the first free run; 0 while OOM
T_OOM = const(1)  # 0xFFFF when no block is free, else 0
T_USED = const(2)  # blocks allocated
T_PEAK = const(3)  # highest T_USED ever
T_FAILED = const(4)  # failed requests: u32 as two u16 halves, low first; saturating
TRAILER = const(12)  # trailer size in bytes

TAKES_BYTEARRAY = False  # these kernels want the u16 view, not the bytearray


def _fail(w, tr):
    lo = w[tr + 4] + 1
    if lo <= 0xFFFF:
        w[tr + 4] = lo
    elif w[tr + 5] != 0xFFFF:
        w[tr + 4] = 0
        w[tr + 5] = w[tr + 5] + 1


def allocate(w, tr, s1, size, align):
    """First fit: lowest index that is a multiple of `align` with `size` free blocks.

    Returns the index, OOM (counted as failed), or RANGE if size < 1 or align is not a
    power of two.
    """
    if size < 1 or align < 1 or align & (align - 1):
        return RANGE
    if w[tr + 1]:
        _fail(w, tr)
        return OOM
    L = tr >> s1
    prev = -1
    cur = w[tr]
    if cur >= L:
        return CORRUPT
    mask = align - 1
    while True:
        h = cur << s1
        nxt = w[h]
        end = cur + w[h + 1]
        if end > L or end <= cur or (nxt and (nxt <= end or nxt >= L)):
            return CORRUPT
        start = (cur + mask) & ~mask
        if start + size <= end:
            back = start + size
            if back < end:
                # Blocks left behind the allocation become a run of their own.
                b = back << s1
                w[b] = nxt
                w[b + 1] = end - back
                nxt = back
            if start > cur:
                # Blocks skipped in front for alignment stay a run, still linked from
                # prev. (stalloc S2 unlinked them here and left a stale header.)
                w[h] = nxt
                w[h + 1] = start - cur
            elif prev >= 0:
                w[prev << s1] = nxt
            elif nxt:
                w[tr] = nxt
            else:
                # The base points at nothing only when no run is left at all.
                # (stalloc S1 set this whenever the *last* run was consumed.)
                w[tr] = 0
                w[tr + 1] = 0xFFFF
            u = w[tr + 2] + size
            w[tr + 2] = u
            if u > w[tr + 3]:
                w[tr + 3] = u
            return start
        if not nxt:
            _fail(w, tr)
            return OOM
        prev = cur
        cur = nxt


def release(w, tr, s1, lo, idx, size):
    """Return blocks [idx, idx+size) to the free list; [lo, idx) must be in use too.

    deallocate passes lo == idx; shrink passes the allocation's start, so that a shrink
    of a partly free range is refused like a double free. Coalesces with both
    neighbours. Returns 0, FREED or RANGE.
    """
    L = tr >> s1
    if lo < 0 or lo > idx or size < 1 or idx + size > L:
        return RANGE
    prev = -1  # last run before idx
    pend = 0  # where it ends
    cur = -1  # first run at or after idx
    cnext = 0  # its next
    if not w[tr + 1]:
        cur = w[tr]
        if cur >= L:
            return CORRUPT
        while True:
            h = cur << s1
            cnext = w[h]
            end = cur + w[h + 1]
            if end > L or end <= cur or (cnext and (cnext <= end or cnext >= L)):
                return CORRUPT
            if cur >= idx:
                break
            prev = cur
            pend = end
            if not cnext:
                cur = -1
                break
            cur = cnext
    if prev >= 0 and pend > lo:
        return FREED
    if cur >= 0 and cur < idx + size:
        return FREED
    w[tr + 2] = w[tr + 2] - size
    if cur == idx + size:
        # Absorb the run that starts right behind.
        size += w[(cur << s1) + 1]
        cur = cnext
    elif cur < 0:
        cur = 0
    if prev >= 0 and pend == idx:
        # Extend the run right in front, which now reaches to cur.
        h = prev << s1
        w[h] = cur
        w[h + 1] = pend - prev + size
        return 0
    h = idx << s1
    w[h] = cur
    w[h + 1] = size
    if prev >= 0:
        w[prev << s1] = idx
    else:
        w[tr] = idx
        w[tr + 1] = 0
    return 0


def grow(w, tr, s1, idx, old, new, mode):
    """Extend [idx, idx+old) towards new blocks by taking the run right behind it.

    `mode` is GROW_UP_TO, GROW_EXACT or GROW_PROBE (see their definitions). Returns the
    size reached, OOM, or FREED / RANGE for a range that is not allocated or leaves the
    heap, or new <= old.
    """
    L = tr >> s1
    if idx < 0 or old < 1 or new <= old or idx + old > L:
        return RANGE
    # The same walk as in release(), inline on purpose: a helper returning prev, pend, cur
    # and cnext would allocate a tuple, and these kernels must not allocate (heap_lock).
    prev = -1
    pend = 0
    cur = -1
    cnext = 0
    if not w[tr + 1]:
        cur = w[tr]
        if cur >= L:
            return CORRUPT
        while True:
            h = cur << s1
            cnext = w[h]
            end = cur + w[h + 1]
            if end > L or end <= cur or (cnext and (cnext <= end or cnext >= L)):
                return CORRUPT
            if cur >= idx:
                break
            prev = cur
            pend = end
            if not cnext:
                cur = -1
                break
            cur = cnext
    if prev >= 0 and pend > idx:
        return FREED
    if cur >= 0 and cur < idx + old:
        return FREED
    avail = 0
    if cur == idx + old:
        avail = w[(cur << s1) + 1]
    take = new - old
    if take > avail:
        if mode:
            if mode == GROW_EXACT:
                _fail(w, tr)
            return OOM
        take = avail
    if take <= 0:
        return old
    nxt = cnext
    if take < avail:
        b = (cur + take) << s1
        w[b] = nxt
        w[b + 1] = avail - take
        nxt = cur + take
    if prev >= 0:
        w[prev << s1] = nxt
    elif nxt:
        w[tr] = nxt
    else:
        w[tr] = 0
        w[tr + 1] = 0xFFFF
    u = w[tr + 2] + take
    w[tr + 2] = u
    if u > w[tr + 3]:
        w[tr + 3] = u
    return old + take


def reset(w, tr, s1):
    """One free run over the whole heap; the peak and failed counters are kept."""
    w[0] = 0
    w[1] = tr >> s1
    w[tr] = 0
    w[tr + 1] = 0
    w[tr + 2] = 0
