# Viper twins of the kernels in _kernel.py, for MicroPython only.
#
# Imported through _compat.heap_kernels(), never on CPython. A port built without the
# native emitter fails to compile this file (SyntaxError) and gets the pure kernels.
# Same arguments, results and byte-level effects as _kernel.py; read that file for
# the algorithms. Differences are mechanical: u16 fields go through ptr16 (the heap
# bytearray is word-aligned and every field sits at an even offset; MicroPython's
# targets are little-endian, which _compat checks), small helpers are inlined because
# a call between viper functions costs a full Python call, and machine-word ints wrap,
# so the callers keep every argument within the heap's range.
#
# u16 indexes: a run at block i has its header at w[i << (shift - 1)] (next) and
# w[(i << (shift - 1)) + 1] (length); the trailer starts at w[t >> 1].

import micropython


@micropython.viper
def _fail(mem, t: int):
    # Failed-requests counter: a u32 kept as two u16 halves, saturating at 2**32 - 1.
    # Cold path, so a call is fine here.
    w = ptr16(mem)
    tr = t >> 1
    lo = int(w[tr + 4]) + 1
    if lo <= 0xFFFF:
        w[tr + 4] = lo
    elif int(w[tr + 5]) != 0xFFFF:
        w[tr + 4] = 0
        w[tr + 5] = int(w[tr + 5]) + 1


@micropython.viper
def allocate(mem, t: int, shift: int, size: int, align: int) -> int:
    w = ptr16(mem)
    s1 = shift - 1
    tr = t >> 1
    if w[tr + 1]:
        _fail(mem, t)
        return -1
    prev = -1
    cur = int(w[tr])
    mask = align - 1
    while True:
        h = cur << s1
        nxt = int(w[h])
        end = cur + int(w[h + 1])
        start = (cur + mask) & ~mask
        if start + size <= end:
            back = start + size
            if back < end:
                b = back << s1
                w[b] = nxt
                w[b + 1] = end - back
                nxt = back
            if start > cur:
                w[h] = nxt
                w[h + 1] = start - cur
            elif prev >= 0:
                w[prev << s1] = nxt
            elif nxt:
                w[tr] = nxt
                w[tr + 1] = 0
            else:
                w[tr] = 0
                w[tr + 1] = 0xFFFF
            u = int(w[tr + 2]) + size
            w[tr + 2] = u
            if u > int(w[tr + 3]):
                w[tr + 3] = u
            return start
        if not nxt:
            _fail(mem, t)
            return -1
        prev = cur
        cur = nxt


@micropython.viper
def release(mem, t: int, shift: int, lo: int, idx: int, size: int) -> int:
    w = ptr16(mem)
    s1 = shift - 1
    tr = t >> 1
    if lo < 0 or lo > idx or size < 1 or idx + size > (t >> shift):
        return -3
    # _neighbours(), inlined
    prev = -1
    cur = -1
    if not w[tr + 1]:
        cur = int(w[tr])
        while cur < idx:
            prev = cur
            cur = int(w[cur << s1])
            if not cur:
                cur = -1
                break
    pend = 0
    if prev >= 0:
        pend = prev + int(w[(prev << s1) + 1])
        if pend > lo:
            return -2
    if cur >= 0 and cur < idx + size:
        return -2
    w[tr + 2] = int(w[tr + 2]) - size
    end = idx + size
    if cur == end:
        h = cur << s1
        size += int(w[h + 1])
        cur = int(w[h])
    elif cur < 0:
        cur = 0
    if prev >= 0 and pend == idx:
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


@micropython.viper
def grow(mem, t: int, shift: int, idx: int, old: int, new: int, mode: int) -> int:
    w = ptr16(mem)
    s1 = shift - 1
    tr = t >> 1
    if idx < 0 or old < 1 or idx + old > (t >> shift):
        return -3
    prev = -1
    cur = -1
    if not w[tr + 1]:
        cur = int(w[tr])
        while cur < idx:
            prev = cur
            cur = int(w[cur << s1])
            if not cur:
                cur = -1
                break
    if prev >= 0:
        if prev + int(w[(prev << s1) + 1]) > idx:
            return -2
    if cur >= 0 and cur < idx + old:
        return -2
    avail = 0
    if cur == idx + old:
        avail = int(w[(cur << s1) + 1])
    take = new - old
    if take > avail:
        if mode:
            if mode == 1:
                _fail(mem, t)
            return -1
        take = avail
    if take <= 0:
        return old
    h = cur << s1
    nxt = int(w[h])
    if take < avail:
        b = (cur + take) << s1
        w[b] = nxt
        w[b + 1] = avail - take
        nxt = cur + take
    if prev >= 0:
        w[prev << s1] = nxt
    elif nxt:
        w[tr] = nxt
        w[tr + 1] = 0
    else:
        w[tr] = 0
        w[tr + 1] = 0xFFFF
    u = int(w[tr + 2]) + take
    w[tr + 2] = u
    if u > int(w[tr + 3]):
        w[tr + 3] = u
    return old + take


@micropython.viper
def reset(mem, t: int, shift: int):
    w = ptr16(mem)
    tr = t >> 1
    w[0] = 0
    w[1] = t >> shift
    w[tr] = 0
    w[tr + 1] = 0
    w[tr + 2] = 0


@micropython.viper
def addressof(buf) -> int:
    # Fallback for ports without uctypes: the buffer protocol gives the address.
    return int(ptr8(buf))
