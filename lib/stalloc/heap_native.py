# Native twins of heap.py: MicroPython with the native emitter only.
#
# heap.py loads this module through _base.native() and installs it from the table at
# its end: each method named there is replaced by the function of the same name here.
# The viper kernels (allocate, resize) are the twins of the kernel methods (_k_alloc,
# _k_resize), taking the bytearray and the view table (the geometry, and the pool that
# allocate() also serves alloc() from);
# the native methods call them directly. Where there is no native emitter the compiler
# rejects this file (SyntaxError) and the pure code runs. The tests run the twins side
# by side and compare heaps byte for byte (tests/test_kernels.py).
#
# Why twins: a MicroPython bytecode call costs ~70 ns and every bytecode ~10-20 ns, and a
# bytecode function whose frame exceeds 11 words (any `try` pushes it over) gets that
# frame from the GC heap on every call. Viper kernels run as machine code on raw u16
# pointers; the native methods keep Python semantics without bytecode dispatch, with
# their frames on the C stack.
#
# Viper differences from heap.py's kernels are mechanical: `w = ptr16(mem)` over the bytearray
# (word-aligned, every field at an even offset), `int()` around pointer reads, and
# machine-word ints that wrap, which is why callers range-check every argument before it
# gets here (viper silently truncates a bigint).

import micropython
from micropython import const

_OOM = const(-1)  # kernel results (as in heap.py)
_FREED = const(-2)
_RANGE = const(-3)
_CORRUPT = const(-4)
_EXACT = const(1)  # grow mode: all or nothing, a miss counted
_FREE = const(-2)  # heap.py's mode for _resize(): a free
_NOT_LIVE = const(-5)  # heap.py's: free() of something that is not a live view
_FRESH = const(-8)  # allocate(): _FRESH - i, no pooled view free (the blocks at i not taken)
_AT = const(-16)  # _give(): _AT - i, a view at block i that is not a pooled one
_FIND = const(-1)  # allocate()'s byte modes in blocks: find only, ...
_TAKE = const(-2)  # ... take what _FIND found
_SLOTS = const(4)  # the view table (_repoint.pool): slots from this u32 item, ...
_SLOT = const(3)  # ... this many items each


@micropython.viper
def _fail(mem, tr: int):
    w = ptr16(mem)
    lo = int(w[tr + 4]) + 1
    if lo <= 0xFFFF:
        w[tr + 4] = lo
    elif int(w[tr + 5]) != 0xFFFF:
        w[tr + 4] = 0
        w[tr + 5] = int(w[tr + 5]) + 1


@micropython.viper
def allocate(mem, vt, size: int, align: int, nbytes: int) -> int:
    # heap.py's _k_alloc, with the geometry from the view table (_repoint.pool). nbytes 0:
    # the integer API. nbytes > 0 is alloc()'s whole fast path: size and align in bytes,
    # and a pooled view repointed at the blocks; it returns the view's slot then, or
    # _FRESH - i when no pooled view is free (nothing taken: the caller makes a fresh
    # view first). _FIND and _TAKE: the byte API's slow paths, size and align in blocks:
    # find only, write nothing (the index, or a refusal counted as failed); take the
    # blocks found so. Every byte mode aligns addresses, not indexes.
    t = ptr32(vt)
    g = int(t[1])
    s1 = (g >> 8) & 0xFF
    if nbytes > 0:
        if align > 0xFFFF or align & (align - 1) or size < 1:
            return _RANGE
        size = ((size - 1) >> (s1 + 1)) + 1
        align = ((align - 1) >> (s1 + 1)) + 1
    if size < 1 or align < 1 or align & (align - 1):
        return _RANGE
    bias = 0  # the byte API (nbytes != 0) aligns addresses: the region's start's index
    if nbytes:
        bias = (g >> 16) & (align - 1)
    tr = int(t[2])
    w = ptr16(mem)
    if w[tr + 1]:
        _fail(mem, tr)
        return _OOM
    L = tr >> s1
    prev = -1
    cur = int(w[tr])
    if cur >= L:
        return _CORRUPT
    mask = align - 1
    while True:
        h = cur << s1
        nxt = int(w[h])
        end = cur + int(w[h + 1])
        if end > L or end <= cur or (nxt and (nxt <= end or nxt >= L)):
            return _CORRUPT
        start = ((cur + bias + mask) & ~mask) - bias
        if start + size <= end:
            break
        if not nxt:
            _fail(mem, tr)
            return _OOM
        prev = cur
        cur = nxt
    if nbytes == _FIND:
        return start
    j = _SLOTS
    if nbytes > 0:
        last = _SLOTS + int(t[0]) * _SLOT
        while j < last and t[j]:
            j += _SLOT
        if j == last:
            return _FRESH - start
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
    else:
        w[tr] = 0
        w[tr + 1] = 0xFFFF
    u = int(w[tr + 2]) + size
    w[tr + 2] = u
    if u > int(w[tr + 3]):
        w[tr + 3] = u
    if nbytes <= 0:
        return start
    t[j] = start + 1
    o = ptr32(int(t[j + 1]) | (int(t[j + 2]) << 32) if t[j + 2] else int(t[j + 1]))
    f = int(t[3])
    o[f & 0xFF] = (o[f & 0xFF] & 0xFF) | ((start << (s1 + 1)) << 8)
    o[f >> 8] = nbytes
    return (j - _SLOTS) // _SLOT


@micropython.viper
def resize(mem, vt, idx: int, old: int, new: int, mode: int) -> int:
    # heap.py's _k_resize, with the geometry from the view table (_repoint.pool).
    t = ptr32(vt)
    s1 = (int(t[1]) >> 8) & 0xFF
    tr = int(t[2])
    L = tr >> s1
    if idx < 0 or old < 1 or new < 0 or new == old or idx + old > L:
        return _RANGE
    w = ptr16(mem)
    prev = -1
    pend = 0
    cur = -1
    cnext = 0
    if not w[tr + 1]:
        cur = int(w[tr])
        if cur >= L:
            return _CORRUPT
        while True:
            h = cur << s1
            cnext = int(w[h])
            end = cur + int(w[h + 1])
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
    if (prev >= 0 and pend > idx) or (cur >= 0 and cur < idx + old):
        return _FREED
    if new < old:
        lo = idx + new
        size = old - new
        w[tr + 2] = int(w[tr + 2]) - size
        if cur == idx + old:
            size += int(w[(cur << s1) + 1])
            cur = cnext
        elif cur < 0:
            cur = 0
        if prev >= 0 and pend == lo:
            h = prev << s1
            w[h] = cur
            w[h + 1] = pend - prev + size
            return 0
        h = lo << s1
        w[h] = cur
        w[h + 1] = size
        if prev >= 0:
            w[prev << s1] = lo
        else:
            w[tr] = lo
            w[tr + 1] = 0
        return new
    avail = 0
    if cur == idx + old:
        avail = int(w[(cur << s1) + 1])
    take = new - old
    if take > avail:
        if mode:
            if mode == _EXACT:
                _fail(mem, tr)
            return _OOM
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
    u = int(w[tr + 2]) + take
    w[tr + 2] = u
    if u > int(w[tr + 3]):
        w[tr + 3] = u
    return old + take


@micropython.native
def _k_alloc(self, size, align, nbytes=0):
    if not nbytes:
        return allocate(self._mem, self._vt, size, align, 0)
    # The byte API's slow paths: find, make the view (nothing taken if that fails), take.
    code = allocate(self._mem, self._vt, size, align, _FIND)
    if code < 0:
        return code
    view = self._hand_out(code, nbytes)
    allocate(self._mem, self._vt, size, align, _TAKE)  # the same blocks: nothing changed
    return view


@micropython.native
def _k_resize(self, idx, old, new, mode):
    return resize(self._mem, self._vt, idx, old, new, mode)


@micropython.native
def allocate_blocks(self, size, align=1):
    code = 0
    try:
        if not (size | align) >> 16:
            code = allocate(self._mem, self._vt, size, align, 0)
            if code >= 0:
                return code
    except TypeError:
        pass
    return self._refused(size, align, code, 0)


@micropython.native
def deallocate_blocks(self, index, size):
    code = _RANGE
    try:
        if not (index | size) >> 16:
            code = resize(self._mem, self._vt, index, size, 0, 0)
            if not code:
                return
    except TypeError:
        pass
    self._resize(index, size, 0, _FREE)  # the pure path: it names the refusal


@micropython.viper
def _give(mem, vt, vs, view, really: int) -> int:
    # free() (really) or owns() on the view table: 0 for a pooled view of this heap, now
    # freed and emptied (really); else a kernel code, _AT - i for another view starting at
    # block i (a fresh one? the caller's dict says: its block found with no int made), or
    # _NOT_LIVE for any other object.
    t = ptr32(vt)
    g = int(t[1])
    s = g & 0xFF
    off = int(ptr8(view)) - int(ptr8(mem))
    i = off >> s
    if off < 0 or off & ((1 << s) - 1):
        return _NOT_LIVE
    j = _SLOTS
    end = _SLOTS + int(t[0]) * _SLOT
    while j < end:
        if int(t[j]) == i + 1:
            break
        j += _SLOT
    if j == end or vs[(j - _SLOTS) // _SLOT] is not view:
        if i < (int(t[2]) >> ((g >> 8) & 0xFF)):
            return _AT - i
        return _NOT_LIVE
    if not really:
        return 0
    o = ptr32(int(t[j + 1]) | (int(t[j + 2]) << 32) if t[j + 2] else int(t[j + 1]))
    f = int(t[3])
    n = int(o[f >> 8])
    code = int(resize(mem, vt, i, ((n - 1) >> s) + 1, 0, 0))
    if code:
        return code
    o[f & 0xFF] = o[f & 0xFF] & 0xFF
    o[f >> 8] = 0
    t[j] = 0
    return 0


@micropython.native
def alloc(self, nbytes, align=1):
    code = _RANGE
    try:
        if not (nbytes | align) >> 24:  # small ints only: viper truncates the rest
            code = allocate(self._mem, self._vt, nbytes, align, nbytes)
            if code >= 0:
                return self._vs[code]
    except TypeError:
        pass
    if code > _FRESH:
        return self._refused(nbytes, align, code, self._shift)  # the slow path
    if self._strict:
        return strict(self, nbytes, align)  # heap.py's alloc() refuses, counting it
    # No pooled view free, nothing taken yet: a fresh view first (a MemoryError leaves the
    # heap as it was), then the same blocks taken by the integer kernel.
    s = self._shift
    code = _FRESH - code
    view = self.memory[code << s : (code << s) + nbytes]
    self._live[code] = view
    allocate(self._mem, self._vt, ((nbytes - 1) >> s) + 1, ((align - 1) >> s) + 1, _TAKE)
    if self._vs is not None:
        self._missed += 1
    return view


strict = None  # heap.py's alloc(), set when heap.py installs these


@micropython.native
def free(self, view):
    try:
        code = _give(self._mem, self._vt, self._vs, view, 1)
        if not code:
            return
        live = self._live
        if code <= _AT and live:  # a fresh view?
            s = self._shift
            i = _AT - code
            if live.get(i) is view:
                if not resize(self._mem, self._vt, i, (len(view) - 1 >> s) + 1, 0, 0):
                    del live[i]
                    if self._vs is not None:  # emptied: a stale reference sees nothing
                        self._move(view, 0, 0)
                    return
    except (TypeError, ValueError):  # not a buffer
        pass
    self._free(view)  # every refusal: heap.py's free() names it


@micropython.native
def owns(self, view):
    live = self._live
    try:
        code = _give(self._mem, self._vt, self._vs, view, 0)
    except (TypeError, ValueError):  # not a buffer
        return False
    if not code:
        return True
    return code <= _AT and live.get(_AT - code) is view


_READY = True  # see _base.load()
