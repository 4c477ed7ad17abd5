"""The second stack's typed frames, stack vecs and layout(), loaded on first use by
stack.py: a program that only takes byte and object frames never loads them.

Records are stack.py's (its _OWNER.._VIEW indexes, repeated here as private constants).
"""

# struct is imported here, once: MicroPython searches the filesystem for an extensible
# built-in module (struct, array, ...) on every `import` statement that names it (a few
# us on the unix port, more on a board's flash), and a filesystem is not safe to enter
# from several threads at once on a port without a GIL.
import struct

from ._base import const, load
from ._typed import itemsize, typed_view
from .stack import _claim

_CHUNK = const(1)  # stack.py's record fields
_SAVED = const(2)
_START = const(3)
_NBYTES = const(4)
_SLOTS = const(5)
_COUNT = const(6)
_VIEW = const(7)


def open_typed(stack, owner, n, tc):
    # A typed frame of n items, aligned to the item size: room (growth undone if a later
    # step fails), then its view, then its record.
    size = itemsize(tc)
    nbytes = n * size
    stack._rec()
    top = stack._top
    start = (top + size - 1) & -size
    nold = len(stack._old)
    cap = stack.capacity
    grew = nbytes and start + nbytes > cap
    if grew:
        stack._grow(nbytes)
        start = top = 0
    try:
        end = start + nbytes
        if nbytes:
            view = typed_view(stack._chunk[start:end], tc)
        else:
            view = typed_view(memoryview(bytearray(0)), tc)
    except MemoryError:
        if grew:
            stack._rewind(nold, cap)
        raise
    rec = stack._push(owner)
    rec[_VIEW] = view
    if nbytes:
        rec[_CHUNK] = stack._chunk
        rec[_SAVED] = top
        rec[_START] = start
        rec[_NBYTES] = nbytes
        stack._top = end
    if grew:
        try:
            stack._settle()
        except MemoryError:  # CPython: no room for the call (see Stack._settle)
            pass
    return view


def open_filled(stack, f, items, tc):
    # buffered() with a typecode: numbers packed into a typed frame as they come. A
    # failure ends the frame and undoes the growth it caused.
    nslots = len(stack._slots)
    allocs = stack._chunk_allocs
    nold = len(stack._old)
    cap = stack.capacity
    stack._rec()
    rec = stack._push(f)
    try:
        size = itemsize(tc)
        for item in items:
            stack._on_top(rec)
            _extend(stack, rec, struct.pack(tc, item), size)  # a bad item: nothing grew
        stack._on_top(rec)
        if rec[_NBYTES]:
            view = rec[_CHUNK][rec[_START] : rec[_START] + rec[_NBYTES]]
        else:
            view = memoryview(bytearray(0))
        view = typed_view(view, tc)
    except BaseException:
        stack._abandon(f, items, nslots)
        if stack._chunk_allocs != allocs:
            stack._rewind(nold, cap)
        raise
    rec[_VIEW] = view
    return view


def _extend(stack, rec, data, align):
    # Append `data` (bytes) to the frame of `rec`, which is on top; move it if needed. All
    # or nothing: what can fail (a slice, a chunk, a record, the copies) comes before
    # the stores, and growth is undone.
    nbytes = len(data)
    chunk = rec[_CHUNK]
    used = rec[_NBYTES]
    need = used + nbytes
    if chunk is None:
        top = stack._top
        start = (top + align - 1) & -align
        end = start + nbytes
        if end <= stack.capacity:
            stack._chunk[start:end] = data
        else:
            nold = len(stack._old)
            cap = stack.capacity
            stack._grow(nbytes)
            start = top = 0
            end = nbytes
            try:
                stack._chunk[0:end] = data
            except MemoryError:
                stack._rewind(nold, cap)
                raise
        rec[_CHUNK] = stack._chunk
        rec[_SAVED] = top
        rec[_START] = start
        rec[_NBYTES] = nbytes
        stack._top = end
        try:
            stack._settle()
        except MemoryError:  # CPython: no room for the call (see Stack._settle)
            pass
        return
    start = rec[_START]
    end = start + need
    if chunk is stack._chunk and end <= stack.capacity:
        chunk[start + used : end] = data
        rec[_NBYTES] = need
        stack._top = end
        return
    src = chunk[start : start + used]
    if chunk is stack._chunk:
        # On top of the current chunk: move to a new, bigger chunk; the frames below
        # keep the old chunk up to where this frame began (or, if none, it is given
        # back). Both chunks are held while the items are copied, and the ceiling counts
        # both.
        new = stack._new_chunk(need, stack._grown(need))
        try:
            new[0:used] = src
            new[used:need] = data
            stack._swap(new, rec[_SAVED])
        except MemoryError:
            stack._free_chunk(new)
            raise
    else:
        # In an older chunk while the current one is empty (the frames that grew it
        # have ended): move into the current chunk, or a bigger one.
        nold = len(stack._old)
        cap = stack.capacity
        grew = need > cap
        if grew:
            stack._grow(need)
        try:
            stack._chunk[0:used] = src
            stack._chunk[used:need] = data
        except MemoryError:
            if grew:
                stack._rewind(nold, cap)
            raise
        stack._retire(chunk, rec[_SAVED])
    rec[_CHUNK] = stack._chunk
    rec[_SAVED] = 0
    rec[_START] = 0
    rec[_NBYTES] = need
    stack._top = need
    try:
        stack._settle()
    except MemoryError:  # CPython: no room for the call (see Stack._settle)
        pass


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
        rec = self._live()
        stack = self._stack
        if stack._recs[stack.depth - 1] is not rec:
            raise RuntimeError("stack vec is not on top: a frame was opened above it")
        return rec

    def _live(self):
        if self._rec is None:
            raise ValueError("operation forbidden on an ended stack vec")
        return self._rec

    def push(self, item):
        rec = self._top()
        tc = self._typecode
        if tc is None:
            self._stack._push_slot(rec, item)
        else:
            data = struct.pack(tc, item)  # first: a bad item raises before the vec grows
            _extend(self._stack, rec, data, len(data))

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
        if self._typecode is None:
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
        if self._typecode is None:
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
        if self._typecode is None:
            return self._stack._slots[rec[_SLOTS] + k]
        size = itemsize(self._typecode)
        return struct.unpack_from(self._typecode, rec[_CHUNK], rec[_START] + k * size)[0]

    def __setitem__(self, k, item):
        rec = self._live()
        k = self._index(k)
        if self._typecode is None:
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


class VecScope:
    # What Stack.vec() returns: a StackVec on top for the block.
    def __init__(self, stack, typecode):
        if typecode == "O":
            typecode = None
        elif typecode is not None:
            itemsize(typecode)  # ValueError for anything but an array typecode
        self._stack = stack
        self._typecode = typecode
        self._stalloc_task = None  # set when entered (stack._claim); made with the object

    def __enter__(self):
        _claim(self._stack, self)
        return self._open()

    def _open(self):
        stack = self._stack
        vec = StackVec(stack, stack._rec(), self._typecode)  # first: it can fail
        stack._push(self)[_VIEW] = vec
        return vec

    def __exit__(self, exc_type, exc, tb):
        self._stack._close(self)


def layout(stack):
    """The chunks and the open frames' bytes, for pictures (tools/heapviz.py).

    Returns (chunks, frames): chunks a list of (capacity, top) in bytes, older chunks
    first and the current one last; frames a list of (chunk, start, nbytes), outermost
    first, chunk an index into chunks. Frames without bytes (object slots, empty ones)
    are left out. O(chunks * frames); allocates the lists.
    """
    held = [c for c, _ in stack._old]
    chunks = [(len(c), top) for c, top in stack._old]
    if stack._chunk is not None:
        held.append(stack._chunk)
        chunks.append((stack.capacity, stack._top))
    native = load("stack")._native
    frames = []
    for d in range(stack.depth):
        rec = stack._recs[d]
        # A fast frame keeps its fields in the native state table, not in its record.
        fast = native.fast_frame(stack, d) if native is not None else None
        chunk, start, n = fast or (rec[_CHUNK], rec[_START], rec[_NBYTES])
        for k in range(len(held)):
            if n and chunk is held[k]:
                frames.append((k, start, n))
    return chunks, frames


_READY = True  # see _base.load()
