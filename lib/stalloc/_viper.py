# MicroPython accelerator for the block heap: native-emitter twins of pure Python code.
#
# Imported through _compat.heap_kernels() on MicroPython only, never on CPython. A port
# built without the native emitter fails to compile this file (SyntaxError) and keeps
# the pure code. Every function here has a twin with the same name, arguments, results
# and effects in plain Python: the kernels in _kernel.py, the methods and helpers in
# heap.py. The tests run both and compare heaps byte for byte.
#
# Why twins: a MicroPython bytecode call costs ~70 ns and every bytecode ~10-20 ns; a
# bytecode function whose frame exceeds 11 words (and any `try` pushes it over) gets
# that frame from the GC heap on every call, several microseconds on a 2 MiB heap.
# Viper kernels run as machine code on raw u16 pointers; native methods keep the Python
# semantics but run without bytecode dispatch and keep their frames on the C stack.
#
# Viper differences from _kernel.py are mechanical: `w = ptr16(mem)` over the
# bytearray (word-aligned, every field at an even offset), `int()` around pointer
# reads, and machine-word ints that wrap, which is why callers range-check every
# argument before it gets here (viper silently truncates a bigint).

import micropython

from ._compat import addressof, get_ident

TAKES_BYTEARRAY = True  # viper reads the bytearray through ptr16


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
        return -3
    w = ptr16(mem)
    if w[tr + 1]:
        _fail(mem, tr)
        return -1
    L = tr >> s1
    prev = -1
    cur = int(w[tr])
    if cur >= L:
        return -4
    mask = align - 1
    while True:
        h = cur << s1
        nxt = int(w[h])
        end = cur + int(w[h + 1])
        if end > L or end <= cur or (nxt and (nxt <= end or nxt >= L)):
            return -4
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
            return -1
        prev = cur
        cur = nxt


@micropython.viper
def release(mem, tr: int, s1: int, lo: int, idx: int, size: int) -> int:
    L = tr >> s1
    if lo < 0 or lo > idx or size < 1 or idx + size > L:
        return -3
    w = ptr16(mem)
    prev = -1
    pend = 0
    cur = -1
    cnext = 0
    if not w[tr + 1]:
        cur = int(w[tr])
        if cur >= L:
            return -4
        while True:
            h = cur << s1
            cnext = int(w[h])
            end = cur + int(w[h + 1])
            if end > L or end <= cur or (cnext and (cnext <= end or cnext >= L)):
                return -4
            if cur >= idx:
                break
            prev = cur
            pend = end
            if not cnext:
                cur = -1
                break
            cur = cnext
    if prev >= 0 and pend > lo:
        return -2
    if cur >= 0 and cur < idx + size:
        return -2
    w[tr + 2] = int(w[tr + 2]) - size
    if cur == idx + size:
        size += int(w[(cur << s1) + 1])
        cur = cnext
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
def grow(mem, tr: int, s1: int, idx: int, old: int, new: int, mode: int) -> int:
    L = tr >> s1
    if idx < 0 or old < 1 or new <= old or idx + old > L:
        return -3
    w = ptr16(mem)
    prev = -1
    pend = 0
    cur = -1
    cnext = 0
    if not w[tr + 1]:
        cur = int(w[tr])
        if cur >= L:
            return -4
        while True:
            h = cur << s1
            cnext = int(w[h])
            end = cur + int(w[h + 1])
            if end > L or end <= cur or (cnext and (cnext <= end or cnext >= L)):
                return -4
            if cur >= idx:
                break
            prev = cur
            pend = end
            if not cnext:
                cur = -1
                break
            cur = cnext
    if prev >= 0 and pend > idx:
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
                _fail(mem, tr)
            return -1
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


@micropython.viper
def reset(mem, tr: int, s1: int):
    w = ptr16(mem)
    w[0] = 0
    w[1] = tr >> s1
    w[tr] = 0
    w[tr + 1] = 0
    w[tr + 2] = 0


# -- native twins of Stalloc's hot methods (heap.py installs them on the class) --------
# The guards let only ints in 0..65535 through (anything else takes the slow path, which
# names the bad argument); viper would silently truncate a bigint.
# One attribute load and an unpack of Stalloc._hot replace a dozen attribute loads.


@micropython.native
def allocate_blocks(self, size, align=1):
    k, tr, s1, _, _, _, _, _, _ = self._hot
    i = -3
    if not (size | align) >> 16:  # both in 0..65535: no bigint reaches viper
        i = allocate(k, tr, s1, size, align)
        if i >= 0:
            return i
    return self._allocate_blocks_slow(i, size, align)


@micropython.native
def deallocate_blocks(self, index, size):
    k, tr, s1, _, _, _, _, _, _ = self._hot
    r = -3
    if not (index | size) >> 16:  # both in 0..65535: no bigint reaches viper
        r = release(k, tr, s1, index, index, size)
        if not r:
            return
    self._refuse(r, index, size)


@micropython.native
def alloc(self, nbytes, align=1):
    k, tr, s1, shift, bmask, top, mv, live, _ = self._hot
    i = -3
    if 0 < nbytes <= top and 0 < align < 65536 and not align & (align - 1):
        n = (nbytes + bmask) >> shift
        i = allocate(k, tr, s1, n, (align + bmask) >> shift)
        if i >= 0:
            try:
                off = i << shift
                view = mv[off : off + nbytes]
                live[i] = view
                return view
            except MemoryError as e:  # the GC heap cannot hold the view: undo
                live.pop(i, None)
                release(k, tr, s1, i, i, n)
                raise e
    return self._alloc_slow(i, nbytes, align)


@micropython.native
def free(self, view):
    k, tr, s1, shift, bmask, _, _, live, base = self._hot
    try:  # free in native code; bytecode would need view_address()
        i = (addressof(view) - base) >> shift
    except (TypeError, ValueError):  # not a buffer
        i = -1
    if view is not None and live.get(i) is view:  # get() answers None if absent
        r = release(k, tr, s1, i, i, (len(view) + bmask) >> shift)
        if not r:
            del live[i]
            return
        self._free_refused(r)
    self._free_refused(0)


@micropython.native
def owns(self, view):
    base = self._hot[8]
    try:
        i = (addressof(view) - base) >> self._hot[3]
    except (TypeError, ValueError):  # not a buffer
        return False
    return view is not None and self._live.get(i) is view


# -- native twin of stack.py's _run (the closure forms of the second stack) ------------


@micropython.native
def run_in_scope(scope, fn):
    view = scope.__enter__()
    try:
        return fn(view)
    finally:
        scope.__exit__(None, None, None)


# -- native twins of stack.py's byte-frame hot path -----------------------------------
# Record fields by index, as stack.py's _OWNER.._VIEW: owner 0, chunk 1, saved 2,
# start 3, nbytes 4, slots 5, count 6, view 7 (8 fields).


@micropython.native
def stack_open_bytes(self, owner, n):
    top = self._top
    start = (top + 7) & -8
    chunk = None
    if n:
        if start + n > self._size:
            start = self._make_room(n)
            top = 0
        chunk = self._chunk
        view = chunk[start : start + n]
    else:
        start = top
        view = memoryview(bytearray(0))
    rec = self._spare.pop() if self._spare else [None] * 8
    rec[0] = owner
    rec[1] = chunk
    rec[2] = top
    rec[3] = start
    rec[4] = n
    rec[5] = self._nslots
    rec[6] = 0
    rec[7] = view
    self._top = start + n
    self._frames.append(rec)
    return view


@micropython.native
def stack_close(self, owner):
    if not self._frames or self._frames[-1][0] is not owner:
        raise RuntimeError("frames must end in LIFO order, innermost first")
    rec = self._frames.pop()
    view = rec[7]
    if view is not None and type(view) is not memoryview:
        view.release()  # memoryviews cannot be released on MicroPython
    if self._nslots > rec[5]:
        self._clear_slots(rec[5])
    if rec[1] is self._chunk:
        self._top = rec[2]
    elif rec[1] is not None:
        self._retire(rec[1], rec[2])
    rec[0] = None
    rec[1] = None
    rec[7] = None
    self._spare.append(rec)


@micropython.native
def run_bytes(stack, n, fn):
    view = stack._open_bytes(fn, n)
    try:
        return fn(view)
    finally:
        stack._close(fn)


# -- native twins of heap.py's locked-call helpers (SyncStalloc) -------------------------
# SyncStalloc._acquire inlined: bytecode runs scheduled callbacks on jumps, so a callback
# could land between taking the lock and recording the holder, find the lock taken by
# "someone else" and wait forever. Native code runs no callbacks, so here the two steps
# cannot be separated; a callback that re-enters later sees the holder and gets an error.


@micropython.native
def _take(sync):
    lock = sync._lock
    me = get_ident()
    if not lock.acquire(0):
        if sync._holder == me:
            _reentered()
        lock.acquire()
    sync._holder = me


@micropython.native
def locked0(sync, fn):
    _take(sync)
    try:
        return fn(sync._heap)
    finally:
        sync._holder = None
        sync._lock.release()


@micropython.native
def locked1(sync, fn, a):
    _take(sync)
    try:
        return fn(sync._heap, a)
    finally:
        sync._holder = None
        sync._lock.release()


@micropython.native
def locked2(sync, fn, a, b):
    _take(sync)
    try:
        return fn(sync._heap, a, b)
    finally:
        sync._holder = None
        sync._lock.release()


@micropython.native
def locked3(sync, fn, a, b, c):
    _take(sync)
    try:
        return fn(sync._heap, a, b, c)
    finally:
        sync._holder = None
        sync._lock.release()


def _reentered():
    # Cold path; imported here because heap.py imports this module.
    from .heap import _reentered

    _reentered()
