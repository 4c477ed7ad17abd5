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

Every call is all or nothing: a frame that cannot be had (AllocError past max_capacity or
from the allocator, MemoryError from the runtime while a view or a record is made) leaves
the stack as it was, its chunks and open frames included. A `with` frame opened by an
asyncio task above another task's open one (held across an await) is refused at once:
tasks holding frames need a stack each (tasks.py). A frame whose exit is refused because
frames opened after it are still open is marked ended, and goes when the frames above it
have ended.

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

from ._base import IS_MPY, REACH, AllocError, const, load, release
from ._check import check_count
from ._lock import get_ident
from ._views import ItemView, per_thread

DEFAULT_CAPACITY = 1024
DEFAULT_MAX_CAPACITY = 65536  # the ceiling of a default stack made from now on
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
_ENDED = "ended"  # the owner of a frame whose exit was refused: it goes with the frames above
_LIFO = "frames must end in LIFO order, innermost first"
_SHARED = "frame of another asyncio task held across an await: use stalloc.TaskStacks"
# Every zero-byte frame's view on MicroPython (in no chunk, so it keeps none alive; it
# cannot be released there anyway). CPython gives each its own, released at its end.
_NOTHING = memoryview(bytearray(0)) if IS_MPY else None


if IS_MPY:
    _modules = __import__("sys").modules
    _core = None  # asyncio.core once seen: it stays in sys.modules

    def _task():
        # The running asyncio task, or None: read where asyncio keeps it, allocating
        # nothing; asyncio is never imported from here (a program without it pays nothing).
        global _core
        core = _core
        if core is None:
            core = _core = _modules.get("asyncio.core")
            if core is None:
                return None
        return core.cur_task

else:
    from ._cpython import current_task as _task


def _claim(stack, scope):
    # A `with` frame opening (the only kind that can be held across an await): refused at
    # once when a frame of another task is open below it. Closure forms are not checked:
    # their frames end before any other task runs.
    t = scope._stalloc_task = _task()
    if t is not None:
        d = stack.depth
        if d:
            below = getattr(stack._recs[d - 1][_OWNER], "_stalloc_task", None)
            if below is not None and below is not t:
                raise RuntimeError(_SHARED)


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
    scope._stalloc_task = None  # unchecked (_claim): it ends before another task runs
    view = scope._open()
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
        self._stalloc_task = None  # the asyncio task that opened the frame (_claim)

    def __enter__(self):
        self._busy = False  # free again, also if refused here
        st = self._stack
        _claim(st, self)
        if self._tc is None and self._items is None:  # a byte frame: _open() without a call
            return st._open_bytes(self, self._n)
        return self._open()

    def _open(self):
        # No try here: on MicroPython it would put this frame on the GC heap every time.
        # Each _open_* is all or nothing. The manager is free again from here: the depth
        # it serves is taken by this frame (once open) or still free (if refused).
        self._busy = False
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
        self._stack._close(self)
        self._stalloc_task = None  # a finished task is not kept alive by its frame's manager


class Stack:
    """A second stack: LIFO frames over chunks that grow on demand, up to a ceiling.

    capacity: bytes of the first chunk, allocated now. max_capacity: ceiling on the bytes
    held in chunks plus object slots at one word each (None: no ceiling; a thread's
    default stack has DEFAULT_MAX_CAPACITY). allocator: where
    chunks come from (anything with alloc/free, e.g. a Stalloc or System(limit)); None
    (default): bytearrays from the GC heap. Not thread-safe: one stack per thread (see
    default_stack()). Read-only attributes: `depth` (frames open), `held` (bytes held:
    all chunks, plus object slots at one machine word each), `capacity` (bytes of the
    current chunk).
    """

    def __init__(self, capacity=DEFAULT_CAPACITY, max_capacity=None, allocator=None):
        check_count(capacity, "capacity")
        if capacity >= REACH:
            raise ValueError("capacity: a 32-bit MicroPython's views reach %d bytes" % REACH)
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
        chunk = self._new_chunk(capacity, capacity)
        try:
            self._swap(chunk, 0)
        except MemoryError:  # CPython: no room for an int; the allocator gets its chunk back
            self._free_chunk(chunk)
            raise

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

    def _scratch(self):
        # The stack for a closure form's frame (TaskStacks: any, when none is free).
        return self

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
            # Handed out and not entered yet: frame() called twice, or a `with` that
            # failed before entering (CPython out of memory). The new one serves the
            # depth from now on.
            f = mgrs[d] = _Frame(self)
        f._busy = True
        return f

    def buffered(self, iterable, typecode=None):
        """`with stack.buffered(iterable) as items:` the iterable drained into a frame.

        typecode None: object slots (any items, references dropped when the block ends);
        an `array` typecode: numbers packed in a typed frame (_stackx.py).
        """
        items = iter(iterable)
        f = self.frame(0, typecode)
        f._tc = None if typecode == "O" else typecode  # 'B' too: packed bytes
        f._items = items
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
        self._settle()
        n = len(self._slots) * _WORD
        self._drop_current()
        self._slots = []
        self.held -= n

    def __repr__(self):
        return "<Stack depth=%d chunk=%d/%d held=%d>" % (
            self.depth,
            self._top,
            self.capacity,
            self.held,
        )

    # -- internals: every frame is a record pushed by _push and popped by _close -------
    # Each frame is made all or nothing: what can fail (a new record, slots, a chunk, a
    # view: allocations) comes first, then the stores that open it. Values are computed
    # before they are stored: on CPython an int past 256 is a new object, so even
    # `self._top = start + n` could fail between two stores. Growth that a later step
    # refuses is undone (_rewind).

    def _rec(self):
        # The record of the depth a frame opens at (made the first time it is reached).
        d = self.depth
        recs = self._recs
        if d == len(recs):
            recs.append([None] * 11)
        return recs[d]

    def _push(self, owner):
        # The record for a new frame on top (the caller made it: _rec()), reset; the
        # caller fills in its bytes. Nothing here can fail.
        rec = self._recs[self.depth]
        d = self.depth + 1
        rec[_OWNER] = owner
        rec[_CHUNK] = None
        rec[_SAVED] = self._top
        rec[_START] = self._top
        rec[_NBYTES] = 0
        rec[_SLOTS] = self._nslots
        rec[_COUNT] = 0
        rec[_VIEW] = None
        self.depth = d
        return rec

    def _open_bytes(self, owner, n):
        # A byte frame of n bytes, 8-aligned: its view, then its record. The hot path of
        # frame() and uninit() (no `try` here: it would put this frame on the GC heap on
        # MicroPython). Twin: stack_native.
        top = self._top
        start = (top + 7) & -8
        if self.depth == len(self._recs):
            self._rec()  # a depth reached for the first time
        if not n:
            start = top  # a zero-byte frame lives in no chunk: it must not keep one
        elif start + n > self.capacity:
            return self._open_grown(owner, n)
        view = self._view(start, n)
        end = start + n  # (on CPython a new int: it can fail, before anything changed)
        rec = self._push(owner)
        rec[_CHUNK] = self._chunk if n else None
        rec[_SAVED] = top
        rec[_START] = start
        rec[_NBYTES] = n
        rec[_VIEW] = view
        self._top = end
        return view

    def _open_grown(self, owner, n):
        # A byte frame that needs a new chunk: opened there, or the growth undone.
        nold = len(self._old)
        cap = self.capacity
        self._grow(n)
        try:
            view = self._open_bytes(owner, n)  # fits now, at offset 0 (8-aligned)
        except MemoryError:  # (before _open_bytes() changed anything)
            self._rewind(nold, cap)
            raise
        try:
            self._settle()
        except MemoryError:  # CPython: no room for the call (see _settle)
            pass
        return view

    def _view(self, start, n):
        # The view of bytes start..start+n of the current chunk for a frame at this
        # depth (its record made): the depth's own view moved there, or (first time at
        # this depth on this chunk, or no repointing here) a new one, which the depth
        # keeps if it can.
        if not n:
            if _NOTHING is None:  # (CPython: a view of its own, see _NOTHING)
                return memoryview(bytearray(0))
            return _NOTHING  # in no chunk: it keeps none alive
        chunk = self._chunk
        rec = self._recs[self.depth]
        if self._move is not None and rec[_PCHUNK] is chunk:
            view = rec[_PVIEW]
            self._move(view, rec[_PBASE] + start, n)
            return view
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
        # An object frame of n slots (None): the view and the slots first, all at once.
        self._rec()
        base = self._nslots
        view = ObjectView(self._slots, base, n)
        self._reserve_slots(n)
        rec = self._push(owner)
        rec[_SLOTS] = base
        rec[_COUNT] = n
        rec[_VIEW] = view
        self._nslots = base + n
        return view

    def _open_filled(self, f, items, tc):
        # buffered(): open an empty frame and drain `items` into it. The iterable may
        # raise, or use this stack itself (its frames end before next() returns).
        if tc is not None:
            return load("_stackx").open_filled(self, f, items, tc)
        nslots = len(self._slots)
        self._rec()
        rec = self._push(f)
        try:
            for item in items:
                self._on_top(rec)
                self._push_slot(rec, item)
            self._on_top(rec)
            view = ObjectView(self._slots, rec[_SLOTS], rec[_COUNT])
        except BaseException:
            self._abandon(f, items, nslots)
            raise
        rec[_VIEW] = view
        return view

    def _abandon(self, f, items, nslots):
        # A failed buffered(): close the iterable (a generator's own frames end then, and
        # this one is on top), end the frame, give back the slots this request took.
        try:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        except MemoryError:  # no room to get its close(): a generator's frames stay open
            pass  # (and this one's end is refused below: it goes when they end)
        self._close(f)
        held = self.held - (len(self._slots) - nslots) * _WORD
        del self._slots[nslots:]
        self.held = held

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
            self._out_of_order(owner)
        rec = self._recs[d]
        self.depth = d
        view = rec[_VIEW]
        if view is not None:
            if type(view) is not memoryview:
                view.release()  # typed views (MicroPython), object views, stack vecs
            elif view is rec[_PVIEW]:
                self._move(view, rec[_PBASE], 0)  # emptied: a stale reference sees nothing
            elif view is not _NOTHING:
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
        if d and self._recs[d - 1][_OWNER] is _ENDED:
            self._close(_ENDED)  # a frame below whose exit was refused goes now

    def _out_of_order(self, owner):
        # _close() of a frame that is not on top: refused. If it is open further down, it
        # is marked ended, and goes as soon as the frames above it have ended.
        for d in range(self.depth - 1):
            if self._recs[d][_OWNER] is owner:
                self._recs[d][_OWNER] = _ENDED
                raise RuntimeError(
                    _LIFO + ": this one ends with the frames above it (asyncio: TaskStacks)"
                )
        raise RuntimeError(_LIFO)

    def _clear_slots(self, base):
        # Drop the references now, not when the slot is reused. (A loop on an int, not a
        # range: on CPython a range is an object to make, and this runs as frames end.)
        slots = self._slots
        k = self._nslots
        while k > base:
            k -= 1
            slots[k] = None
        self._nslots = base

    def _reserve_slots(self, n):
        # Room for n more object slots (None), taken at once: checked against the
        # ceiling and the machine first, so a refused request grows nothing. Slots past
        # _nslots are always None (cleared when their frame ended).
        missing = self._nslots + n - len(self._slots)
        if missing > 0:
            # Half as many again where the ceiling allows: pushed one by one, n objects
            # then make the list anew log(n) times, not n (each time a bigger piece of
            # the GC heap, the last ones left behind as holes).
            more = max(missing, len(self._slots) >> 1)
            if more > _MAX_SLOTS or (
                self._max is not None and self.held + more * _WORD > self._max
            ):
                more = missing
            held = self.held + more * _WORD
            if more > _MAX_SLOTS or (self._max is not None and held > self._max):
                raise AllocError("second stack: no room for %d object slots" % n)
            try:
                self._slots.extend([None] * more)
            except (MemoryError, OverflowError):
                raise AllocError("second stack: no room for %d object slots" % n)
            self.held = held

    def _push_slot(self, rec, item):
        k = self._nslots
        if k == len(self._slots):
            self._reserve_slots(1)
        count = rec[_COUNT] + 1
        nk = k + 1
        self._slots[k] = item
        self._nslots = nk
        rec[_COUNT] = count

    # -- chunks ------------------------------------------------------------------------

    def _grow(self, need):
        # Make a new chunk of at least `need` bytes current, for a frame that does not fit
        # the current one, preferring double the current size. The old current chunk
        # keeps the frames in it (to _old), or, when none lives in it, is given back once
        # the call is done (_settle()): a refused growth changes nothing (AllocError), and
        # a later step of the same call that fails undoes it (_rewind()). Two cases give
        # the empty chunk back first, its memory being the room the new one needs: when
        # max_capacity leaves no room for both, and when an allocator (not the GC heap)
        # refuses to hold both. If the new chunk still cannot be had, one of the old size
        # is taken again (another object; if even that fails, the stack is left as
        # trim() leaves it).
        size = self._grown(need)
        top = self._top
        cap = self.capacity
        empty = self._chunk is not None and not top
        if not empty or self._max is None or need <= self._max - self.held:
            try:
                new = self._new_chunk(need, size)
            except AllocError:
                if not empty or self._alloc is None:
                    raise
                new = None
            if new is not None:
                try:
                    self._swap(new, top)
                except MemoryError:
                    self._free_chunk(new)
                    raise
                return
        elif need > self._max - self.held + cap:
            self._new_chunk(need, size)  # raises: past the ceiling even without it
        self._drop_current()
        new = None
        try:
            new = self._new_chunk(need, size)
            self._swap(new, 0)
        except MemoryError:
            if new is not None:
                self._free_chunk(new)
            self._restore(cap)
            raise

    def _rewind(self, nold, cap):
        # Undo the growth of a request that a later step refused: the current chunk was
        # of cap bytes, with nold chunks in _old. The old chunk comes back from _old
        # (nothing allocated), or is taken again if _grow() gave it back first. (Not the
        # old chunk itself as the mark: held here it could not be collected for room.)
        if len(self._old) > nold:
            old = self._old[-1]
            held = self.held - self.capacity
            size = len(old[0])
            chunk = self._chunk
            self._old.pop()
            self._set_current(old[0], old[1], size)
            self.held = held
            try:
                self._free_chunk(chunk)
            except MemoryError:  # CPython: the allocator keeps it; the stack is whole
                pass
        else:
            self._drop_current()
            self._restore(cap)

    def _restore(self, cap):
        # A chunk of cap bytes again in place of the empty one given back, if it can be
        # had (else the stack stays without one, as trim() leaves it).
        if cap:
            try:
                self._swap(self._new_chunk(cap, cap), 0)
            except MemoryError:
                pass

    def _grown(self, need):
        # The size a new chunk for `need` bytes would prefer: double the current one.
        return max(2 * self.capacity, need, self._first)

    def _drop_current(self):
        # Give the current chunk back (no frame lives in it).
        chunk = self._chunk
        if chunk is not None:
            held = self.held - self.capacity
            self._free_chunk(chunk)
            self.held = held
            self._set_current(None, 0, 0)

    def _new_chunk(self, need, size):
        # A chunk of at least `need` bytes, `size` if the ceiling and the allocator allow
        # (growth doubles), not installed yet. The ceiling counts everything held at this
        # moment: max_capacity is never passed, not even while a frame is copied. If
        # `size` cannot be had, `need` is asked for before giving up. AllocError (nothing
        # changed) past max_capacity or if the allocator refuses, or at REACH (a 32-bit
        # MicroPython's views cannot reach into such a chunk).
        if need >= REACH:
            raise AllocError("second stack: %d bytes are past a view's reach here" % need)
        if size >= REACH:
            size = need
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
        # Give a chunk back. The views the depths keep into it go first (a cache; on
        # CPython iterating can fail), then the allocator's free(), which can fail too
        # (CPython locating a view): either way before the chunk is gone. A view left
        # pointing into it, or its address left in a table (the GC is conservative: an
        # address is a reference) would keep the chunk's memory alive after it is gone.
        h = self._h
        d = 0
        for rec in self._recs:
            if rec[_PCHUNK] is chunk:
                rec[_PVIEW] = rec[_PCHUNK] = None
                if h is not None:
                    _native.forget(h, d)
            d += 1
        if self._alloc is not None:
            self._alloc.free(chunk)
        else:
            release(chunk)  # CPython: its frames' views are gone; the GC takes the rest

    def _swap(self, chunk, keep):
        # Make `chunk` current, all or nothing. The old current chunk goes to _old, with
        # the frames in it up to `keep`; with keep 0 it holds none and waits there until
        # the call that grew the stack is done (_settle() gives it back) or undone
        # (_rewind() makes it current again).
        old = self._chunk
        cap = len(chunk)
        held = self.held + cap
        if old is not None:
            self._old.append([old, keep])
        self._set_current(chunk, 0, cap)
        self.held = held

    def _settle(self):
        # The call that grew the stack is done: the empty chunks _swap() kept go back.
        # (If the allocator cannot take one, CPython out of memory, the stack lets it go
        # all the same; if this very call cannot be made, the next one gives them back.)
        old = self._old
        while old and not old[-1][1]:
            held = self.held - len(old[-1][0])
            chunk = old.pop()[0]  # (can fail on CPython: a shorter list is moved)
            self.held = held
            try:
                self._free_chunk(chunk)
            except MemoryError:
                pass

    def _set_current(self, chunk, top, cap):
        # The current chunk, its top and size, and the fast frames' table (which counts
        # the changes: a depth's view is on the current chunk if made since the last).
        self._chunk = chunk
        self.capacity = cap
        self._top = top
        h = self._h
        if h is not None:
            h[2] = cap
            _native.regen(h)

    def _retire(self, chunk, top):
        # An older chunk (the last in _old: every frame above has ended) now holds frames
        # up to `top`; give it back once nothing lives in it. Ending a frame must not
        # fail: if the allocator cannot take the chunk back (CPython locating it, out of
        # memory), the stack lets it go all the same and the allocator keeps it.
        if self._old[-1][0] is not chunk:
            self._settle()  # an empty chunk a growth kept, not given back then (_settle)
            if not self._old or self._old[-1][0] is not chunk:
                raise RuntimeError("second stack corrupted: frames ended out of order")
        old = self._old[-1]
        if top:
            old[1] = top
            return
        held = self.held - len(chunk)
        self._old.pop()
        self.held = held
        try:
            self._free_chunk(chunk)
        except MemoryError:
            pass


# -- the default stack of each thread ----------------------------------------------------

_default = per_thread()
# (thread id, its default stack) of the last thread that looked its stack up: the module
# functions check it with one get_ident() and a compare, no lock and no dict. One tuple,
# read and replaced whole: another thread sees its own id there or a stranger's.
_NOBODY = (None, None)
_last = _NOBODY


def default_stack():
    """This thread's default stack, made on first use: Stack(DEFAULT_CAPACITY,
    DEFAULT_MAX_CAPACITY), 1 KiB growing up to 64 KiB (set either module attribute before
    a thread's first use, or give the thread its own with set_default_stack()). Where the
    default is a TaskStacks, the current asyncio task's stack."""
    stack = _own()
    return stack if isinstance(stack, Stack) else stack.stack()


def _mine():
    # The thread's default for the module functions (a Stack or a TaskStacks: both serve
    # them), cached for the thread that asked last.
    c = _last
    if c[0] == get_ident():
        return c[1]
    return _own()


def _own():
    # The thread's default, read where it is kept (a thread id can be a dead thread's:
    # the cache is checked against it), made on first use.
    global _last
    me = get_ident()
    stack = _default.get()
    if stack is None:
        stack = Stack(DEFAULT_CAPACITY, max(DEFAULT_CAPACITY, DEFAULT_MAX_CAPACITY))
        _default.set(stack)
    c = _last
    if c[0] != me or c[1] is not stack:  # a new tuple only when it changes: warm, none
        _last = (me, stack)
    return stack


def set_default_stack(stack):
    """Make `stack` (a Stack, or a TaskStacks: a stack per asyncio task) this thread's
    default; None drops it (do so before a thread ends on MicroPython, where defaults are
    kept in a dict by thread id)."""
    global _last
    if stack is not None and not isinstance(stack, Stack) and not hasattr(stack, "_pool"):
        raise TypeError("set_default_stack() takes a Stack, a TaskStacks or None")
    _last = _NOBODY
    _default.set(stack)


def frame(n, typecode=None):
    """Stack.frame on this thread's default stack."""
    c = _last  # _mine() inline: a call less
    if c[0] == get_ident():
        return c[1].frame(n, typecode)
    return _mine().frame(n, typecode)


def buffered(iterable, typecode=None):
    """Stack.buffered on this thread's default stack."""
    return _mine().buffered(iterable, typecode)


def stack_vec(typecode=None):
    """Stack.vec on this thread's default stack."""
    return _mine().vec(typecode)


def buffer(iterable, fn, typecode=None):
    """Drain iterable into a frame of the thread's stack; return fn(items)."""
    return _mine().buffer(iterable, fn, typecode)


def uninit_slice(n, fn, typecode="B"):
    """fn(view) on n items of `typecode` on the thread's stack ('O': object slots)."""
    c = _last  # _mine() inline: a call less
    if c[0] == get_ident():
        return c[1].uninit_slice(n, fn, typecode)
    return _mine().uninit_slice(n, fn, typecode)


def uninit(nbytes, fn):
    """fn(view) on nbytes bytes of the thread's stack: a large value off the call stack."""
    c = _last
    if c[0] == get_ident():
        return c[1].uninit(nbytes, fn)
    return _mine().uninit(nbytes, fn)


def with_stack_vec(fn, typecode=None):
    """fn(vec) with a StackVec on top of the thread's stack."""
    return _mine().with_stack_vec(fn, typecode)


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
    Stack._frame = Stack.frame
    Stack.frame = _native.frame
    _Frame.__enter__ = _native.enter
    _native._ENDED = _ENDED
    # The scalars the fast frames keep in their state table, read and written here too.
    Stack._top, Stack.depth = _native.FIELDS

_READY = True  # see _base.load()
