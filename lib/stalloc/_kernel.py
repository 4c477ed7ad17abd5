# Free-list kernels of the block heap, in plain Python: the reference implementation.
#
# `_viper.py` is a line-for-line twin for MicroPython's viper emitter; the tests run
# both on the same operation sequences and compare the backing bytes after every step.
# Layout and invariants are documented in heap.py. Conventions shared by both twins:
#
#   m      the heap's bytearray; u16 fields are little-endian
#   t      byte offset of the trailer (= L * B); L = t >> shift
#   shift  log2(B)
#   A free run at block i keeps its header at byte i << shift: u16 next, u16 length.
#   next == 0 ends the list (block 0 can only ever be the first run).
#
# Each kernel validates what it can see in the heap, changes nothing when it fails,
# and returns a negative code instead of raising (viper cannot build messages without
# allocating). The caller turns codes into exceptions. Nothing here allocates.

from ._compat import const

OOM = const(-1)  # no fit (allocate) or not enough room behind (exact grow)
FREED = const(-2)  # the range overlaps a free run: double free, or never allocated
RANGE = const(-3)  # index or size outside the heap

GROW_UP_TO = const(0)
GROW_EXACT = const(1)
GROW_PROBE = const(2)

# Trailer fields, byte offsets from t.
T_FIRST = const(0)  # u16 index of the first free run; meaningless while OOM
T_OOM = const(2)  # u16 0xFFFF when no block is free, else 0
T_USED = const(4)  # u16 blocks allocated
T_PEAK = const(6)  # u16 highest T_USED ever
T_FAILED = const(8)  # u32 failed requests, saturating
TRAILER = const(12)


def _fail(m, t):
    o = t + T_FAILED
    n = m[o] | (m[o + 1] << 8) | (m[o + 2] << 16) | (m[o + 3] << 24)
    if n != 0xFFFFFFFF:
        n += 1
        m[o] = n & 0xFF
        m[o + 1] = (n >> 8) & 0xFF
        m[o + 2] = (n >> 16) & 0xFF
        m[o + 3] = n >> 24


def _use(m, t, n):
    # T_USED += n, and raise T_PEAK to match.
    u = (m[t + T_USED] | (m[t + T_USED + 1] << 8)) + n
    m[t + T_USED] = u & 0xFF
    m[t + T_USED + 1] = u >> 8
    if u > m[t + T_PEAK] | (m[t + T_PEAK + 1] << 8):
        m[t + T_PEAK] = u & 0xFF
        m[t + T_PEAK + 1] = u >> 8


def _wr(m, o, v):
    m[o] = v & 0xFF
    m[o + 1] = v >> 8


def _link(m, t, shift, prev, target):
    # Make `prev` (a run index, or -1 for the base header) point at `target`, the run
    # that followed a consumed one, where target == 0 means "end of list".
    if prev >= 0:
        _wr(m, prev << shift, target)
    elif target:
        _wr(m, t + T_FIRST, target)
        m[t + T_OOM] = m[t + T_OOM + 1] = 0
    else:
        # The base would point at nothing: no block is free. Fixes stalloc's S1, which
        # set this marker whenever the *last* run was consumed, losing earlier runs.
        m[t + T_FIRST] = m[t + T_FIRST + 1] = 0
        m[t + T_OOM] = m[t + T_OOM + 1] = 0xFF


def allocate(m, t, shift, size, align):
    """First fit: lowest index that is a multiple of `align` with `size` free blocks.

    Returns the index, or OOM. 1 <= size, align a power of two <= 65536.
    """
    if m[t + T_OOM]:
        _fail(m, t)
        return OOM
    prev = -1
    cur = m[t + T_FIRST] | (m[t + T_FIRST + 1] << 8)
    mask = align - 1
    while True:
        h = cur << shift
        nxt = m[h] | (m[h + 1] << 8)
        end = cur + (m[h + 2] | (m[h + 3] << 8))
        start = (cur + mask) & ~mask
        if start + size <= end:
            back = start + size
            if back < end:
                # Blocks left behind the allocation form a new run in curr's place.
                b = back << shift
                _wr(m, b, nxt)
                _wr(m, b + 2, end - back)
                nxt = back
            if start > cur:
                # Blocks skipped in front for alignment stay a run, still linked from
                # prev. Fixes stalloc's S2, which unlinked them here and left a stale
                # header behind (aliasing allocations).
                _wr(m, h, nxt)
                _wr(m, h + 2, start - cur)
            else:
                _link(m, t, shift, prev, nxt)
            _use(m, t, size)
            return start
        if not nxt:
            _fail(m, t)
            return OOM
        prev = cur
        cur = nxt


def _neighbours(m, t, shift, idx):
    # The last free run before `idx` (-1: none) and the first at or after it (-1: none).
    if m[t + T_OOM]:
        return -1, -1
    prev = -1
    cur = m[t + T_FIRST] | (m[t + T_FIRST + 1] << 8)
    while cur < idx:
        prev = cur
        h = cur << shift
        cur = m[h] | (m[h + 1] << 8)
        if not cur:
            return prev, -1
    return prev, cur


def release(m, t, shift, lo, idx, size):
    """Return blocks [idx, idx+size) to the free list; [lo, idx) must be in use too.

    deallocate passes lo == idx; shrink passes the allocation's start, so that a shrink
    of a range that is partly free is rejected like a double free. Coalesces with both
    neighbours. Returns 0, FREED or RANGE.
    """
    if lo < 0 or lo > idx or size < 1 or idx + size > t >> shift:
        return RANGE
    prev, cur = _neighbours(m, t, shift, idx)
    if prev >= 0:
        h = prev << shift
        pend = prev + (m[h + 2] | (m[h + 3] << 8))
        if pend > lo:
            return FREED
    if cur >= 0 and cur < idx + size:
        return FREED
    u = (m[t + T_USED] | (m[t + T_USED + 1] << 8)) - size
    _wr(m, t + T_USED, u)
    end = idx + size
    if cur == end:
        # Absorb the run that starts right behind.
        h = cur << shift
        size += m[h + 2] | (m[h + 3] << 8)
        cur = m[h] | (m[h + 1] << 8)
    elif cur < 0:
        cur = 0
    if prev >= 0 and pend == idx:
        # Extend the run right in front; it now reaches to cur.
        h = prev << shift
        _wr(m, h, cur)
        _wr(m, h + 2, pend - prev + size)
        return 0
    h = idx << shift
    _wr(m, h, cur)
    _wr(m, h + 2, size)
    if prev >= 0:
        _wr(m, prev << shift, idx)
    else:
        # Not _link(): idx may be 0, which is a real run here, not "end of list".
        _wr(m, t + T_FIRST, idx)
        m[t + T_OOM] = m[t + T_OOM + 1] = 0
    return 0


def grow(m, t, shift, idx, old, new, mode):
    """Extend [idx, idx+old) towards idx+new by taking the run right behind it.

    mode GROW_UP_TO: take what is there; returns the size reached (old if nothing).
    mode GROW_EXACT: all or nothing; OOM (counted as a failed request) if it won't fit.
    mode GROW_PROBE: like GROW_EXACT but a miss is not counted (realloc, before moving).
    FREED / RANGE for a range that is not allocated or leaves the heap.
    """
    if idx < 0 or old < 1 or idx + old > t >> shift:
        return RANGE
    prev, cur = _neighbours(m, t, shift, idx)
    if prev >= 0:
        h = prev << shift
        if prev + (m[h + 2] | (m[h + 3] << 8)) > idx:
            return FREED
    if cur >= 0 and cur < idx + old:
        return FREED
    avail = 0
    if cur == idx + old:
        h = cur << shift
        avail = m[h + 2] | (m[h + 3] << 8)
    take = new - old
    if take > avail:
        if mode:
            if mode == GROW_EXACT:
                _fail(m, t)
            return OOM
        take = avail
    if take <= 0:
        return old
    h = cur << shift
    nxt = m[h] | (m[h + 1] << 8)
    if take < avail:
        b = (cur + take) << shift
        _wr(m, b, nxt)
        _wr(m, b + 2, avail - take)
        nxt = cur + take
    _link(m, t, shift, prev, nxt)
    _use(m, t, take)
    return old + take


def reset(m, t, shift):
    """One free run over the whole heap; counters other than T_USED are kept."""
    m[0] = m[1] = 0
    _wr(m, 2, t >> shift)
    m[t + T_FIRST] = m[t + T_FIRST + 1] = 0
    m[t + T_OOM] = m[t + T_OOM + 1] = 0
    m[t + T_USED] = m[t + T_USED + 1] = 0
