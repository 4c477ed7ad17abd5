# Native twins of heap.py: MicroPython with the native emitter only.
#
# heap.py loads this module through _base.native() and installs it from the table at
# its end: each method named there is replaced by the function of the same name here.
# The viper kernels (allocate, resize) are the twins of the kernel methods (_k_alloc,
# _k_resize), taking the bytearray and the geometry as arguments;
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

from ._base import addressof

_OOM = const(-1)  # kernel results (as in heap.py)
_FREED = const(-2)
_RANGE = const(-3)
_CORRUPT = const(-4)
_EXACT = const(1)  # grow mode: all or nothing, a miss counted
_FREE = const(-2)  # heap.py's mode for _resize(): a free
_NOT_LIVE = const(-5)  # heap.py's: free() of something that is not a live view


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
def allocate(mem, tr: int, s1: int, size: int, align: int) -> int:
    if size < 1 or align < 1 or align & (align - 1):
        return _RANGE
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
            else:
                w[tr] = 0
                w[tr + 1] = 0xFFFF
            u = int(w[tr + 2]) + size
            w[tr + 2] = u
            if u > int(w[tr + 3]):
                w[tr + 3] = u
            return start
        if not nxt:
            _fail(mem, tr)
            return _OOM
        prev = cur
        cur = nxt


@micropython.viper
def resize(mem, tr: int, s1: int, idx: int, old: int, new: int, mode: int) -> int:
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
def _k_alloc(self, size, align):
    return allocate(self._mem, self._tr, self._s1, size, align)


@micropython.native
def _k_resize(self, idx, old, new, mode):
    return resize(self._mem, self._tr, self._s1, idx, old, new, mode)


@micropython.native
def allocate_blocks(self, size, align=1):
    code = 0
    try:
        if not (size | align) >> 16:
            code = allocate(self._mem, self._tr, self._s1, size, align)
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
            code = resize(self._mem, self._tr, self._s1, index, size, 0, 0)
            if not code:
                return
    except TypeError:
        pass
    self._resize(index, size, 0, _FREE)  # the pure path: it names the refusal


@micropython.native
def alloc(self, nbytes, align=1):
    s = self._shift
    code = 0
    try:
        if 0 < nbytes <= self._tr << 1 and 0 < align < 65536 and not align & (align - 1):
            code = allocate(
                self._mem, self._tr, self._s1, (nbytes - 1 >> s) + 1, (align - 1 >> s) + 1
            )
            if code >= 0:
                pool = self._pool
                if not pool:
                    return self._hand_out(code, nbytes)
                view = pool.pop()  # _hand_out() inline: the byte API's hot path
                self._move(view, code << s, nbytes)
                self._live[code] = view
                return view
    except TypeError:
        pass
    except MemoryError as e:  # no room on the GC heap for the view: its blocks go back
        resize(self._mem, self._tr, self._s1, code, (nbytes - 1 >> s) + 1, 0, 0)
        raise e
    return self._refused(nbytes, align, code, s)


@micropython.native
def free(self, view):
    try:
        i = (addressof(view) - self._base) >> self._shift
    except (TypeError, ValueError):  # not a buffer
        i = -1
    live = self._live
    code = 0
    if view is not None and live.get(i) is view:
        code = resize(self._mem, self._tr, self._s1, i, (len(view) - 1 >> self._shift) + 1, 0, 0)
        if not code:
            del live[i]
            pool = self._pool
            if pool is not None:
                self._move(view, 0, 0)
                if len(pool) < self._views:
                    pool.append(view)
            return
    self._refused(i, 0, code or _NOT_LIVE, 0)


@micropython.native
def _hand_out(self, i, nbytes):
    off = i << self._shift
    pool = self._pool
    if pool:
        view = pool.pop()
        self._move(view, off, nbytes)
    else:
        view = self._fresh(off, nbytes)
    self._live[i] = view
    return view


@micropython.native
def _retire(self, view):
    pool = self._pool
    if pool is not None:
        self._move(view, 0, 0)
        if len(pool) < self._views:
            pool.append(view)


@micropython.native
def owns(self, view):
    try:
        i = (addressof(view) - self._base) >> self._shift
    except (TypeError, ValueError):  # not a buffer
        return False
    return view is not None and self._live.get(i) is view


_READY = True  # see _base.load()
