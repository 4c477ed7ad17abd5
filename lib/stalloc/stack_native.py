# Native twins of stack.py's hot path: MicroPython with the native emitter only.
#
# stack.py loads this module through _base.native() and installs it from one table
# (at the end of stack.py): each function replaces the pure function or method of the
# same name. Where there is no native emitter the compiler rejects this file and the
# pure code runs. Why: in bytecode, the `try` of the closure forms puts their frame on
# the GC heap on every call; native code keeps it on the C stack. The heap's kernels are
# not here: a program that uses only the stack never loads them.

import micropython


@micropython.native
def _run(scope, fn):
    view = scope.__enter__()
    try:
        return fn(view)
    finally:
        scope.__exit__(None, None, None)


@micropython.native
def _run_bytes(stack, n, fn):
    # Also Stack.uninit itself. The common case inline: the frame fits the current chunk
    # and its depth's view is on that chunk (see _open_bytes and _close below); anything
    # else takes them.
    if (n | 0) < 0:  # `|` raises TypeError for a non-int
        stack._bad_count(n)
    top = stack._top
    start = (top + 7) & -8
    d = stack.depth
    recs = stack._recs
    chunk = stack._chunk
    if 0 < n and start + n <= stack.capacity and d < len(recs):
        rec = recs[d]
        if rec[9] is chunk and chunk is not None:
            view = rec[8]
            move = stack._move
            move(view, rec[10] + start, n)
            rec[0] = fn
            rec[1] = chunk
            rec[2] = top
            rec[3] = start
            rec[4] = n
            rec[5] = stack._nslots
            rec[6] = 0
            rec[7] = view
            stack.depth = d + 1
            stack._top = start + n
            try:
                return fn(view)
            finally:
                if stack.depth == d + 1 and stack._chunk is chunk and stack._nslots == rec[5]:
                    stack.depth = d
                    move(view, rec[10], 0)
                    stack._top = top
                    rec[0] = None
                    rec[1] = None
                    rec[7] = None
                else:
                    stack._close(fn)
    view = stack._open_bytes(fn, n)
    try:
        return fn(view)
    finally:
        stack._close(fn)


# Record fields by index, as stack.py's _OWNER.._PBASE: owner 0, chunk 1, saved 2,
# start 3, nbytes 4, slots 5, count 6, view 7; the depth's own view 8, its chunk 9 and
# that chunk's start in it 10. _push() and _view() are inline here for speed.


@micropython.native
def _open_bytes(self, owner, n):
    top = self._top
    start = (top + 7) & -8
    chunk = None
    if n:
        if start + n > self.capacity:
            start = self._make_room(n)
            top = 0
        chunk = self._chunk
    else:
        start = top
    d = self.depth
    recs = self._recs
    view = None
    if d < len(recs):
        rec = recs[d]
        cur = self._chunk
        if rec[9] is cur and cur is not None:
            view = rec[8]
            self._move(view, rec[10] + start, n)
    if view is None:
        view = self._view(start, n)
    if d < len(recs):
        rec = recs[d]
        rec[0] = owner
        rec[5] = self._nslots
        rec[6] = 0
        self.depth = d + 1
    else:
        rec = self._push(owner)
    rec[1] = chunk
    rec[2] = top
    rec[3] = start
    rec[4] = n
    rec[7] = view
    self._top = start + n
    return view


@micropython.native
def _close(self, owner):
    d = self.depth - 1
    if d < 0 or self._recs[d][0] is not owner:
        raise RuntimeError("frames must end in LIFO order, innermost first")
    rec = self._recs[d]
    self.depth = d
    view = rec[7]
    if view is not None:
        if type(view) is not memoryview:
            view.release()  # typed views, object views, stack vecs
        elif view is rec[8]:
            self._move(view, rec[10], 0)  # emptied: a stale reference sees nothing
    if self._nslots > rec[5]:
        self._clear_slots(rec[5])
    if rec[1] is self._chunk:
        self._top = rec[2]
    elif rec[1] is not None:
        self._retire(rec[1], rec[2])
    rec[0] = None
    rec[1] = None
    rec[7] = None


_READY = True  # see _base.load()
