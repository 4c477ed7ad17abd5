"""The second stack: scoped, LIFO frames for short-lived buffers, reused, bounded.

After the Rust crates second-stack and second_stack2. A Stack owns byte chunks (bytearrays
from the GC heap by default, or from any allocator: a Stalloc keeps them inside a fixed
heap) and a list of object slots. Frames are pushed on top and popped in LIFO order:

    with stack.frame(4096) as buf:        # 4096 writable bytes, uninitialised
        ...
    stack.uninit(4096, fn)                 # fn(buf) on such a frame
    stack.buffer(range(1000), fn)          # drain an iterable into a frame, call fn(items)
    with stack.vec("d") as v:              # a growable typed region on top: push/pop/extend

Growth never resizes a chunk that frames point into (CPython forbids it, MicroPython would
corrupt memory): when a frame does not fit, a chunk twice as large (or as large as needed,
when double cannot be had) becomes the current one; an empty current chunk is given back
first, and an older chunk as soon as no frame lives in it. A steady workload therefore
settles on one chunk and reuses it with no further allocation. max_capacity bounds what
is held at every moment (chunks, plus object slots at one word each): past it,
AllocError and nothing grows.

Frames end with their `with` block or closure, also on exceptions. Object slots are then
cleared (references dropped exactly then), typed and object views invalidated, and on
CPython byte views released: a view used after its frame raises ValueError. MicroPython
cannot release a plain memoryview: a byte view kept past its frame still sees whatever
the next frame writes. Byte frames are 8-aligned (a chunk's start is at least 8-aligned),
typed frames aligned to their item size.

Typed frames (an `array` typecode other than 'B'), stack vecs and layout() live in
_stackx.py, loaded on first use. One default stack per thread backs the module functions,
made on first use with DEFAULT_CAPACITY bytes; set_default_stack() replaces it. On
MicroPython with the native emitter, stack_native.py replaces the closure forms' runner
and the byte-frame hot path (the table at the end of this file).
"""

from ._base import IS_MPY, AllocError, const, load, release
from ._check import check_count
from ._views import ItemView, per_thread

DEFAULT_CAPACITY = 1024
_WORD = 8 if __import__("sys").maxsize > 1 << 32 else 4  # bytes an object slot costs
_MAX_SLOTS = (1 << 62) // _WORD  # more slots than any machine could address

# A frame's state is a record (a list) in Stack._recs, one per depth, reused: frames
# allocate nothing for their bookkeeping once a depth has been reached.
_OWNER = const(0)  # the frame manager, or the closure's fn: who may end it
_CHUNK = const(1)  # the chunk its bytes live in; None: no bytes
_SAVED = const(2)  # that chunk's top before the frame
_START = const(3)  # offset of its first byte in the chunk
_NBYTES = const(4)
_SLOTS = const(5)  # index of its first object slot
_COUNT = const(6)  # object slots it holds
_VIEW = const(7)  # what it handed out
# ... and what the depth keeps across frames (MicroPython, where views can be repointed:
# _repoint.py): a byte view made once per depth and chunk, moved to each frame's bytes.
_PVIEW = const(8)  # the view
_PCHUNK = const(9)  # the chunk it was sliced from
_PBASE = const(10)  # that chunk's start, as an offset of the view


def _check_n(n, what):
    # A count: an int >= 0 (zero-length frames are allowed, as in the crates).
    return check_count(n, what, 0)


class ObjectView(ItemView):
    """The object slots of a frame (see ItemView): slicing gives a list. Invalid once
    the frame ends."""

    _what = "view of an ended frame"


def _run(scope, fn):
    # The closure forms: fn(view) inside a frame that ends when fn returns or raises.
    # Twin: stack_native (in bytecode the `try` puts this frame on the GC heap).
    view = scope.__enter__()
    try:
        return fn(view)
    finally:
        scope.__exit__(None, None, None)


def _run_bytes(stack, n, fn):
    # uninit(): no frame manager at all; fn itself owns the record. Twin: stack_native.
    view = stack._open_bytes(fn, n)
    try:
        return fn(view)
    finally:
        stack._close(fn)


class _Frame:
    # What frame() and buffered() return: a frame pushed on entry and popped on exit. A
    # stack keeps one per depth and hands it out again once it has ended, so frames
    # allocate no manager once their depth has been reached.
    def __init__(self, stack):
        self._stack = stack
        self._busy = False  # between frame() and the end of the frame

    def __enter__(self):
        # No try here: on MicroPython it would put this frame on the GC heap every time.
        # Room is made before the record is pushed, so a failure leaves nothing to undo.
        st = self._stack
        tc = self._tc
        items = self._items
        if items is not None:
            self._items = None
            return st._open_filled(self, items, tc)
        if tc is None:
            return st._open_bytes(self, self._n)
        if tc == "O":
            return st._open_objects(self, self._n)
        return load("_stackx").open_typed(st, self, self._n, tc)

    def __exit__(self, exc_type, exc, tb):
        self._busy = False
        self._stack._close(self)


class Stack:
    """A second stack: LIFO frames over chunks that grow on demand, up to a ceiling.

    capacity: bytes of the first chunk, allocated now. max_capacity: ceiling on the bytes
    held in chunks plus object slots at one word each (None: no ceiling). allocator: where
    chunks come from (anything with alloc/free, e.g. a Stalloc or System(limit)); None
    (default): bytearrays from the GC heap. Not thread-safe: one stack per thread (see
    default_stack()). Read-only attributes: `depth` (frames open), `held` (bytes held:
    all chunks, plus object slots at one machine word each), `capacity` (bytes of the
    current chunk).
    """

    def __init__(self, capacity=DEFAULT_CAPACITY, max_capacity=None, allocator=None):
        check_count(capacity, "capacity")
        if max_capacity is not None:
            check_count(max_capacity, "max_capacity")
            if max_capacity < capacity:
                raise ValueError("max_capacity is below capacity")
        self._h = None  # the native fast frames' state table (stack_native.py)
        if _native is not None:  # _top and depth live in it from here
            self._h = _native.state()
        self._alloc = allocator
        self._max = max_capacity
        self._first = capacity  # size of the first chunk, also after trim()
        self._chunk = None  # the current chunk: frames go on top of it
        self.capacity = 0  # its size
        self._top = 0  # bytes used in it
        self._old = []  # [chunk, top] of older chunks that frames still live in
        self.held = 0
        self.depth = 0
        self._recs = []  # the records of frames by depth, reused
        self._slots = []  # object slots, reused; cleared when their frame ends
        self._nslots = 0
        self._mgrs = []  # frame managers by depth, handed out again when free
        self._move = None  # repoints views (MicroPython, where the probe passed)
        if IS_MPY:
            rp = load("_repoint")
            if rp.OK:
                self._move = rp.mover()
        self._chunk_allocs = 0  # chunks ever allocated (tests watch saturation)
        self._install(self._new_chunk(capacity, capacity), 0)

    # -- frames ------------------------------------------------------------------------

    def frame(self, n, typecode=None):
        """`with stack.frame(n) as view:` a frame of n bytes, or of n items of `typecode`.

        typecode None or 'B': a writable memoryview of n bytes (8-aligned); another
        `array` typecode ('h', 'i', 'f', 'd', ...): a typed view of n items; 'O': n object
        slots (None). Contents of byte and typed frames are not initialised. AllocError
        past max_capacity or when the allocator refuses; ValueError / TypeError for bad n
        or typecode. Enter it at once (the stack reuses the object it returns).
        """
        if (n | 0) < 0:  # `|` raises TypeError for a non-int; is_int() costs a call
            _check_n(n, "n")
        if typecode == "B":
            typecode = None
        elif typecode is not None and typecode != "O":
            load("_stackx").itemsize(typecode)  # ValueError for anything but an array typecode
        f = self._manager()
        f._n = n
        f._tc = typecode
        f._items = None
        return f

    def _manager(self):
        # The frame manager of the depth a frame opens at (a frame of its own where
        # frame() is called twice before entering). Apart from frame(): a frame with
        # more than 11 words of state comes from the GC heap on MicroPython.
        d = self.depth
        mgrs = self._mgrs
        while d >= len(mgrs):
            mgrs.append(_Frame(self))  # a depth reached for the first time
        f = mgrs[d]
        if f._busy:
            f = _Frame(self)
        f._busy = True
        return f

    def buffered(self, iterable, typecode=None):
        """`with stack.buffered(iterable) as items:` the iterable drained into a frame.

        typecode None: object slots (any items, references dropped when the block ends);
        an `array` typecode: numbers packed in a typed frame (_stackx.py).
        """
        f = self.frame(0, typecode)
        f._tc = None if typecode == "O" else typecode  # 'B' too: packed bytes
        f._items = iter(iterable)
        return f

    def vec(self, typecode=None):
        """`with stack.vec() as v:` a StackVec on top of this stack for the block:
        objects (typecode None) or numbers of an `array` typecode (_stackx.py)."""
        return load("_stackx").VecScope(self, typecode)

    def buffer(self, iterable, fn, typecode=None):
        """Drain `iterable` into a frame, return fn(items); the frame ends with fn."""
        return _run(self.buffered(iterable, typecode), fn)

    def uninit_slice(self, n, fn, typecode="B"):
        """fn(view) on a frame of n items of `typecode` ('O' for object slots)."""
        if typecode == "B" and (n | 0) >= 0:
            return _run_bytes(self, n, fn)  # the same fast path as uninit()
        return _run(self.frame(n, typecode), fn)

    def uninit(self, nbytes, fn):
        """fn(view) on a frame of nbytes bytes: room for a large value."""
        if (nbytes | 0) < 0:  # `|` raises TypeError for a non-int
            _check_n(nbytes, "nbytes")
        return _run_bytes(self, nbytes, fn)

    def _bad_count(self, nbytes):
        _check_n(nbytes, "nbytes")  # raises

    def with_stack_vec(self, fn, typecode=None):
        """fn(vec) with a StackVec on top of this stack; return what fn returns."""
        return _run(self.vec(typecode), fn)

    def layout(self):
        """The chunks and the open frames' bytes, for pictures (tools/heapviz.py): see
        _stackx.layout."""
        return load("_stackx").layout(self)

    def trim(self):
        """With no frame open, give the current chunk back; the next frame allocates anew.

        Also drops the object-slot list. Memory a stack saturated at is otherwise kept
        for reuse (second-stack never gave it back, SS2). RuntimeError while frames are
        open.
        """
        if self.depth:
            raise RuntimeError("trim() with %d frames open" % self.depth)
        self._drop_current()
        self.held -= len(self._slots) * _WORD
        self._slots = []

    def __repr__(self):
        return "<Stack depth=%d chunk=%d/%d held=%d>" % (
            self.depth,
            self._top,
            self.capacity,
            self.held,
        )

    # -- internals: every frame is a record pushed by _push and popped by _close -------

    def _push(self, owner):
        # The record for a new frame on top, reset; the caller fills in its bytes.
        d = self.depth
        recs = self._recs
        if d == len(recs):
            recs.append([None] * 11)  # a depth reached for the first time
        rec = recs[d]
        rec[_OWNER] = owner
        rec[_CHUNK] = None
        rec[_SAVED] = self._top
        rec[_START] = self._top
        rec[_NBYTES] = 0
        rec[_SLOTS] = self._nslots
        rec[_COUNT] = 0
        rec[_VIEW] = None
        self.depth = d + 1
        return rec

    def _open_bytes(self, owner, n):
        # A byte frame of n bytes, 8-aligned: push its record, return its view. The hot
        # path of frame() and uninit(). Twin: stack_native.
        top = self._top
        start = (top + 7) & -8
        chunk = None  # a zero-byte frame lives in no chunk: it must not keep one
        if n:
            if start + n > self.capacity:
                start = self._make_room(n)  # offset 0 of a chunk is 8-aligned
                top = 0
            chunk = self._chunk
        else:
            start = top
        view = self._view(start, n)  # before any change: a MemoryError is harmless
        rec = self._push(owner)
        rec[_CHUNK] = chunk
        rec[_SAVED] = top
        rec[_START] = start
        rec[_NBYTES] = n
        rec[_VIEW] = view
        self._top = start + n
        return view

    def _view(self, start, n):
        # The view of bytes start..start+n of the current chunk for a frame at this
        # depth: the depth's own view moved there, or (first time at this depth on this
        # chunk, or no repointing here) a new one, which the depth keeps if it can.
        d = self.depth
        chunk = self._chunk
        if self._move is not None:
            if d == len(self._recs):
                self._recs.append([None] * 11)  # a depth reached for the first time
            rec = self._recs[d]
            if rec[_PCHUNK] is chunk and chunk is not None:
                view = rec[_PVIEW]
                self._move(view, rec[_PBASE] + start, n)
                return view
        if chunk is None:
            return memoryview(bytearray(0))  # writable, like every byte frame
        view = chunk[start : start + n]
        if self._move is not None:
            rp = load("_repoint")
            base = rp.offset(view) - start
            if base + self.capacity <= rp.LIMIT:  # else its offsets do not fit the view
                rec[_PVIEW] = view
                rec[_PCHUNK] = chunk
                rec[_PBASE] = base
        return view

    def _open_objects(self, owner, n):
        # An object frame of n slots (None): the slots are taken first, all at once.
        self._reserve_slots(n)
        rec = self._push(owner)
        rec[_SLOTS] = self._nslots
        rec[_COUNT] = n
        self._nslots += n
        view = rec[_VIEW] = ObjectView(self._slots, rec[_SLOTS], n)
        return view

    def _open_filled(self, f, items, tc):
        # buffered(): open an empty frame and drain `items` into it. The iterable may
        # raise, or use this stack itself (its frames end before next() returns).
        if tc is not None:
            return load("_stackx").open_filled(self, f, items, tc)
        nslots = len(self._slots)
        rec = self._push(f)
        try:
            for item in items:
                self._on_top(rec)
                self._push_slot(rec, item)
            self._on_top(rec)
        except BaseException:
            self._abandon(f, items, nslots)
            raise
        view = rec[_VIEW] = ObjectView(self._slots, rec[_SLOTS], rec[_COUNT])
        return view

    def _abandon(self, f, items, nslots):
        # A failed buffered(): close the iterable (a generator's own frames end then, and
        # this one is on top), end the frame, give back the slots this request took.
        close = getattr(items, "close", None)
        if close is not None:
            close()
        f._busy = False
        self._close(f)
        self.held -= (len(self._slots) - nslots) * _WORD
        del self._slots[nslots:]

    def _on_top(self, rec):
        if self._recs[self.depth - 1] is not rec:
            raise RuntimeError(
                "the iterable given to buffer() keeps a frame of the same stack open across "
                "next(): items cannot be added below it"
            )

    def _close(self, owner):
        # Few locals on purpose: a bigger frame would come from the GC heap every call on
        # MicroPython. Twin: stack_native.
        d = self.depth - 1
        if d < 0 or self._recs[d][_OWNER] is not owner:
            raise RuntimeError("frames must end in LIFO order, innermost first")
        rec = self._recs[d]
        self.depth = d
        view = rec[_VIEW]
        if view is not None:
            if type(view) is not memoryview:
                view.release()  # typed views (MicroPython), object views, stack vecs
            elif view is rec[_PVIEW]:
                self._move(view, rec[_PBASE], 0)  # emptied: a stale reference sees nothing
            else:
                release(view)  # CPython: byte views raise on use from now on
        if self._nslots > rec[_SLOTS]:
            self._clear_slots(rec[_SLOTS])
        if rec[_CHUNK] is self._chunk:
            self._top = rec[_SAVED]
        elif rec[_CHUNK] is not None:
            self._retire(rec[_CHUNK], rec[_SAVED])
        # The record holds nothing meanwhile: a chunk kept alive here could never be
        # collected.
        rec[_OWNER] = rec[_CHUNK] = rec[_VIEW] = None

    def _clear_slots(self, base):
        slots = self._slots
        for k in range(base, self._nslots):
            slots[k] = None  # drop the references now, not when the slot is reused
        self._nslots = base

    def _reserve_slots(self, n):
        # Room for n more object slots (None), taken at once: checked against the
        # ceiling and the machine first, so a refused request grows nothing. Slots past
        # _nslots are always None (cleared when their frame ended).
        missing = self._nslots + n - len(self._slots)
        if missing > 0:
            if missing > _MAX_SLOTS or (
                self._max is not None and self.held + missing * _WORD > self._max
            ):
                raise AllocError("second stack: no room for %d object slots" % n)
            try:
                self._slots.extend([None] * missing)
            except (MemoryError, OverflowError):
                raise AllocError("second stack: no room for %d object slots" % n)
            self.held += missing * _WORD

    def _push_slot(self, rec, item):
        k = self._nslots
        if k == len(self._slots):
            self._reserve_slots(1)
        self._slots[k] = item
        self._nslots = k + 1
        rec[_COUNT] += 1

    # -- chunks ------------------------------------------------------------------------

    def _make_room(self, need):
        # A new current chunk for a frame that does not fit the current one. An empty
        # current chunk is given back first, so that its memory is room for the new one:
        # the stack never holds both (if the new one cannot be had, the stack is left as
        # trim() leaves it). Returns 0, the frame's offset in the new chunk.
        size = self._grown(need)
        if not self._top:
            self._drop_current()
        self._install(self._new_chunk(need, size), self._top)
        return 0

    def _grown(self, need):
        # The size a new chunk for `need` bytes would prefer: double the current one.
        return max(2 * self.capacity, need, self._first)

    def _drop_current(self):
        # Give the current chunk back (no frame lives in it).
        if self._chunk is not None:
            self._free_chunk(self._chunk)
            self.held -= self.capacity
        self._chunk = None
        self.capacity = 0
        self._top = 0
        self._changed()

    def _new_chunk(self, need, size):
        # A chunk of at least `need` bytes, `size` if the ceiling and the allocator allow
        # (growth doubles), not installed yet. The ceiling counts everything held at this
        # moment: max_capacity is never passed, not even while a frame is copied. If
        # `size` cannot be had, `need` is asked for before giving up. AllocError (nothing
        # changed) past max_capacity or if the allocator refuses.
        if self._max is not None:
            room = self._max - self.held
            if need > room:
                raise AllocError(
                    "second stack: %d more bytes would pass max_capacity %d (holding %d)"
                    % (need, self._max, self.held)
                )
            size = min(size, room)
        try:
            chunk = self._alloc_chunk(size)
        except AllocError:
            if size == need:
                raise
            chunk = self._alloc_chunk(need)
        self._chunk_allocs += 1
        return chunk

    def _alloc_chunk(self, size):
        a = self._alloc
        if a is not None:
            return a.alloc(size, 8)  # 8-aligned even from a 4-byte-block heap
        try:
            return memoryview(bytearray(size))  # GC blocks are at least 8-aligned
        except (MemoryError, OverflowError):
            raise AllocError("second stack: the GC heap has no %d bytes" % size)

    def _free_chunk(self, chunk):
        for rec in self._recs:  # views into it are no depth's any more
            if rec[_PCHUNK] is chunk:
                rec[_PVIEW] = rec[_PCHUNK] = None
        if self._alloc is not None:
            self._alloc.free(chunk)
        else:
            release(chunk)  # CPython: its frames' views are gone; the GC takes the rest

    def _install(self, chunk, keep):
        # Make `chunk` current. The old current chunk keeps frames up to `keep` (moved to
        # _old), or is given back when nothing lives in it.
        if self._chunk is not None:
            if keep:
                self._old.append([self._chunk, keep])
            else:
                self.held -= self.capacity
                self._free_chunk(self._chunk)
        self._chunk = chunk
        self.capacity = len(chunk)
        self._changed()
        self.held += self.capacity
        self._top = 0

    def _changed(self):
        # The current chunk changed: the fast frames' table keeps its size, and counts the
        # changes (a depth's view is on the current chunk if it was made since the last).
        h = self._h
        if h is not None:
            h[2] = self.capacity
            _native.regen(h)

    def _retire(self, chunk, top):
        # An older chunk (the last in _old: every frame above has ended) now holds frames
        # up to `top`; give it back once nothing lives in it.
        old = self._old[-1]
        if old[0] is not chunk:
            raise RuntimeError("second stack corrupted: frames ended out of order")
        if top:
            old[1] = top
        else:
            self._old.pop()
            self.held -= len(chunk)
            self._free_chunk(chunk)


# -- the default stack of each thread ----------------------------------------------------

_default = per_thread()


def default_stack():
    """This thread's default stack (made on first use with DEFAULT_CAPACITY bytes)."""
    stack = _default.get()
    if stack is None:
        stack = Stack()
        _default.set(stack)
    return stack


def set_default_stack(stack):
    """Make `stack` this thread's default; None drops it (do so before a thread ends on
    MicroPython, where defaults are kept in a dict by thread id)."""
    if stack is not None and not isinstance(stack, Stack):
        raise TypeError("set_default_stack() takes a Stack or None")
    _default.set(stack)


def frame(n, typecode=None):
    """Stack.frame on this thread's default stack."""
    return default_stack().frame(n, typecode)


def buffered(iterable, typecode=None):
    """Stack.buffered on this thread's default stack."""
    return default_stack().buffered(iterable, typecode)


def stack_vec(typecode=None):
    """Stack.vec on this thread's default stack."""
    return default_stack().vec(typecode)


def buffer(iterable, fn, typecode=None):
    """Drain iterable into a frame of the thread's stack; return fn(items)."""
    return default_stack().buffer(iterable, fn, typecode)


def uninit_slice(n, fn, typecode="B"):
    """fn(view) on n items of `typecode` on the thread's stack ('O': object slots)."""
    return default_stack().uninit_slice(n, fn, typecode)


def uninit(nbytes, fn):
    """fn(view) on nbytes bytes of the thread's stack: a large value off the call stack."""
    return default_stack().uninit(nbytes, fn)


def with_stack_vec(fn, typecode=None):
    """fn(vec) with a StackVec on top of the thread's stack."""
    return default_stack().with_stack_vec(fn, typecode)


# Native twins: where stack_native loads (MicroPython with the native emitter), its
# functions replace the pure ones of the same name. The heap's kernels are not needed.
_native = load("stack_native", True)
ACCELERATED = _native is not None
if ACCELERATED:
    _run = _native._run
    _run_bytes = _native._run_bytes
    Stack.uninit = _native._run_bytes  # uninit()'s checks and fast path in one
    Stack.uninit_slice = _native.uninit_slice
    Stack._open_bytes_slow = Stack._open_bytes
    Stack._open_bytes = _native._open_bytes
    Stack._close = _native._close
    # The scalars the fast frames keep in their state table, read and written here too.
    Stack._top, Stack.depth = _native.FIELDS

_READY = True  # see _base.load()
