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
fails with AllocError (MemoryError with the heap locked) is logged as one 16-byte
record in a bytearray made at construction; when it is full, later calls still run but
are only counted (`dropped`): the log is always a prefix of what happened. Calls
rejected with ValueError / TypeError change nothing and are not logged. Logging an
integer-API call allocates nothing on the GC heap (it runs with the heap locked, as in an
interrupt handler); the byte API allocates what the heap's own byte API does.

dump(write) turns the log into text, version 1 of the format (tools/trace.py parses it):

    # stalloc-trace 1 blocks=64 block_size=16 records=5 dropped=0
    allocate_blocks 0 64 16 0       op id nbytes align at
    alloc 1 100 1 4                 op id nbytes align at
    realloc 1 300 1 100 4           op id nbytes align old_nbytes at
    grow_in_place 0 64 96 -         op id old_nbytes new_nbytes at
    free 1 300                      op id nbytes

One operation per line, fields separated by single spaces; lines starting with '#' are
comments, the first being the header. Sizes and alignments are in bytes (an integer-API
call of n blocks is n * block_size bytes); `at` is the block index the call placed the
allocation at (for grow_in_place: its index), or '-' when it failed. Every allocation
gets an id, in order from 0, kept across realloc (also when it moves), so a replay on
another heap size can follow it. The operations:

    alloc ID NBYTES ALIGN AT                    heap.alloc(NBYTES, ALIGN)
    free ID NBYTES                              heap.free(view), NBYTES = len(view)
    realloc ID NBYTES ALIGN OLD_NBYTES AT       heap.realloc(view, NBYTES, ALIGN)
    allocate_blocks ID NBYTES ALIGN AT          heap.allocate_blocks(NBYTES/B, ALIGN/B)
    deallocate_blocks ID OFFSET NBYTES          heap.deallocate_blocks(start + OFFSET/B, NBYTES/B)
    shrink_in_place ID OLD_NBYTES NEW_NBYTES    heap.shrink_in_place(start, OLD/B, NEW/B)
    grow_in_place ID OLD_NBYTES NEW_NBYTES AT   heap.grow_in_place(start, OLD/B, NEW/B)
    grow_up_to ID OLD_NBYTES NEW_NBYTES REACHED heap.grow_up_to(...) returned REACHED/B
    clear                                       heap.clear()

For deallocate_blocks, OFFSET is where the freed range starts inside allocation ID
(0 unless only part of it is freed). A failed alloc or allocate_blocks still gets an id,
which nothing refers to afterwards. Sizes saturate at 2**30 - 1 (a failed request for more).
"""

from ._allocator import Allocator, check_count
from ._compat import const, view_address

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

    heap: an empty Stalloc (or SyncStalloc, UnsafeStalloc) the calls go to; capacity:
    records kept, an int >= 1. Allocates bytearray(16 * capacity) now and nothing more
    while recording on the integer API. ValueError if the heap is not empty or capacity
    < 1; TypeError for a non-int capacity. Every heap method behaves exactly as on the
    heap, errors included; see the module docstring for what is logged.
    """

    def __init__(self, heap, capacity=256):
        check_count(capacity, "capacity")
        if not heap.is_empty():
            raise ValueError("start recording on an empty heap (its allocations have no ids)")
        inner = getattr(heap, "_heap", heap)  # a SyncStalloc's Stalloc
        self._heap = heap
        self._base = inner._base
        self._shift = inner._shift
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

    def _log(self, head, index, index2, a, b):
        # head = op | status << 8 | log2(align) << 16. Only int arithmetic and bytearray
        # item writes: nothing is allocated.
        n = self._n
        if n >= self._cap:
            self._dropped += 1
            return
        o = n * _REC
        buf = self._buf
        _put32(buf, o, head)
        _put16(buf, o + 4, index)
        _put16(buf, o + 6, index2)
        _put32(buf, o + 8, a)
        _put32(buf, o + 12, b)
        self._n = n + 1

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
        write both fit. Returns the number of operation lines. O(records * live
        allocations); allocates the lines and a dict of the live allocations."""
        B = self._heap.block_size
        write(
            "# stalloc-trace %d blocks=%d block_size=%d records=%d dropped=%d\n"
            % (FORMAT_VERSION, self._heap.blocks, B, self._n, self._dropped)
        )
        live = {}  # start block -> [id, end block, blocks still allocated]
        ids = [0]  # next id
        for k in range(self._n):
            write(self._line(k, B, live, ids) + "\n")
        return self._n

    def _line(self, k, B, live, ids):
        op, failed, align, i, j, a, b = self.record(k)
        if op == "clear":
            live.clear()
            return op
        if op in ("alloc", "allocate_blocks"):
            nbytes = a if op == "alloc" else a * B
            ab = align if op == "alloc" else align * B
            ident = _new(live, ids, None if failed else i, i + (nbytes + B - 1) // B)
            return "%s %d %d %d %s" % (op, ident, nbytes, ab, "-" if failed else i)
        start, ent = _find(live, ids, i)
        ident = ent[0]
        if op == "free":
            del live[start]
            return "free %d %d" % (ident, a)
        if op == "realloc":
            if failed:
                return "realloc %d %d %d %d -" % (ident, a, align, b)
            del live[start]
            nb = (a + B - 1) // B
            live[j] = [ident, j + nb, nb]
            return "realloc %d %d %d %d %d" % (ident, a, align, b, j)
        if op == "deallocate_blocks":
            ent[2] -= a
            if i + a == ent[1]:
                ent[1] = i
            if ent[2] <= 0:
                del live[start]
            return "deallocate_blocks %d %d %d" % (ident, (i - start) * B, a * B)
        if op == "shrink_in_place":
            ent[1] = i + b
            ent[2] -= a - b
            return "shrink_in_place %d %d %d" % (ident, a * B, b * B)
        if op == "grow_in_place":
            if not failed:
                ent[1] = i + b
                ent[2] += b - a
            return "grow_in_place %d %d %d %s" % (ident, a * B, b * B, "-" if failed else i)
        # grow_up_to
        ent[1] = i + j
        ent[2] += j - a
        return "grow_up_to %d %d %d %d" % (ident, a * B, b * B, j * B)

    # -- the heap's API, logged ------------------------------------------------------------

    def allocate_blocks(self, size, align=1):
        """heap.allocate_blocks(size, align), logged. Allocates nothing."""
        try:
            i = self._heap.allocate_blocks(size, align)
        except MemoryError:  # AllocError, or MemoryError with the heap locked
            self._log(_ALLOCATE | 256 | _log2(align) << 16, _NONE, 0, size, 0)
            raise
        self._log(_ALLOCATE | _log2(align) << 16, i, 0, size, 0)
        return i

    def deallocate_blocks(self, index, size):
        """heap.deallocate_blocks(index, size), logged. Allocates nothing."""
        self._heap.deallocate_blocks(index, size)
        self._log(_DEALLOCATE, index, 0, size, 0)

    def shrink_in_place(self, index, old_size, new_size):
        """heap.shrink_in_place(index, old_size, new_size), logged. Allocates nothing."""
        self._heap.shrink_in_place(index, old_size, new_size)
        self._log(_SHRINK, index, 0, old_size, new_size)

    def grow_in_place(self, index, old_size, new_size):
        """heap.grow_in_place(index, old_size, new_size), logged. Allocates nothing."""
        try:
            self._heap.grow_in_place(index, old_size, new_size)
        except MemoryError:
            self._log(_GROW | 256, index, 0, old_size, new_size)
            raise
        self._log(_GROW, index, 0, old_size, new_size)

    def grow_up_to(self, index, old_size, new_size):
        """heap.grow_up_to(index, old_size, new_size), logged. Allocates nothing."""
        r = self._heap.grow_up_to(index, old_size, new_size)
        self._log(_GROW_UP_TO, index, r, old_size, new_size)
        return r

    def clear(self):
        """heap.clear(), logged. Allocates nothing but what heap.clear() does."""
        self._heap.clear()
        self._log(_CLEAR, 0, 0, 0, 0)

    def alloc(self, nbytes, align=1):
        """heap.alloc(nbytes, align), logged; the view is the heap's own."""
        try:
            view = self._heap.alloc(nbytes, align)
        except MemoryError:
            self._log(_ALLOC | 256 | _log2(align) << 16, _NONE, 0, nbytes, 0)
            raise
        self._log(_ALLOC | _log2(align) << 16, self._index(view), 0, nbytes, 0)
        return view

    def free(self, view):
        """heap.free(view), logged."""
        i = self._index(view)
        n = len(view) if type(view) is memoryview else 0
        self._heap.free(view)
        self._log(_FREE, i, 0, n, 0)

    def realloc(self, view, nbytes, align=1):
        """heap.realloc(view, nbytes, align), logged; the view is the heap's own."""
        i = self._index(view)
        n = len(view) if type(view) is memoryview else 0
        try:
            new = self._heap.realloc(view, nbytes, align)
        except MemoryError:
            self._log(_REALLOC | 256 | _log2(align) << 16, i, _NONE, nbytes, n)
            raise
        self._log(_REALLOC | _log2(align) << 16, i, self._index(new), nbytes, n)
        return new

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


def _new(live, ids, start, end):
    # A new id; registered as live at `start` unless the call failed (start None).
    ident = ids[0]
    ids[0] = ident + 1
    if start is not None:
        live[start] = [ident, end, end - start]
    return ident


def _find(live, ids, index):
    # The live allocation holding block `index`: (its start, its entry); the one starting
    # last when a new allocation sits in a hole an earlier partial free left. One the log
    # never saw (made behind the recorder's back) gets a fresh id.
    best = -1
    for start, ent in live.items():
        if best < start <= index < ent[1]:
            best = start
    if best >= 0:
        return best, live[best]
    ent = [ids[0], index + 1, 1]
    ids[0] += 1
    live[index] = ent
    return index, ent
