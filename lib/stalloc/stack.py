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

import sys

from ._allocator import AllocError, check_count
from ._compat import is_int, itemsize, per_thread, release, typed_view
from .chain import System

DEFAULT_CAPACITY = 1024
_WORD = 8 if sys.maxsize > 1 << 32 else 4  # bytes an object slot costs
_OBJECTS = "O"  # typecode of object-slot frames


def _check_n(n, what):
    # A count: an int >= 0 (zero-length frames are allowed, as in the crates).
    if not is_int(n):
        raise TypeError("%s must be an int, not %s" % (what, type(n).__name__))
    if n < 0:
        raise ValueError("%s must be >= 0, got %d" % (what, n))
    return n


class ObjectView:
    """The object slots of a frame: len, indexing, slicing (a list), assignment,
    iteration. Invalid once the frame ends (ValueError on any use)."""

    def __init__(self, stack, base, n):
        self._slots = stack._slots
        self._base = base
        self._n = n

    def _live(self):
        if self._slots is None:
            raise ValueError("operation forbidden on a view of an ended frame")
        return self._slots

    def __len__(self):
        self._live()
        return self._n

    def _index(self, k):
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError("frame index out of range")
        return self._base + k

    def __getitem__(self, k):
        slots = self._live()
        if isinstance(k, slice):
            start, stop, step = k.indices(self._n)
            return [slots[self._base + j] for j in range(start, stop, step)]
        return slots[self._index(k)]

    def __setitem__(self, k, value):
        self._live()[self._index(k)] = value

    def __iter__(self):
        slots = self._live()
        for k in range(self._base, self._base + self._n):
            yield slots[k]

    def tolist(self):
        return self[:]

    def release(self):
        self._slots = None


class _Frame:
    # One frame: where it lives and what to restore when it ends. It is also the context
    # manager that frame()/buffered()/vec() return: pushed on entry, popped on exit.

    def __init__(self, stack, n, typecode, items):
        self._stack = stack
        self._n = n  # items to reserve on entry (bytes when typecode is None)
        self._typecode = typecode
        self._items = items  # an iterable to drain on entry (buffered), else None
        self._depth = -1  # position on the stack while open
        self._chunk = None  # the chunk its bytes live in (None: no bytes)
        self._saved = 0  # that chunk's top before this frame
        self._start = 0  # offset of its first byte in the chunk
        self._nbytes = 0
        self._slot_base = 0
        self._count = 0  # object slots it holds
        self._view = None  # what the frame handed out

    def __enter__(self):
        # No try here: on MicroPython it would put this frame on the GC heap every time.
        # Room is made before the frame opens, so a failure leaves nothing to undo.
        if self._depth >= 0:
            raise RuntimeError("frame already entered")
        stack = self._stack
        tc = self._typecode
        if self._items is not None:
            self._view = stack._open_filled(self, self._items)
        elif tc is None:
            stack._open(self, self._n, 8)
            self._view = self._chunk[self._start : self._start + self._n] if self._n else _EMPTY
        elif tc == _OBJECTS:
            stack._open(self, 0, 1)
            stack._reserve_slots(self, self._n)
            self._view = ObjectView(stack, self._slot_base, self._n)
        else:
            size = itemsize(tc)
            stack._open(self, self._n * size, size)
            self._view = self._typed()
        return self._view

    def _typed(self):
        if self._nbytes:
            view = self._chunk[self._start : self._start + self._nbytes]
        else:
            view = memoryview(bytearray(0))
        return typed_view(view, self._typecode)

    def __exit__(self, exc_type, exc, tb):
        view = self._view
        self._view = None
        if view is not None and view is not _EMPTY:
            if type(view) is memoryview:
                release(view)  # CPython: byte and cast views raise on use from now on
            else:
                view.release()  # typed (MicroPython) and object views end here too
        self._stack._close(self)


_EMPTY = memoryview(b"")  # the view of every zero-byte frame


class StackVec:
    """A growable region on top of a stack (second_stack2's StackVec).

    push, pop, extend, len, indexing (also negative), iteration, tolist(). Items are
    objects (typecode None) or numbers of an `array` typecode. Pushing while another
    frame sits above this vec raises RuntimeError (second_stack2's assert_inv): a vec
    can only grow on top. It ends with its with_stack_vec()/vec() scope.
    """

    def __init__(self, frame):
        self._frame = frame

    def _top_frame(self):
        f = self._frame
        if f is None:
            raise ValueError("operation forbidden on an ended stack vec")
        if f._depth != f._stack._depth:
            raise RuntimeError("stack vec is not on top: a frame was opened above it")
        return f

    def _live(self):
        f = self._frame
        if f is None:
            raise ValueError("operation forbidden on an ended stack vec")
        return f

    def push(self, item):
        f = self._top_frame()
        if f._typecode == _OBJECTS:
            f._stack._push_slot(f, item)
        else:
            import struct

            size = itemsize(f._typecode)
            f._stack._extend(f, size, size)
            struct.pack_into(f._typecode, f._chunk, f._start + f._nbytes - size, item)

    def extend(self, items):
        for item in items:
            self.push(item)

    def pop(self):
        f = self._top_frame()
        n = len(self)
        if not n:
            raise IndexError("pop from an empty stack vec")
        item = self[n - 1]
        stack = f._stack
        if f._typecode == _OBJECTS:
            f._count -= 1
            stack._nslots -= 1
            stack._slots[stack._nslots] = None
        else:
            f._nbytes -= itemsize(f._typecode)
            if f._chunk is stack._chunk:
                stack._top = f._start + f._nbytes
        return item

    def __len__(self):
        f = self._live()
        if f._typecode == _OBJECTS:
            return f._count
        return f._nbytes // itemsize(f._typecode)

    def _index(self, k):
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("stack vec index out of range")
        return k

    def __getitem__(self, k):
        f = self._live()
        k = self._index(k)
        if f._typecode == _OBJECTS:
            return f._stack._slots[f._slot_base + k]
        import struct

        size = itemsize(f._typecode)
        return struct.unpack_from(f._typecode, f._chunk, f._start + k * size)[0]

    def __setitem__(self, k, item):
        f = self._live()
        k = self._index(k)
        if f._typecode == _OBJECTS:
            f._stack._slots[f._slot_base + k] = item
            return
        import struct

        size = itemsize(f._typecode)
        struct.pack_into(f._typecode, f._chunk, f._start + k * size, item)

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    def tolist(self):
        return list(self)


class _VecScope:
    # Context manager for Stack.vec(): a frame whose items grow on top.
    def __init__(self, stack, typecode):
        self._frame = _Frame(stack, 0, typecode if typecode is not None else _OBJECTS, None)
        self._vec = None

    def __enter__(self):
        f = self._frame
        f._stack._open(f, 0, 1)
        self._vec = StackVec(f)
        return self._vec

    def __exit__(self, exc_type, exc, tb):
        self._vec._frame = None
        self._frame._stack._close(self._frame)


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
        self._chunk = self._allocator.alloc(capacity)
        self._size = capacity
        self._top = 0  # bytes used in the current chunk
        self._old = []  # [chunk, top] of older chunks that frames still live in
        self._held = capacity  # bytes in all chunks
        self._depth = 0  # frames open
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
        _check_n(n, "n")
        if typecode is not None and typecode != _OBJECTS:
            itemsize(typecode)
        return _Frame(self, n, typecode, None)

    def buffered(self, iterable, typecode=None):
        """`with stack.buffered(iterable) as items:` the iterable drained into a frame.

        typecode None: object slots (any items, references dropped when the block ends);
        an `array` typecode: numbers packed in a typed frame.
        """
        if typecode is not None and typecode != _OBJECTS:
            itemsize(typecode)
        return _Frame(self, 0, typecode, iter(iterable))

    def vec(self, typecode=None):
        """`with stack.vec() as v:` a StackVec on top of this stack for the block."""
        if typecode is not None:
            itemsize(typecode)
        return _VecScope(self, typecode)

    def buffer(self, iterable, fn, typecode=None):
        """Drain `iterable` into a frame, return fn(items); the frame ends with fn."""
        with self.buffered(iterable, typecode) as items:
            return fn(items)

    def uninit_slice(self, n, fn, typecode="B"):
        """fn(view) on a frame of n items of `typecode` ('O' for object slots)."""
        with self.frame(n, typecode) as view:
            return fn(view)

    def uninit(self, nbytes, fn):
        """fn(view) on a frame of nbytes bytes: room for a large value."""
        with self.frame(nbytes) as view:
            return fn(view)

    def with_stack_vec(self, fn, typecode=None):
        """fn(vec) with a StackVec on top of this stack; return what fn returns."""
        with self.vec(typecode) as v:
            return fn(v)

    # -- state ---------------------------------------------------------------------------

    @property
    def depth(self):
        """Frames currently open."""
        return self._depth

    @property
    def held(self):
        """Bytes held now: all chunks, plus object slots at one machine word each."""
        return self._held + len(self._slots) * _WORD

    @property
    def capacity(self):
        """Bytes of the current chunk."""
        return self._size

    def trim(self):
        """With no frame open, release the current chunk; the next frame allocates anew.

        Also drops the object-slot list. Memory a stack saturated at is otherwise kept
        for reuse (second-stack never gave it back, SS2). RuntimeError while frames are
        open.
        """
        if self._depth:
            raise RuntimeError("trim() with %d frames open" % self._depth)
        if self._chunk is not None:
            self._allocator.free(self._chunk)
            self._held -= self._size
        self._chunk = None
        self._size = 0
        self._top = 0
        self._slots = []

    def __repr__(self):
        return "<Stack depth=%d chunk=%d/%d held=%d>" % (
            self._depth,
            self._top,
            self._size,
            self.held,
        )

    # -- internals: every frame goes through _open / _close ----------------------------

    def _open(self, f, nbytes, align):
        # Push frame f with nbytes at `align`. Makes room first: AllocError leaves the
        # stack as it was.
        if nbytes:
            start = (self._top + align - 1) & -align
            if self._chunk is None or start + nbytes > self._size:
                self._install(self._new_chunk(nbytes + align, self._top == 0), self._top)
                start = 0
            f._chunk = self._chunk
            f._saved = self._top
            f._start = start
            f._nbytes = nbytes
            self._top = start + nbytes
        else:
            f._chunk = None
            f._nbytes = 0
        self._depth += 1
        f._depth = self._depth
        f._slot_base = self._nslots
        f._count = 0

    def _open_filled(self, f, items):
        # buffered(): open an empty frame and drain `items` into it. The iterable may
        # raise, or use this stack itself (its frames end before next() returns).
        tc = f._typecode
        if tc is None:
            tc = f._typecode = _OBJECTS
        self._open(f, 0, 1)
        try:
            if tc == _OBJECTS:
                for item in items:
                    self._push_slot(f, item)
                return ObjectView(self, f._slot_base, f._count)
            import struct

            size = itemsize(tc)
            for item in items:
                self._extend(f, size, size)
                struct.pack_into(tc, f._chunk, f._start + f._nbytes - size, item)
            return f._typed()
        except BaseException:
            self._close(f)
            raise

    def _close(self, f):
        if f._depth != self._depth:
            raise RuntimeError(
                "frames must end in LIFO order (ending frame %d of %d)" % (f._depth, self._depth)
            )
        self._depth -= 1
        f._depth = -1
        slots = self._slots
        for k in range(f._slot_base, self._nslots):
            slots[k] = None  # drop the references now, not when the slot is reused
        self._nslots = f._slot_base
        chunk = f._chunk
        if chunk is None:
            return
        f._chunk = None
        if chunk is self._chunk:
            self._top = f._saved
        else:
            self._retire(chunk, f._saved)

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

    def _extend(self, f, nbytes, align):
        # Grow frame f, which is on top, by nbytes; move it to a bigger chunk if needed.
        if f._chunk is None:
            start = (self._top + align - 1) & -align
            if self._chunk is None or start + nbytes > self._size:
                self._install(self._new_chunk(nbytes + align, self._top == 0), self._top)
                start = 0
            f._chunk = self._chunk
            f._saved = self._top
            f._start = start
            f._nbytes = nbytes
            self._top = start + nbytes
            return
        used = f._nbytes
        end = f._start + used + nbytes
        if f._chunk is self._chunk and end <= self._size:
            f._nbytes = used + nbytes
            self._top = end
            return
        need = used + nbytes
        old_chunk, old_start = f._chunk, f._start
        if f._chunk is self._chunk:
            # f sits at the top of the current chunk: move it to a new, bigger chunk; the
            # frames below it keep the old chunk up to where f began.
            new = self._new_chunk(max(2 * need, need + align), f._saved == 0)
            new[0:used] = old_chunk[old_start : old_start + used]
            self._install(new, f._saved)
        else:
            # f lives in an older chunk and the current one is empty (the frames that
            # grew it have ended): move f into the current chunk, or a bigger one.
            if need > self._size:
                new = self._new_chunk(max(2 * need, need + align), True)
                self._install(new, 0)
            self._chunk[0:used] = old_chunk[old_start : old_start + used]
            self._retire(old_chunk, f._saved)
        f._chunk = self._chunk
        f._saved = 0
        f._start = 0
        f._nbytes = need
        self._top = need

    def _new_chunk(self, need, current_goes):
        # A chunk of at least `need` bytes, not yet installed. `current_goes`: the current
        # chunk will be given back when the new one is installed, so its bytes count as
        # room. AllocError (nothing changed) past max_capacity or if the allocator refuses.
        size = max(2 * self._size, need, self._first)
        if self._max is not None:
            room = self._max - self.held
            if current_goes and self._chunk is not None:
                room += self._size
            if need > room:
                raise AllocError(
                    "second stack: %d more bytes would pass max_capacity %d (holding %d)"
                    % (need, self._max, self.held)
                )
            size = min(size, room)
        chunk = self._allocator.alloc(size)
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

    def _reserve_slots(self, f, n):
        for _ in range(n):
            self._push_slot(f, None)

    def _push_slot(self, f, item):
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
        f._count += 1


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
