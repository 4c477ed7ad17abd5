"""The second stack: scoped, LIFO frames for short-lived buffers, reused, bounded.

After the Rust crates second-stack and second_stack2. A Stack owns byte chunks (from any
allocator of the chain module: System by default, a Stalloc to keep it inside a fixed
heap) and a list of object slots. Frames are pushed on top and popped in LIFO order:

    with stack.frame(4096) as buf:        # 4096 writable bytes, uninitialised
        ...
    stack.buffer(range(1000), fn)          # drain an iterable into a frame, call fn(items)
    with stack.vec("d") as v:              # a growable typed region on top: push/pop/extend
        ...

Growth never resizes a chunk that frames point into (CPython forbids it, MicroPython
would corrupt memory): when a request does not fit, a chunk twice as large (or as large
as needed) becomes the current one, and an older chunk is released as soon as no frame
lives in it. A steady workload therefore settles on one chunk and reuses it with no
further allocation. max_capacity bounds the chunks and slots held at any moment: past it,
AllocError and nothing grows.

Frames end at the end of their `with` block or closure, also on exceptions, and always
in LIFO order. On exit, object slots are cleared (references are dropped exactly then),
typed views and object views are invalidated, and on CPython byte views are released: a
view used after its frame raises ValueError. MicroPython cannot release a plain
memoryview: a byte view kept past its frame still sees whatever the next frame writes.

Alignment is relative to the chunk's start, which is at least 8-byte aligned: byte
frames are 8-aligned, typed frames aligned to their item size.

One default stack per thread backs the module functions (buffer, uninit_slice, uninit,
with_stack_vec and their context-manager forms), created on first use with
DEFAULT_CAPACITY bytes; set_default_stack() replaces it.
"""

# struct is imported here, once: MicroPython searches the filesystem for an extensible
# built-in module (struct, array, ...) on every `import` statement that names it (a few
# us on the unix port, more on a board's flash), and a filesystem is not safe to enter
# from several threads at once on a port without a GIL.
import struct
import sys

from ._base import IS_MPY, AllocError, const, native, release
from ._check import check_count
from ._views import ItemView, itemsize, per_thread, typed_view
from .chain import System

DEFAULT_CAPACITY = 1024
_WORD = 8 if sys.maxsize > 1 << 32 else 4  # bytes an object slot costs
_MAX_SLOTS = sys.maxsize // _WORD  # more slots than any machine could address
_OBJECTS = "O"  # typecode of object-slot frames

# A frame's state is a record (a list) on its stack's record stack, not attributes of
# the frame object: on MicroPython every attribute added to an instance grows its dict,
# and a frame with a dozen attributes cost four times as much.
_OWNER = const(0)  # the frame or vec scope object
_CHUNK = const(1)  # the chunk its bytes live in; None: no bytes
_SAVED = const(2)  # that chunk's top before the frame
_START = const(3)  # offset of its first byte in the chunk
_NBYTES = const(4)
_SLOTS = const(5)  # index of its first object slot
_COUNT = const(6)  # object slots it holds
_VIEW = const(7)  # what it handed out
_FIELDS = const(8)


def _check_n(n, what):
    # A count: an int >= 0 (zero-length frames are allowed, as in the crates).
    return check_count(n, what, 0)


class ObjectView(ItemView):
    """The object slots of a frame (see ItemView): slicing gives a list. Invalid once
    the frame ends."""

    _what = "view of an ended frame"

    def __init__(self, stack, base, n):
        ItemView.__init__(self, stack._slots, base, n)


def _end_view(view):
    # What a frame handed out dies with it. (_viper.stack_close inlines this.)
    if type(view) is not memoryview:
        view.release()  # typed views (MicroPython), object views, stack vecs
    elif RELEASES_VIEWS:
        release(view)  # CPython: byte and cast views raise on use from now on


def _run(scope, fn):
    # The closure forms: fn(view) inside a frame that ends when fn returns or raises.
    # Twin: stack_native (in bytecode the `try` puts this frame on the GC heap).
    view = scope.__enter__()
    try:
        return fn(view)
    finally:
        scope.__exit__(None, None, None)


def _run_bytes(stack, n, fn):
    # uninit(): no frame object at all; fn itself owns the record. Twin: stack_native.
    view = stack._open_bytes(fn, n)
    try:
        return fn(view)
    finally:
        stack._close(fn)


RELEASES_VIEWS = not IS_MPY  # MicroPython memoryviews cannot be released


def _typed(rec, typecode):
    if rec[_NBYTES]:
        view = rec[_CHUNK][rec[_START] : rec[_START] + rec[_NBYTES]]
    else:
        view = memoryview(bytearray(0))
    return typed_view(view, typecode)


class _Frame:
    # The context manager frame()/buffered() return: pushed on entry, popped on exit.
    # Byte frames set two attributes; typed, object and buffered ones one or two more.
    _typecode = None
    _items = None

    def __init__(self, stack, n):
        self._stack = stack
        self._n = n

    def __enter__(self):
        # No try here: on MicroPython it would put this frame on the GC heap every time.
        # Room is made before the record is pushed, so a failure leaves nothing to undo.
        stack = self._stack
        tc = self._typecode
        if self._items is not None:
            return stack._open_filled(self, self._items, tc)
        if tc is None:
            return stack._open_bytes(self, self._n)
        return stack._open_items(self, self._n, tc)

    def __exit__(self, exc_type, exc, tb):
        self._stack._close(self)


class StackVec:
    """A growable region on top of a stack (second_stack2's StackVec).

    push, pop, extend, len, indexing (also negative), iteration, tolist(). Items are
    objects (typecode None) or numbers of an `array` typecode. Pushing or popping while
    another frame sits above this vec raises RuntimeError (second_stack2's assert_inv):
    a vec only grows on top. It ends with its with_stack_vec()/vec() scope.
    """

    def __init__(self, stack, rec, typecode):
        self._stack = stack
        self._rec = rec
        self._typecode = typecode

    def _top(self):
        rec = self._rec
        if rec is None:
            raise ValueError("operation forbidden on an ended stack vec")
        if self._stack._frames[-1] is not rec:
            raise RuntimeError("stack vec is not on top: a frame was opened above it")
        return rec

    def _live(self):
        if self._rec is None:
            raise ValueError("operation forbidden on an ended stack vec")
        return self._rec

    def push(self, item):
        rec = self._top()
        tc = self._typecode
        if tc == _OBJECTS:
            self._stack._push_slot(rec, item)
        else:
            data = struct.pack(tc, item)  # first: a bad item raises before the vec grows
            size = len(data)
            self._stack._extend(rec, size, size)
            end = rec[_START] + rec[_NBYTES]
            rec[_CHUNK][end - size : end] = data

    def extend(self, items):
        for item in items:
            self.push(item)

    def pop(self):
        rec = self._top()
        n = len(self)
        if not n:
            raise IndexError("pop from an empty stack vec")
        item = self[n - 1]
        stack = self._stack
        if self._typecode == _OBJECTS:
            rec[_COUNT] -= 1
            stack._nslots -= 1
            stack._slots[stack._nslots] = None
        else:
            rec[_NBYTES] -= itemsize(self._typecode)
            if not rec[_NBYTES]:
                # Empty: give the place back entirely, so that no chunk is claimed by a
                # record with no bytes (the next frame may free an empty chunk).
                if rec[_CHUNK] is stack._chunk:
                    stack._top = rec[_SAVED]
                else:
                    stack._retire(rec[_CHUNK], rec[_SAVED])
                rec[_CHUNK] = None
            elif rec[_CHUNK] is stack._chunk:
                stack._top = rec[_START] + rec[_NBYTES]
        return item

    def __len__(self):
        rec = self._live()
        if self._typecode == _OBJECTS:
            return rec[_COUNT]
        return rec[_NBYTES] // itemsize(self._typecode)

    def _index(self, k):
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("stack vec index out of range")
        return k

    def __getitem__(self, k):
        rec = self._live()
        k = self._index(k)
        if self._typecode == _OBJECTS:
            return self._stack._slots[rec[_SLOTS] + k]
        size = itemsize(self._typecode)
        return struct.unpack_from(self._typecode, rec[_CHUNK], rec[_START] + k * size)[0]

    def __setitem__(self, k, item):
        rec = self._live()
        k = self._index(k)
        if self._typecode == _OBJECTS:
            self._stack._slots[rec[_SLOTS] + k] = item
            return
        size = itemsize(self._typecode)
        struct.pack_into(self._typecode, rec[_CHUNK], rec[_START] + k * size, item)

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    def tolist(self):
        return list(self)

    def release(self):
        # Called when the vec's scope ends: every later use raises ValueError.
        self._rec = None


class _VecScope:
    # The context manager Stack.vec() returns: a StackVec on top for the block.
    def __init__(self, stack, typecode):
        self._stack = stack
        self._typecode = typecode

    def __enter__(self):
        stack = self._stack
        rec = stack._open(self, 0, 1)
        try:
            vec = StackVec(stack, rec, self._typecode)
        except BaseException:  # MemoryError on MicroPython
            stack._close(self)
            raise
        rec[_VIEW] = vec
        return vec

    def __exit__(self, exc_type, exc, tb):
        self._stack._close(self)


class Stack:
    """A second stack: LIFO frames over chunks that grow on demand, up to a ceiling.

    capacity: bytes of the first chunk, allocated now. max_capacity: ceiling on the bytes
    held in chunks plus object slots at one word each (None: no ceiling). allocator: where
    chunks come from (anything with alloc/free, e.g. a Stalloc or System(limit);
    System() by default). Not thread-safe: one stack per thread (see default_stack()).
    """

    def __init__(self, capacity=DEFAULT_CAPACITY, max_capacity=None, allocator=None):
        check_count(capacity, "capacity")
        if max_capacity is not None:
            check_count(max_capacity, "max_capacity")
            if max_capacity < capacity:
                raise ValueError(
                    "max_capacity (%d) is below capacity (%d)" % (max_capacity, capacity)
                )
        self._allocator = System() if allocator is None else allocator
        self._max = max_capacity
        self._first = capacity  # size of the first chunk, also after trim()
        self._chunk = self._allocator.alloc(capacity, 8)
        self._size = capacity
        self._top = 0  # bytes used in the current chunk
        self._old = []  # [chunk, top] of older chunks that frames still live in
        self._held = capacity  # bytes in all chunks
        self._frames = []  # the records of the open frames, innermost last
        self._spare = []  # records of ended frames, reused: no list per frame
        self._slots = []  # object slots, reused; cleared when their frame ends
        self._nslots = 0
        self._chunk_allocs = 1  # chunks ever allocated (tests watch saturation)

    # -- frames --------------------------------------------------------------------------

    def frame(self, n, typecode=None):
        """`with stack.frame(n) as view:` a frame of n bytes, or of n items of `typecode`.

        typecode None: a writable memoryview of n bytes (8-aligned); an `array` typecode
        ('B', 'h', 'i', 'f', 'd', ...): a typed view of n items; 'O': n object slots
        (None). Contents of byte and typed frames are not initialised. AllocError past
        max_capacity or when the allocator refuses; ValueError / TypeError for bad n.
        """
        if (n | 0) < 0:  # `|` raises TypeError for a non-int; is_int() costs a call
            _check_n(n, "n")
        f = _Frame(self, n)
        if typecode is not None:
            if typecode != _OBJECTS:
                itemsize(typecode)
            f._typecode = typecode
        return f

    def buffered(self, iterable, typecode=None):
        """`with stack.buffered(iterable) as items:` the iterable drained into a frame.

        typecode None: object slots (any items, references dropped when the block ends);
        an `array` typecode: numbers packed in a typed frame.
        """
        f = self.frame(0, typecode)
        f._items = iter(iterable)
        return f

    def vec(self, typecode=None):
        """`with stack.vec() as v:` a StackVec on top of this stack for the block."""
        if typecode is None:
            typecode = _OBJECTS
        elif typecode != _OBJECTS:
            itemsize(typecode)
        return _VecScope(self, typecode)

    def buffer(self, iterable, fn, typecode=None):
        """Drain `iterable` into a frame, return fn(items); the frame ends with fn."""
        return _run(self.buffered(iterable, typecode), fn)

    def uninit_slice(self, n, fn, typecode="B"):
        """fn(view) on a frame of n items of `typecode` ('O' for object slots)."""
        return _run(self.frame(n, typecode), fn)

    def uninit(self, nbytes, fn):
        """fn(view) on a frame of nbytes bytes: room for a large value."""
        if (nbytes | 0) < 0:  # `|` raises TypeError for a non-int
            _check_n(nbytes, "nbytes")
        return _run_bytes(self, nbytes, fn)

    def with_stack_vec(self, fn, typecode=None):
        """fn(vec) with a StackVec on top of this stack; return what fn returns."""
        return _run(self.vec(typecode), fn)

    # -- state ---------------------------------------------------------------------------

    @property
    def depth(self):
        """Frames currently open."""
        return len(self._frames)

    @property
    def held(self):
        """Bytes held now: all chunks, plus object slots at one machine word each."""
        return self._held + len(self._slots) * _WORD

    @property
    def capacity(self):
        """Bytes of the current chunk."""
        return self._size

    def layout(self):
        """The chunks and the open frames' bytes, for pictures (tools/heapviz.py).

        Returns (chunks, frames): chunks a list of (capacity, top) in bytes, older
        chunks first and the current one last; frames a list of (chunk, start, nbytes),
        outermost first, chunk an index into chunks. Frames without bytes (object
        slots, empty ones) are left out. O(chunks * frames); allocates the lists.
        """
        held = [c for c, _ in self._old]
        chunks = [(len(c), top) for c, top in self._old]
        if self._chunk is not None:
            held.append(self._chunk)
            chunks.append((self._size, self._top))
        frames = []
        for rec in self._frames:
            for k in range(len(held)):
                if rec[_NBYTES] and rec[_CHUNK] is held[k]:
                    frames.append((k, rec[_START], rec[_NBYTES]))
        return chunks, frames

    def trim(self):
        """With no frame open, release the current chunk; the next frame allocates anew.

        Also drops the object-slot list. Memory a stack saturated at is otherwise kept
        for reuse (second-stack never gave it back, SS2). RuntimeError while frames are
        open.
        """
        if self._frames:
            raise RuntimeError("trim() with %d frames open" % len(self._frames))
        self._drop_current()
        self._slots = []

    def __repr__(self):
        return "<Stack depth=%d chunk=%d/%d held=%d>" % (
            len(self._frames),
            self._top,
            self._size,
            self.held,
        )

    # -- internals: every frame is a record pushed by _open and popped by _close -------

    def _open(self, owner, nbytes, align):
        # Push a record for `owner` with nbytes at `align`. Room is made first, so an
        # AllocError leaves the stack as it was.
        rec = self._spare.pop() if self._spare else [None] * _FIELDS
        rec[_OWNER] = owner
        rec[_CHUNK] = None
        rec[_VIEW] = None
        rec[_SAVED] = self._top
        rec[_SLOTS] = self._nslots
        rec[_COUNT] = 0
        if nbytes:
            start = (self._top + align - 1) & -align
            if start + nbytes > self._size:
                start = self._make_room(nbytes)  # offset 0 of a chunk is 8-aligned
                rec[_SAVED] = 0
            rec[_CHUNK] = self._chunk
            rec[_START] = start
            rec[_NBYTES] = nbytes
            self._top = start + nbytes
        else:
            rec[_START] = 0
            rec[_NBYTES] = 0
        self._frames.append(rec)
        return rec

    def _open_bytes(self, owner, n):
        # A byte frame of n bytes, 8-aligned: push its record, return its view. The hot
        # path of frame() and uninit(). Twin: stack_native.
        top = self._top
        start = (top + 7) & -8
        chunk = None  # a zero-byte frame lives in no chunk: it must not keep one
        if n:
            if start + n > self._size:
                start = self._make_room(n)  # offset 0 of a chunk is 8-aligned
                top = 0
            chunk = self._chunk
            view = chunk[start : start + n]  # before any change: a MemoryError is harmless
        else:
            start = top
            view = memoryview(bytearray(0))  # writable, like every byte frame
        rec = self._spare.pop() if self._spare else [None] * _FIELDS
        rec[_OWNER] = owner
        rec[_CHUNK] = chunk
        rec[_SAVED] = top
        rec[_START] = start
        rec[_NBYTES] = n
        rec[_SLOTS] = self._nslots
        rec[_COUNT] = 0
        rec[_VIEW] = view
        self._top = start + n
        self._frames.append(rec)
        return view

    def _make_room(self, need):
        # A new current chunk for a frame that does not fit the current one. An empty
        # current chunk is given back first, so that its memory is room for the new one:
        # the stack never holds both (if the new one cannot be had, the stack is left
        # as trim() leaves it).
        size = self._grown(need)
        if not self._top:
            self._drop_current()
        self._install(self._new_chunk(need, size), self._top)
        return 0

    def _grown(self, need):
        # The size a new chunk for `need` bytes would prefer: double the current one.
        return max(2 * self._size, need, self._first)

    def _drop_current(self):
        # Give the current chunk back (no frame lives in it).
        if self._chunk is not None:
            self._allocator.free(self._chunk)
            self._held -= self._size
        self._chunk = None
        self._size = 0
        self._top = 0

    def _open_filled(self, f, items, tc):
        # buffered(): open an empty frame and drain `items` into it. The iterable may
        # raise, or use this stack itself (its frames end before next() returns).
        if tc is None:
            tc = _OBJECTS
        nslots = len(self._slots)
        rec = self._open(f, 0, 1)
        try:
            if tc == _OBJECTS:
                for item in items:
                    self._on_top(rec)
                    self._push_slot(rec, item)
                self._on_top(rec)
                view = ObjectView(self, rec[_SLOTS], rec[_COUNT])
            else:
                size = itemsize(tc)
                for item in items:
                    self._on_top(rec)
                    self._extend(rec, size, size)
                    struct.pack_into(tc, rec[_CHUNK], rec[_START] + rec[_NBYTES] - size, item)
                self._on_top(rec)
                view = _typed(rec, tc)
        except BaseException:
            # A generator's own frames end when it is closed; then this one is on top.
            close = getattr(items, "close", None)
            if close is not None:
                close()
            self._close(f)
            del self._slots[nslots:]  # a failed request keeps no slot it took
            raise
        rec[_VIEW] = view
        return view

    def _on_top(self, rec):
        if self._frames[-1] is not rec:
            raise RuntimeError(
                "the iterable given to buffer() keeps a frame of the same stack open across "
                "next(): items cannot be added below it"
            )

    def _open_items(self, owner, n, tc):
        # A typed or object frame: the record, then its view; undone if the view or the
        # slots cannot be had (AllocError past the ceiling, MemoryError on MicroPython).
        if tc == _OBJECTS:
            rec = self._open(owner, 0, 1)
        else:
            size = itemsize(tc)
            rec = self._open(owner, n * size, size)
        try:
            if tc == _OBJECTS:
                self._reserve_slots(rec, n)
                view = ObjectView(self, rec[_SLOTS], n)
            else:
                view = _typed(rec, tc)
        except BaseException:
            self._close(owner)
            raise
        rec[_VIEW] = view
        return view

    def _close(self, owner):
        # Few locals on purpose: a bigger frame would come from the GC heap every call
        # on MicroPython. Twin: stack_native.
        if not self._frames or self._frames[-1][_OWNER] is not owner:
            raise RuntimeError("frames must end in LIFO order, innermost first")
        rec = self._frames.pop()
        if rec[_VIEW] is not None:
            _end_view(rec[_VIEW])
        if self._nslots > rec[_SLOTS]:
            self._clear_slots(rec[_SLOTS])
        if rec[_CHUNK] is self._chunk:
            self._top = rec[_SAVED]
        elif rec[_CHUNK] is not None:
            self._retire(rec[_CHUNK], rec[_SAVED])
        # Reused by the next frame; holds nothing meanwhile (a chunk kept alive here
        # could never be collected).
        rec[_OWNER] = rec[_CHUNK] = rec[_VIEW] = None
        self._spare.append(rec)

    def _clear_slots(self, base):
        slots = self._slots
        for k in range(base, self._nslots):
            slots[k] = None  # drop the references now, not when the slot is reused
        self._nslots = base

    def _retire(self, chunk, top):
        # An older chunk (the last in _old: every frame above has ended) now holds
        # frames up to `top`; give it back once nothing lives in it.
        old = self._old[-1]
        if old[0] is not chunk:
            raise RuntimeError("second stack corrupted: frames ended out of order")
        if top:
            old[1] = top
        else:
            self._old.pop()
            self._held -= len(chunk)
            self._allocator.free(chunk)

    def _extend(self, rec, nbytes, align):
        # Grow the frame of `rec`, which is on top, by nbytes; move it if needed.
        chunk = rec[_CHUNK]
        if chunk is None:
            start = (self._top + align - 1) & -align
            if start + nbytes > self._size:
                start = self._make_room(nbytes)
            rec[_CHUNK] = self._chunk
            rec[_SAVED] = self._top if start else 0
            rec[_START] = start
            rec[_NBYTES] = nbytes
            self._top = start + nbytes
            return
        used = rec[_NBYTES]
        end = rec[_START] + used + nbytes
        if chunk is self._chunk and end <= self._size:
            rec[_NBYTES] = used + nbytes
            self._top = end
            return
        need = used + nbytes
        start = rec[_START]
        if chunk is self._chunk:
            # On top of the current chunk: move to a new, bigger chunk; the frames
            # below keep the old chunk up to where this frame began. Both chunks are
            # held while the items are copied, and the ceiling counts both.
            new = self._new_chunk(need, self._grown(need))
            new[0:used] = chunk[start : start + used]
            self._install(new, rec[_SAVED])
        else:
            # In an older chunk while the current one is empty (the frames that grew
            # it have ended): move into the current chunk, or a bigger one.
            if need > self._size:
                size = self._grown(need)
                self._drop_current()
                self._install(self._new_chunk(need, size), 0)
            self._chunk[0:used] = chunk[start : start + used]
            self._retire(chunk, rec[_SAVED])
        rec[_CHUNK] = self._chunk
        rec[_SAVED] = 0
        rec[_START] = 0
        rec[_NBYTES] = need
        self._top = need

    def _new_chunk(self, need, size):
        # A chunk of at least `need` bytes, `size` if the ceiling and the allocator allow
        # (growth doubles), not installed yet. The ceiling counts everything held at this
        # moment: max_capacity is never passed, not even while a frame is copied. If the
        # allocator cannot give `size`, `need` is asked for before giving up. AllocError
        # (nothing changed) past max_capacity or if the allocator refuses.
        if self._max is not None:
            room = self._max - self.held
            if need > room:
                raise AllocError(
                    "second stack: %d more bytes would pass max_capacity %d (holding %d)"
                    % (need, self._max, self.held)
                )
            size = min(size, room)
        try:
            chunk = self._allocator.alloc(size, 8)  # 8-aligned even from 4-byte blocks
        except AllocError:
            if size == need:
                raise
            chunk = self._allocator.alloc(need, 8)
        self._chunk_allocs += 1
        return chunk

    def _install(self, chunk, keep):
        # Make `chunk` current. The old current chunk keeps frames up to `keep` (moved to
        # _old), or is given back when nothing lives in it.
        if self._chunk is not None:
            if keep:
                self._old.append([self._chunk, keep])
            else:
                self._held -= self._size
                self._allocator.free(self._chunk)
        self._chunk = chunk
        self._size = len(chunk)
        self._held += self._size
        self._top = 0

    def _reserve_slots(self, rec, n):
        # n object slots (None) for the frame on top, taken at once: the request is
        # checked against the ceiling and the machine first, so a refused one grows
        # nothing. Slots past _nslots are always None (cleared when their frame ended).
        k = self._nslots
        missing = k + n - len(self._slots)
        if missing > 0:
            if missing > _MAX_SLOTS or (
                self._max is not None and self.held + missing * _WORD > self._max
            ):
                raise AllocError("second stack: no room for %d object slots" % n)
            try:
                self._slots.extend([None] * missing)
            except (MemoryError, OverflowError):
                raise AllocError("second stack: no room for %d object slots" % n)
        self._nslots = k + n
        rec[_COUNT] += n

    def _push_slot(self, rec, item):
        k = self._nslots
        slots = self._slots
        if k == len(slots):
            if self._max is not None and self.held + _WORD > self._max:
                raise AllocError(
                    "second stack: another object slot would pass max_capacity %d" % self._max
                )
            slots.append(item)
        else:
            slots[k] = item
        self._nslots = k + 1
        rec[_COUNT] += 1


# -- the default stack of each thread ----------------------------------------------------

_default = per_thread()


def default_stack():
    """This thread's default stack (created on first use with DEFAULT_CAPACITY bytes)."""
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
_native = native("stack_native")
ACCELERATED = _native is not None
if ACCELERATED:
    _run = _native._run
    _run_bytes = _native._run_bytes
    Stack._open_bytes = _native._open_bytes
    Stack._close = _native._close
