# Native twins of stack.py's hot path: MicroPython with the native emitter only.
#
# stack.py loads this module through _base.native() and installs it from one table
# (at the end of stack.py): each function replaces the pure function or method of the
# same name. Where there is no native emitter the compiler rejects this file and the
# pure code runs. The heap's kernels are not here: a program that uses only the stack
# never loads them.
#
# Byte frames of a depth whose view is on the current chunk (the steady state) take a
# fast path: the stack's scalars live in one u32 array, the state table below, which
# two viper calls update, with the depth's view repointed in the same call (the words of
# _repoint.py). Nothing else is written: the frame's record (stack.py) is filled in
# only if the slow path has to end the frame (mirror()). The table,
# u32 items:
#
#     item           what
#     0              top       bytes used in the current chunk        (Stack._top)
#     1              depth     frames open                            (Stack.depth)
#     2              capacity  bytes of the current chunk   } written by Stack._set_current()
#     3              gen       changes of the current chunk, 1..2**30 }
#     5              depths    how many depths have a row below
#     6              the view's offset item | its length item << 8 (_repoint.py)
#     8 + 8d + 0..7  depth d: the fast frame's saved top, start and nbytes (0: none
#                    open), unused; the depth view's offset of the chunk's start, the gen
#                    it was made in (0: none), its address (low, high u32)
#
# _top and depth are properties over the table (FIELDS), so the pure code of stack.py
# and _stackx.py reads and writes the same state.

from array import array

import micropython

from ._base import halves
from ._repoint import _LEN, _OFF, LIMIT, address
from .stack import _claim

_ROW = array("I", bytes(32))  # a depth's row, appended when the depth is first reached
_ENDED = None  # stack.py's marker of a frame whose exit was refused (set when it loads)


def state():
    """A new stack's state table."""
    h = array("I", bytes(32))
    h[3] = 1  # gen 0 marks a depth view that is on no chunk
    h[6] = _OFF | _LEN << 8
    return h


@micropython.viper
def _enter(h, n: int) -> int:
    # A fast byte frame of n bytes: the depth's view moved onto them. Returns the depth,
    # or -1 for the slow path (n < 1, no room in the chunk, no view of this depth there).
    p = ptr32(h)
    d = int(p[1])
    if n < 1 or d >= int(p[5]):
        return -1
    top = int(p[0])
    start = (top + 7) & -8
    if start + n > int(p[2]):
        return -1
    r = 8 + (d << 3)
    if p[r + 5] != p[3]:
        return -1
    p[r] = top
    p[r + 1] = start
    p[r + 2] = n
    o = ptr32(int(p[r + 6]) | (int(p[r + 7]) << 32) if p[r + 7] else int(p[r + 6]))
    f = int(p[6])
    o[f & 0xFF] = (o[f & 0xFF] & 0xFF) | ((int(p[r + 4]) + start) << 8)
    o[f >> 8] = n
    p[1] = d + 1
    p[0] = start + n
    return d


@micropython.viper
def _leave(h, d: int) -> int:
    # End the fast frame at depth d: 1 done (its view emptied), 0 no fast frame there,
    # -1 one the slow path must end (it is not on top, or the stack moved to another
    # chunk). Object slots need no check: the frames above that took some have ended.
    p = ptr32(h)
    r = 8 + (d << 3)
    if d < 0 or d >= int(p[5]) or not p[r + 2]:
        return 0
    if int(p[1]) != d + 1 or p[r + 5] != p[3]:
        return -1
    p[1] = d
    p[0] = p[r]
    p[r + 2] = 0
    o = ptr32(int(p[r + 6]) | (int(p[r + 7]) << 32) if p[r + 7] else int(p[r + 6]))
    f = int(p[6])
    o[f & 0xFF] = (o[f & 0xFF] & 0xFF) | (int(p[r + 4]) << 8)
    o[f >> 8] = 0
    return 1


@micropython.viper
def _row(h, d: int, pbase: int):
    p = ptr32(h)
    r = 8 + (d << 3)
    p[r + 4] = pbase
    p[r + 5] = p[3]  # the gen (it may pass 2**30: no int made)


def _adopt(stack, d, view, pbase):
    # Depth d's view, on the current chunk from pbase: fast frames may move it from now.
    h = stack._h
    while len(h) < 16 + 8 * d:
        h.extend(_ROW)  # a depth reached for the first time
    h[5] = (len(h) - 8) >> 3
    h[13 + 8 * d] = 0  # the row is not this view's until it is whole
    if pbase + stack.capacity <= LIMIT:  # offsets past this do not fit the view's word
        h[14 + 8 * d], h[15 + 8 * d] = halves(address(view))  # an int made here, not per frame
        _row(h, d, pbase)


def forget(h, d):
    # Depth d's view is gone (its chunk was given back): its row no longer holds its
    # address, which the GC would take for a reference.
    r = 8 + 8 * d
    if d < h[5]:
        h[r + 5] = h[r + 6] = h[r + 7] = 0


def fast_frame(stack, d):
    # (chunk, start, nbytes) of the fast frame open at depth d, or None. Its chunk is
    # the one its depth's view is on.
    h = stack._h
    r = 8 + 8 * d
    if d < h[5] and h[r + 2]:
        return stack._recs[d][9], h[r + 1], h[r + 2]
    return None


def mirror(stack, d):
    # The fast frame at depth d into its record, as the slow path keeps it: the slow
    # path ends it now.
    h = stack._h
    r = 8 + 8 * d
    rec = stack._recs[d]
    if d < h[5] and h[r + 2]:
        rec[1] = rec[9]
        rec[2] = h[r]
        rec[3] = h[r + 1]
        rec[4] = h[r + 2]
        rec[5] = stack._nslots  # as when it began: the frames above have ended
        rec[6] = 0
        rec[7] = rec[8]
        h[r + 2] = 0


def regen(h):
    # The chunk changed (Stack._set_current()): a new gen. Before it wraps, every depth's view
    # is forgotten, so that no row made long ago can match again.
    if h[3] < 1 << 30:
        h[3] += 1
    else:
        h[3] = 1
        for r in range(13, len(h), 8):
            h[r] = 0


def _get_top(s):
    return s._h[0]


def _set_top(s, v):
    s._h[0] = v


def _get_depth(s):
    return s._h[1]


def _set_depth(s, v):
    s._h[1] = v


# The properties Stack reads these two scalars through (stack.py's _set_current() writes
# the chunk's size and gen).
FIELDS = (property(_get_top, _set_top), property(_get_depth, _set_depth))


@micropython.native
def _run(scope, fn):
    scope._stalloc_task = None
    view = scope._open()
    try:
        return fn(view)
    finally:
        scope.__exit__(None, None, None)


@micropython.native
def _run_bytes(stack, n, fn):
    # Also Stack.uninit itself: the checks, the fast frame (no record written), else the
    # slow path.
    if n >> 30:  # TypeError for a non-int
        if n < 0:
            stack._bad_count(n)
    else:
        h = stack._h
        d = _enter(h, n)
        if d >= 0:
            view = stack._recs[d][8]
            try:
                return fn(view)
            finally:
                if _leave(h, d) <= 0:
                    stack._recs[d][0] = fn
                    mirror(stack, d)
                    stack._close(fn)  # raises if frames were left open above
                elif d and stack._recs[d - 1][0] is _ENDED:
                    stack._close(_ENDED)  # fn ended a frame below: it goes now
    view = stack._open_bytes(fn, n)
    try:
        return fn(view)
    finally:
        stack._close(fn)


@micropython.native
def uninit_slice(self, n, fn, typecode="B"):
    # _run_bytes' fast frame inline (a call more costs a fifth of it), the rest its own.
    if typecode != "B":
        return _run(self.frame(n, typecode), fn)
    if not n >> 30:  # TypeError for a non-int
        h = self._h
        d = _enter(h, n)
        if d >= 0:
            view = self._recs[d][8]
            try:
                return fn(view)
            finally:
                if _leave(h, d) <= 0:
                    self._recs[d][0] = fn
                    mirror(self, d)
                    self._close(fn)
                elif d and self._recs[d - 1][0] is _ENDED:
                    self._close(_ENDED)
    return _run_bytes(self, n, fn)


@micropython.native
def frame(self, n, typecode=None):
    # Stack.frame: a byte frame on a depth whose manager is free (the usual case) here,
    # the rest in the pure method.
    if typecode is None and not n >> 30:  # TypeError for a non-int
        d = self._h[1]
        mgrs = self._mgrs
        if d < len(mgrs):
            f = mgrs[d]
            if not f._busy:
                f._busy = True
                f._n = n
                f._tc = None
                f._items = None
                return f
    return self._frame(n, typecode)


@micropython.native
def enter(self):
    # _Frame.__enter__, for a byte frame: the task check, then _open_bytes inline.
    self._busy = False
    st = self._stack
    _claim(st, self)
    if self._tc is not None or self._items is not None:
        return self._open()
    n = self._n
    d = _enter(st._h, n)
    if d >= 0:
        rec = st._recs[d]
        rec[0] = self
        return rec[8]
    return st._open_bytes(self, n)


# Record fields by index, as stack.py's _OWNER.._PBASE: owner 0, chunk 1, saved 2,
# start 3, nbytes 4, slots 5, count 6, view 7; the depth's own view 8, its chunk 9 and
# that chunk's start in it 10.


@micropython.native
def _open_bytes(self, owner, n):
    if not n >> 30:
        d = _enter(self._h, n)
        if d >= 0:
            rec = self._recs[d]
            rec[0] = owner
            return rec[8]
    view = self._open_bytes_slow(owner, n)
    d = self._h[1] - 1
    rec = self._recs[d]
    if view is rec[8] and rec[9] is self._chunk:
        try:
            _adopt(self, d, view, rec[10])
        except MemoryError:  # no row for this depth yet: its frames stay on the slow path
            pass
    return view


@micropython.native
def _close(self, owner):
    h = self._h
    d = h[1] - 1
    if d < 0 or self._recs[d][0] is not owner:
        self._out_of_order(owner)  # raises
    rec = self._recs[d]
    k = _leave(h, d)
    if k > 0:
        rec[0] = None
        if d and self._recs[d - 1][0] is _ENDED:
            self._close(_ENDED)
        return
    if k:
        mirror(self, d)
    h[1] = d
    view = rec[7]
    if view is not None:
        if type(view) is not memoryview:
            view.release()  # typed views, object views, stack vecs
        elif view is rec[8]:
            self._move(view, rec[10], 0)  # emptied: a stale reference sees nothing
    if self._nslots > rec[5]:
        self._clear_slots(rec[5])
    if rec[1] is self._chunk:
        h[0] = rec[2]
    elif rec[1] is not None:
        self._retire(rec[1], rec[2])
    rec[0] = None
    rec[1] = None
    rec[7] = None
    if d and self._recs[d - 1][0] is _ENDED:
        self._close(_ENDED)


_READY = True  # see _base.load()
