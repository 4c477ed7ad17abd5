"""Recording what a program does with a heap, to replay and plot it on the host.

    rec = TraceRecorder(Stalloc(64, 16), capacity=512)   # 512 records, 8 KiB, fixed
    i = rec.allocate_blocks(4)          # the heap's own API, every call logged
    v = rec.alloc(100)
    ...
    rec.dump(sys.stdout.write)          # or: with open("t.trace", "w") as f: rec.dump(f.write)

A TraceRecorder wraps a heap (Stalloc, SyncStalloc, ...) that is empty when recording
starts, and has the heap's API: the byte API (alloc, free, realloc, scoped), the integer
API (allocate_blocks, deallocate_blocks, shrink_in_place, grow_in_place, grow_up_to),
clear() and the read-only calls, all passed through. Each call that changes the heap or
that the heap refuses (AllocError; MemoryError with the heap locked) is logged as one
16-byte record in a bytearray made at construction; when it is full, later calls still
run but are only counted (`dropped`): the log is always a prefix of what happened. Calls
rejected with ValueError / TypeError, or with MemoryError by the runtime (no room on the
GC heap for a view: the heap is left as it was) change nothing and are not logged. A
call that succeeded is never turned into an error by its logging: a record that cannot
be written (CPython out of memory) is counted as dropped, as is every later one. Logging an
integer-API call keeps nothing on the GC heap and runs with it locked (as in an interrupt
handler); the byte API allocates what the heap's own byte API does.

On a SyncStalloc (or an IrqStalloc) each call and its record happen under one
acquisition of the heap's lock (one critical section), so the log is in the heap's own
order also when threads (or interrupt handlers) record at once. Inside a
`heap.acquire_locked()` block of the same thread, recorder calls raise RuntimeError on a
SyncStalloc, as the heap's own calls do. The recorder has no acquire_locked(): calls on
the inner heap it would hand out could not be logged. On MicroPython the helpers that
log (bytecode functions with `try`: a record that cannot be written must not turn a call
into an error) and the one holding the lock take their frames from the GC heap and free
them on return; with the GC heap locked the VM puts the frames on the C stack instead, so
the integer API works there too (the tests run it under micropython.heap_lock()).

dump(write) turns the log into text, version 1 of the format (tools/heaptrace.py parses
it):

    # stalloc-trace 1 blocks=64 block_size=16 records=5 dropped=0
    allocate_blocks 0 64 16 0       op id nbytes align at
    alloc 1 100 1 4                 op id nbytes align at
    realloc 1 300 1 100 4           op id nbytes align old_nbytes at
    grow_in_place 0 0 64 96 -       op id offset old_nbytes new_nbytes at
    free 1 300                      op id nbytes

One operation per line, fields separated by single spaces; lines starting with '#' are
comments, the first being the header. Sizes and alignments are in bytes (an integer-API
call of n blocks is n * block_size bytes); `at` is the block index the call placed the
allocation at (for grow_in_place: the index it grew at), or '-' when it failed. Every
allocation gets an id, in order from 0, kept across realloc (also when it moves), so a
replay on another heap size can follow it. The operations:

    alloc ID NBYTES ALIGN AT               heap.alloc(NBYTES, ALIGN)
    free ID NBYTES                         heap.free(view), NBYTES = len(view)
    realloc ID NBYTES ALIGN OLD_NBYTES AT  heap.realloc(view, NBYTES, ALIGN)
    allocate_blocks ID NBYTES ALIGN AT     heap.allocate_blocks(NBYTES/B, ALIGN/B)
    deallocate_blocks ID OFFSET NBYTES     heap.deallocate_blocks(start + OFFSET/B, NBYTES/B)
    shrink_in_place ID OFFSET OLD NEW      heap.shrink_in_place(start + OFFSET/B, OLD/B, NEW/B)
    grow_in_place ID OFFSET OLD NEW AT     heap.grow_in_place(start + OFFSET/B, OLD/B, NEW/B)
    grow_up_to ID OFFSET OLD NEW REACHED   heap.grow_up_to(start + OFFSET/B, OLD/B, NEW/B)
                                           returned REACHED/B
    clear                                  heap.clear()

`start` is the block allocation ID began at (where realloc last placed it), and OFFSET
(bytes) is where the call's range starts inside it: 0 unless the allocation's head was
freed before (deallocate_blocks of part of it), which leaves the rest starting further in.
OLD and NEW are the sizes in bytes of that range before and after the call. A range is
attributed to the allocation holding its first block. A failed alloc or allocate_blocks
still gets an id, which nothing refers to afterwards. Sizes saturate at 2**30 - 1 (a
failed request for more).
"""

from ._base import Allocator, const, view_address
from ._check import check_count

_REC = const(16)  # bytes per record
_SAT = const(0x3FFFFFFF)  # sizes saturate here: a small int on every port
_NONE = const(0xFFFF)  # no block index (a failed call)

# record: +0 op, +1 status (1: failed), +2 log2(align), +4 u16 index, +6 u16 index2,
# +8 u32 a, +12 u32 b; little-endian. Sizes are as the call gave them: bytes for the byte
# API, blocks for the integer API (dump() converts). index2 is realloc's new index and
# grow_up_to's result in blocks.
_ALLOC = const(1)  # index, a = nbytes
_FREE = const(2)  # index, a = len(view)
_REALLOC = const(3)  # index (old), index2 (new), a = nbytes, b = old len(view)
_ALLOCATE = const(4)  # index, a = size
_DEALLOCATE = const(5)  # index, a = size
_SHRINK = const(6)  # index, a = old, b = new
_GROW = const(7)  # index, a = old, b = new
_GROW_UP_TO = const(8)  # index, a = old, b = new, index2 = reached
_CLEAR = const(9)

_SYNC = const(1)  # TraceRecorder._guard: a SyncStalloc's lock
_IRQ = const(2)  # an IrqStalloc's critical section

_NAMES = (
    None,
    "alloc",
    "free",
    "realloc",
    "allocate_blocks",
    "deallocate_blocks",
    "shrink_in_place",
    "grow_in_place",
    "grow_up_to",
    "clear",
)

FORMAT_VERSION = 1


def _log2(n):
    # Alignments are powers of two (the heap checked); no allocation.
    k = 0
    while 1 << k < n:
        k += 1
    return k


def _put16(buf, o, v):
    buf[o] = v & 0xFF
    buf[o + 1] = (v >> 8) & 0xFF


def _put32(buf, o, v):
    if v > _SAT:
        v = _SAT
    _put16(buf, o, v & 0xFFFF)
    _put16(buf, o + 2, v >> 16)


def _get16(buf, o):
    return buf[o] | buf[o + 1] << 8


def _get32(buf, o):
    return _get16(buf, o) | _get16(buf, o + 2) << 16


class TraceRecorder(Allocator):
    """A heap that logs every call into a fixed buffer of `capacity` 16-byte records.

    heap: an empty Stalloc (or SyncStalloc, UnsafeStalloc, IrqStalloc) the calls go to;
    capacity: records kept, an int >= 1. Allocates bytearray(16 * capacity) now and
    nothing more while recording on the integer API. ValueError if the heap is not empty
    or capacity < 1; TypeError for a non-int capacity. The logged and passed-through
    methods behave as the heap's own, errors included; on a locked heap each call holds
    the lock once for the call and its record (see the module docstring). There is no
    acquire_locked(): batch on the heap itself, unrecorded, if needed.
    """

    def __init__(self, heap, capacity=256):
        check_count(capacity, "capacity")
        if not heap.is_empty():
            raise ValueError("start recording on an empty heap (its allocations have no ids)")
        inner = getattr(heap, "_heap", heap)  # a SyncStalloc's Stalloc
        self._heap = heap
        # How a call and its record are made atomic: _SYNC takes a SyncStalloc's lock,
        # _IRQ an IrqStalloc's critical section (both around a call on the inner heap);
        # 0: the heap itself is called, nothing else to hold.
        if hasattr(heap, "_acquire") and hasattr(heap, "_release"):
            self._guard = _SYNC
            self._inner = inner
        elif hasattr(heap, "_disable") and hasattr(heap, "_enable"):
            self._guard = _IRQ
            self._inner = inner
        else:
            self._guard = 0
            self._inner = heap  # the heap the calls go to
        self._base = inner._base
        self._shift = inner._shift
        self._w = inner._w  # to tell the heap's refusals (its failed counter moves) ...
        self._t4 = inner._tr + 4  # ... from the runtime's MemoryError (nothing logged)
        self._buf = bytearray(capacity * _REC)
        self._cap = capacity
        self._n = 0
        self._dropped = 0

    # -- the log ---------------------------------------------------------------------------

    @property
    def heap(self):
        """The heap the calls go to."""
        return self._heap

    @property
    def capacity(self):
        """Records the buffer holds."""
        return self._cap

    @property
    def records(self):
        """Records logged so far (at most capacity)."""
        return self._n

    @property
    def dropped(self):
        """Calls not logged because the buffer was full."""
        return self._dropped

    def _log(self, op, align, index, index2, a, b):
        # One record. index and index2 may be views (their block is found here). Only
        # int arithmetic and bytearray item writes: nothing allocated on MicroPython. On
        # CPython making an int can fail: the logged calls below then count the record
        # as dropped (and every later one: the log stays a prefix of what happened).
        n = self._n
        if n >= self._cap or self._dropped:
            self._dropped += 1
            return
        if type(index) is memoryview:
            index = self._index(index)
        if type(index2) is memoryview:
            index2 = self._index(index2)
        head = op | _log2(align) << 16
        o = n * _REC
        buf = self._buf
        _put32(buf, o, head)
        _put16(buf, o + 4, index)
        _put16(buf, o + 6, index2)
        _put32(buf, o + 8, a)
        _put32(buf, o + 12, b)
        self._n = n + 1

    def _refused(self, lo):
        # The heap's failed counter (low half) moved from lo: it refused the call itself
        # (AllocError, or MemoryError with the GC heap locked). Else the runtime ran out
        # of memory and the heap is unchanged: nothing to log.
        return self._w[self._t4] != lo

    def _index(self, view):
        return (view_address(view) - self._base) >> self._shift

    def record(self, k):
        """Record k as a tuple (op name, failed, align, index, index2, a, b), raw as
        logged: sizes in bytes for the byte API, in blocks for the integer API; an
        index of 0xFFFF means none. IndexError unless 0 <= k < records. Allocates the
        tuple."""
        if not 0 <= k < self._n:
            raise IndexError("record index out of range")
        buf = self._buf
        o = k * _REC
        return (
            _NAMES[buf[o]],
            buf[o + 1] != 0,
            1 << buf[o + 2],
            _get16(buf, o + 4),
            _get16(buf, o + 6),
            _get32(buf, o + 8),
            _get32(buf, o + 12),
        )

    def reset(self):
        """Forget the log (records and dropped count). ValueError unless the heap is
        empty, so that every allocation in the next log has an id. O(1)."""
        if not self._heap.is_empty():
            raise ValueError("reset() needs an empty heap")
        self._n = 0
        self._dropped = 0

    def dump(self, write):
        """Write the log as text (format version 1, see the module docstring): write(str)
        is called once per line, each ending in a newline; sys.stdout.write and a file's
        write both fit. Returns the number of operation lines. Call it when no other
        thread is recording (records logged meanwhile are left out). O(L + records +
        blocks the calls touched); allocates the lines, a list of L owner ids and a dict
        of the live allocations' starts (at most L entries)."""
        B = self._heap.block_size
        L = self._heap.blocks
        n = self._n
        write(
            "# stalloc-trace %d blocks=%d block_size=%d records=%d dropped=%d\n"
            % (FORMAT_VERSION, L, B, n, self._dropped)
        )
        st = _Owners(L)
        for k in range(n):
            write(self._line(k, B, st) + "\n")
        return n

    def _line(self, k, B, st):
        op, failed, align, i, j, a, b = self.record(k)
        if op == "clear":
            st.clear()
            return op
        if op in ("alloc", "allocate_blocks"):
            nbytes = a if op == "alloc" else a * B
            ab = align if op == "alloc" else align * B
            ident = st.new(-1 if failed else i, (nbytes + B - 1) // B)
            return "%s %d %d %d %s" % (op, ident, nbytes, ab, "-" if failed else i)
        if op in ("free", "realloc"):
            old = (a if op == "free" else b) + B - 1
            ident = st.owner(i, old // B)
            if op == "free":
                st.mark(i, old // B, -1)
                return "free %d %d" % (ident, a)
            if failed:
                return "realloc %d %d %d %d -" % (ident, a, align, b)
            st.mark(i, old // B, -1)
            st.place(ident, j, (a + B - 1) // B)
            return "realloc %d %d %d %d %d" % (ident, a, align, b, j)
        ident = st.owner(i, a)
        off = (i - st.start(ident)) * B
        if op == "deallocate_blocks":
            st.mark(i, a, -1)
            return "deallocate_blocks %d %d %d" % (ident, off, a * B)
        if op == "shrink_in_place":
            st.mark(i + b, a - b, -1)
            return "shrink_in_place %d %d %d %d" % (ident, off, a * B, b * B)
        if op == "grow_in_place":
            if failed:
                return "grow_in_place %d %d %d %d -" % (ident, off, a * B, b * B)
            st.mark(i + a, b - a, ident)
            return "grow_in_place %d %d %d %d %d" % (ident, off, a * B, b * B, i)
        # grow_up_to
        st.mark(i + a, j - a, ident)
        return "grow_up_to %d %d %d %d %d" % (ident, off, a * B, b * B, j * B)

    # -- the heap's API, logged ------------------------------------------------------------

    # Each method calls the heap directly, or on a locked heap (self._guard) runs the
    # same module-level function through _held2 / _held3, which hold the lock around the
    # call and its record. The functions take the recorder and call self._inner.

    def allocate_blocks(self, size, align=1):
        """heap.allocate_blocks(size, align), logged. Keeps nothing on the GC heap."""
        if self._guard:
            return _held2(self, _allocate_blocks, size, align)
        return _allocate_blocks(self, size, align)

    def deallocate_blocks(self, index, size):
        """heap.deallocate_blocks(index, size), logged. Keeps nothing on the GC heap."""
        if self._guard:
            return _held2(self, _deallocate_blocks, index, size)
        return _deallocate_blocks(self, index, size)

    def shrink_in_place(self, index, old_size, new_size):
        """heap.shrink_in_place(index, old_size, new_size), logged. Keeps nothing on the
        GC heap."""
        if self._guard:
            return _held3(self, _shrink_in_place, index, old_size, new_size)
        return _shrink_in_place(self, index, old_size, new_size)

    def grow_in_place(self, index, old_size, new_size):
        """heap.grow_in_place(index, old_size, new_size), logged. Keeps nothing on the GC heap."""
        if self._guard:
            return _held3(self, _grow_in_place, index, old_size, new_size)
        return _grow_in_place(self, index, old_size, new_size)

    def grow_up_to(self, index, old_size, new_size):
        """heap.grow_up_to(index, old_size, new_size), logged. Keeps nothing on the GC heap."""
        if self._guard:
            return _held3(self, _grow_up_to, index, old_size, new_size)
        return _grow_up_to(self, index, old_size, new_size)

    def clear(self):
        """heap.clear(), logged. Keeps nothing on the GC heap."""
        if self._guard:
            return _held2(self, _clear, 0, 0)
        return _clear(self, 0, 0)

    def alloc(self, nbytes, align=1):
        """heap.alloc(nbytes, align), logged; the view is the heap's own."""
        if self._guard:
            return _held2(self, _alloc, nbytes, align)
        return _alloc(self, nbytes, align)

    def free(self, view):
        """heap.free(view), logged."""
        if self._guard:
            return _held2(self, _free, view, 0)
        return _free(self, view, 0)

    def realloc(self, view, nbytes, align=1):
        """heap.realloc(view, nbytes, align), logged; the view is the heap's own."""
        if self._guard:
            return _held3(self, _realloc, view, nbytes, align)
        return _realloc(self, view, nbytes, align)

    # -- passed through unlogged -----------------------------------------------------------

    @property
    def blocks(self):
        return self._heap.blocks

    @property
    def block_size(self):
        return self._heap.block_size

    @property
    def footprint(self):
        return self._heap.footprint

    @property
    def memory(self):
        return self._heap.memory

    def owns(self, view):
        return self._heap.owns(view)

    def is_oom(self):
        return self._heap.is_oom()

    def is_empty(self):
        return self._heap.is_empty()

    def free_runs(self):
        return self._heap.free_runs()

    def map(self, width=64):
        return self._heap.map(width)

    def map_into(self, buf):
        return self._heap.map_into(buf)

    def stats_into(self, buf):
        return self._heap.stats_into(buf)

    def stats(self):
        return self._heap.stats()

    def check(self):
        return self._heap.check()

    def __str__(self):
        return str(self._heap)

    def __repr__(self):
        return "<TraceRecorder %d/%d records, %d dropped, on %r>" % (
            self._n,
            self._cap,
            self._dropped,
            self._heap,
        )


# -- the logged calls -------------------------------------------------------------------
# Module-level, taking the recorder: the methods call them directly, or through _held2 /
# _held3 with the heap's lock held. One per call, fixed arity: *args would allocate.


def _allocate_blocks(rec, size, align):
    lo = rec._w[rec._t4]
    try:
        i = rec._inner.allocate_blocks(size, align)
    except MemoryError as e:  # AllocError, or MemoryError with the heap locked
        try:
            if rec._refused(lo):
                rec._log(_ALLOCATE | 256, align, _NONE, 0, size, 0)
        except MemoryError:  # CPython: the record lost, and with it the prefix
            rec._dropped += 1
        raise e
    try:
        rec._log(_ALLOCATE, align, i, 0, size, 0)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1
    return i


def _deallocate_blocks(rec, index, size):
    rec._inner.deallocate_blocks(index, size)
    try:
        rec._log(_DEALLOCATE, 1, index, 0, size, 0)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1


def _shrink_in_place(rec, index, old_size, new_size):
    rec._inner.shrink_in_place(index, old_size, new_size)
    try:
        rec._log(_SHRINK, 1, index, 0, old_size, new_size)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1


def _grow_in_place(rec, index, old_size, new_size):
    lo = rec._w[rec._t4]
    try:
        rec._inner.grow_in_place(index, old_size, new_size)
    except MemoryError as e:
        try:
            if rec._refused(lo):
                rec._log(_GROW | 256, 1, index, 0, old_size, new_size)
        except MemoryError:  # CPython: the record lost, and with it the prefix
            rec._dropped += 1
        raise e
    try:
        rec._log(_GROW, 1, index, 0, old_size, new_size)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1


def _grow_up_to(rec, index, old_size, new_size):
    r = rec._inner.grow_up_to(index, old_size, new_size)
    try:
        rec._log(_GROW_UP_TO, 1, index, r, old_size, new_size)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1
    return r


def _clear(rec, _a, _b):
    rec._inner.clear()
    try:
        rec._log(_CLEAR, 1, 0, 0, 0, 0)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1


def _alloc(rec, nbytes, align):
    lo = rec._w[rec._t4]
    try:
        view = rec._inner.alloc(nbytes, align)
    except MemoryError as e:
        try:
            if rec._refused(lo):
                rec._log(_ALLOC | 256, align, _NONE, 0, nbytes, 0)
        except MemoryError:  # CPython: the record lost, and with it the prefix
            rec._dropped += 1
        raise e
    try:
        rec._log(_ALLOC, align, view, 0, nbytes, 0)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1
    return view


def _free(rec, view, _b):
    i = rec._index(view)
    n = len(view) if type(view) is memoryview else 0
    rec._inner.free(view)
    try:
        rec._log(_FREE, 1, i, 0, n, 0)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1


def _realloc(rec, view, nbytes, align):
    i = rec._index(view)
    n = len(view) if type(view) is memoryview else 0
    lo = rec._w[rec._t4]
    try:
        new = rec._inner.realloc(view, nbytes, align)
    except MemoryError as e:
        try:
            if rec._refused(lo):
                rec._log(_REALLOC | 256, align, i, _NONE, nbytes, n)
        except MemoryError:  # CPython: the record lost, and with it the prefix
            rec._dropped += 1
        raise e
    try:
        rec._log(_REALLOC, align, i, new, nbytes, n)
    except MemoryError:  # CPython: the call is done, its record lost
        rec._dropped += 1
    return new


# The heap's lock (or critical section) around fn(rec, ...), released also when fn
# raises: the way heap.py's _locked helpers and irq.py's _critical helpers hold it, on the
# same primitives, so a SyncStalloc refuses a call from inside its acquire_locked() and
# an IrqStalloc's sections nest.


def _held2(rec, fn, a, b):
    heap = rec._heap
    if rec._guard == _SYNC:
        heap._acquire()
        try:
            return fn(rec, a, b)
        finally:
            heap._holder = None  # inline, as in sync.py: a call here could fail (CPython)
            heap._lock.release()
    s = heap._disable()
    try:
        return fn(rec, a, b)
    finally:
        heap._enable(s)


def _held3(rec, fn, a, b, c):
    heap = rec._heap
    if rec._guard == _SYNC:
        heap._acquire()
        try:
            return fn(rec, a, b, c)
        finally:
            heap._holder = None
            heap._lock.release()
    s = heap._disable()
    try:
        return fn(rec, a, b, c)
    finally:
        heap._enable(s)


class _Owners:
    # dump()'s view of the recorded heap: which id owns each block (-1: free) and, for
    # each id holding blocks, [the block it starts at, blocks it holds], so that every
    # record maps to (id, offset inside it). Ids holding nothing are dropped: the dict
    # never has more than L entries, however long the log.

    def __init__(self, L):
        self.L = L
        self.blocks = [-1] * L
        self.live = {}
        self.next = 0

    def clear(self):
        self.blocks = [-1] * self.L
        self.live = {}

    def start(self, ident):
        return self.live[ident][0]

    def mark(self, i, n, ident):
        # blocks i .. i+n-1 (clipped to the heap) now belong to ident (-1: free)
        blocks = self.blocks
        live = self.live
        for k in range(max(i, 0), min(i + n, self.L)):
            old = blocks[k]
            if old == ident:
                continue
            if old >= 0:
                ent = live[old]
                ent[1] -= 1
                if not ent[1]:
                    del live[old]
            if ident >= 0:
                live[ident][1] += 1
            blocks[k] = ident

    def place(self, ident, i, n):
        # ident now starts at block i and holds blocks i .. i+n-1
        ent = self.live.get(ident)
        if ent is None:
            self.live[ident] = [i, 0]
        else:
            ent[0] = i
        self.mark(i, n, ident)

    def new(self, i, n):
        # a new id; placed at block i for n blocks unless the call failed (i < 0)
        ident = self.next
        self.next = ident + 1
        if i >= 0:
            self.place(ident, i, n)
        return ident

    def owner(self, i, n):
        # The id owning block i. A block the log never saw allocated (a call on the heap
        # behind the recorder's back) gets a fresh id owning blocks i .. i+n-1.
        ident = self.blocks[i] if 0 <= i < self.L else -1
        if ident < 0:
            ident = self.new(i, max(n, 1))
        return ident


_READY = True  # see _base.load()
