"""Heap traces on the host: parse, replay on the real Stalloc, and record on CPython.

    stalloc-trace TRACE --blocks 64 [--block-size 16] [--at N]
    .venv/bin/python tools/heaptrace.py TRACE ...          # the same, in a checkout

prints what a replay of TRACE on a heap of that shape does: the final map, peak use,
failures, fragmentation. TRACE is the text a board's `TraceRecorder.dump()` wrote
(lib/stalloc/trace.py documents the format, version 1). A missing or malformed TRACE
(one cut off too: the header's records=N is not the number of operation lines), or a
shape Stalloc refuses (--blocks 0 or --block-size 0 too: leave an option out for the
recorded size), is one `error:` line on stderr and exit status 2. A trace whose recorder
dropped calls (its buffer was full) is replayed as the prefix it is, then one `warning:`
line on stderr says so and the exit status is 4. On a terminal a long replay shows a
progress bar on stderr.

Library use (stalloc_tools.plan and stalloc_tools.heapviz build on it):

    trace = parse(text)                  # -> Trace: header fields and a list of Op
    series = replay(trace, 64, 16)       # -> Series: per-op used/free/largest/runs/failures
    trace = record_from(fn, 64, 16)      # fn(recorder) run on CPython, its trace parsed
    text = dumps(trace)                  # back to the text format
    trace = load(path)                   # parse() a file; InputError names it if it is bad
    ks = failed_requests(trace)          # ops that failed as the recording heap was too small

Replay runs every operation through a real `stalloc.Stalloc(blocks, block_size)`, so the
placement is the library's own first fit. Semantics on a heap of another shape:

- byte-API calls (alloc, realloc) are replayed with their byte sizes and alignments, so
  any block size works; integer-API sizes are recorded in bytes too and replayed as
  ceil(bytes / block_size) blocks (exact at the recorded block size or any smaller one;
  with a bigger one, a partial deallocate_blocks rounds outward);
- deallocate_blocks, shrink_in_place, grow_in_place and grow_up_to act at the block
  OFFSET bytes into their allocation as the replay placed it (OFFSET // block_size), so
  a call on what is left after the allocation's head was freed hits the same blocks;
- a call that fails on the replay heap is counted in `failures`; later calls on its id
  are skipped (counted in `skipped`), as the program would never have had it. Failures
  the heap's size is to blame for are also listed in `oom_ops`: every failed allocation
  (alloc, allocate_blocks, realloc), and a grow_in_place that succeeded when recorded (one
  that failed then and fails again is an in-place attempt turning out as it did);
- a call that failed when recorded but succeeds on the replay heap is a probe: an
  allocation or growth is undone at once (the recorded program carried on without it);
  a realloc keeps its new view, since the byte API's later calls do not depend on size.
  What the program would have done with the memory is not in the trace: the planner
  refuses a trace with such failures (failed_requests).
"""

import argparse
import ctypes
import sys

from stalloc import AllocError, Stalloc, TraceRecorder
from stalloc.heap import table

from . import UNFIT, Progress, command, error, warn

VERSION = 1
TICK = 8192  # replay(progress=fn) calls fn every TICK ops

# op -> the fields after the id, in order; `at` may be '-' (failed)
FIELDS = {
    "alloc": ("nbytes", "align", "at"),
    "free": ("nbytes",),
    "realloc": ("nbytes", "align", "old", "at"),
    "allocate_blocks": ("nbytes", "align", "at"),
    "deallocate_blocks": ("offset", "nbytes"),
    "shrink_in_place": ("offset", "old", "nbytes"),
    "grow_in_place": ("offset", "old", "nbytes", "at"),
    "grow_up_to": ("offset", "old", "nbytes", "reached"),
    "clear": (),
}


# ops that had no OFFSET in the format's first draft (parse() names it in the error)
_NO_OFFSET = ("shrink_in_place", "grow_in_place", "grow_up_to")


class Op:
    """One operation of a trace. Sizes in bytes; `at` None when the call failed.

    Fields (absent ones are None): op (the name), id, nbytes (requested size: alloc,
    realloc, allocate_blocks; the new size: shrink, grow; the size freed: free,
    deallocate_blocks), old (previous size), align, at (index placed at), offset (where
    the range starts inside the allocation, in bytes from its start: deallocate_blocks,
    shrink_in_place, grow_in_place, grow_up_to), reached (grow_up_to's result), line
    (1-based, in the text).
    """

    __slots__ = ("align", "at", "id", "line", "nbytes", "offset", "old", "op", "reached")

    def __init__(self, op, id=None, line=0, **fields):
        self.op = op
        self.id = id
        self.line = line
        for name in ("nbytes", "old", "align", "at", "offset", "reached"):
            setattr(self, name, fields.get(name))

    @property
    def failed(self):
        """True when the call failed when recorded (AllocError)."""
        return "at" in FIELDS[self.op] and self.at is None

    def text(self):
        """The op as one line of the text format (no newline)."""
        if self.op == "clear":
            return "clear"
        parts = [self.op, str(self.id)]
        for name in FIELDS[self.op]:
            value = getattr(self, name)
            parts.append("-" if value is None else str(value))
        return " ".join(parts)

    def __repr__(self):
        return "Op(%s)" % self.text()

    def __eq__(self, other):
        return isinstance(other, Op) and self.text() == other.text()


class Trace:
    """A parsed trace: blocks, block_size (the recording heap's shape), records, dropped
    (from the header) and ops, a list of Op."""

    def __init__(self, blocks, block_size, ops, records=None, dropped=0, version=VERSION):
        self.version = version
        self.blocks = blocks
        self.block_size = block_size
        self.ops = list(ops)
        self.records = len(self.ops) if records is None else records
        self.dropped = dropped

    def __len__(self):
        return len(self.ops)

    def __repr__(self):
        return "<Trace %d ops, recorded on %d x %d B, %d dropped>" % (
            len(self.ops),
            self.blocks,
            self.block_size,
            self.dropped,
        )


def parse(text):
    """Parse the text format (version 1) into a Trace. ValueError, naming the line, for
    a missing or unknown header (or one whose blocks or block_size is below 1), an
    unknown op, a wrong field count or a bad number; and, when the header has records=N
    (dump() writes it), for a file cut off or added to: N is not the number of operation
    lines, or the last one has no newline (it may have lost digits, which no field count
    would show).
    shrink_in_place, grow_in_place and grow_up_to without their OFFSET (the format's
    first draft) are rejected too: their offset cannot be told, and 0 would replay a
    call on an allocation whose head was freed at the wrong blocks."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# stalloc-trace "):
        raise ValueError("line 1: not a stalloc trace (no '# stalloc-trace' header)")
    head = lines[0].split()
    try:
        version = int(head[2])
    except (IndexError, ValueError):
        raise ValueError("line 1: bad version in %r" % lines[0]) from None
    if version != VERSION:
        raise ValueError(
            "line 1: trace format version %d, this tool reads %d" % (version, VERSION)
        )
    meta = {}
    for word in head[3:]:
        key, _, value = word.partition("=")
        try:
            meta[key] = int(value)
        except ValueError:
            raise ValueError("line 1: bad header field %r" % word) from None
    if "blocks" not in meta or "block_size" not in meta:
        raise ValueError("line 1: the header needs blocks= and block_size=")
    for key in ("blocks", "block_size"):
        if meta[key] < 1:
            raise ValueError("line 1: %s=%d in the header: no heap has that" % (key, meta[key]))
    # dump() writes exactly `records` operation lines, each ending in a newline: check
    # that first, so that a file cut off inside a line is named for what it is (a number
    # that lost its last digits would parse)
    records = meta.get("records")
    count = sum(1 for line in lines[1:] if line.strip() and not line.lstrip().startswith("#"))
    if records is not None and (records != count or (count and not text.endswith("\n"))):
        raise ValueError(
            "line 1: the header says records=%d, the file holds %d operation line%s%s: it"
            " was %s; copy the whole dump again"
            % (
                records,
                count,
                "" if count == 1 else "s",
                "" if text.endswith("\n") else ", the last one without its newline",
                "added to" if count > records else "cut off",
            )
        )
    ops = []
    for n, line in enumerate(lines[1:], 2):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        name = words[0]
        if name not in FIELDS:
            raise ValueError("line %d: unknown operation %r" % (n, name))
        if name == "clear":
            if len(words) != 1:
                raise ValueError("line %d: clear takes no fields" % n)
            ops.append(Op("clear", line=n))
            continue
        names = FIELDS[name]
        if name in _NO_OFFSET and len(words) == 1 + len(names):
            raise ValueError(
                "line %d: %s needs %d fields (id %s), got %d: a trace written before"
                " %s had an OFFSET; record it again"
                % (n, name, 1 + len(names), " ".join(names), len(words) - 1, name)
            )
        if len(words) != 2 + len(names):
            raise ValueError(
                "line %d: %s needs %d fields (id %s), got %d"
                % (n, name, 1 + len(names), " ".join(names), len(words) - 1)
            )
        try:
            ident = int(words[1])
            values = {}
            for field, word in zip(names, words[2:], strict=True):
                if word == "-" and field == "at":
                    values[field] = None
                else:
                    values[field] = int(word)
                    if values[field] < 0:
                        raise ValueError
        except ValueError:
            raise ValueError("line %d: bad number in %r" % (n, line)) from None
        ops.append(Op(name, ident, n, **values))
    return Trace(
        meta["blocks"],
        meta["block_size"],
        ops,
        records,
        meta.get("dropped", 0),
        version,
    )


class InputError(Exception):
    """A file given to a host tool that cannot be used. str() is one line that names the
    file and says what is wrong: the tools print it after "error: " and exit with 2."""


def read_text(path):
    """The text of the file at `path` (UTF-8). InputError, naming it, when it is missing,
    unreadable, a directory or not text."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror or e)) from None
    except UnicodeDecodeError:
        raise InputError("%s: not a text file (it is not UTF-8)" % path) from None


def load(path):
    """parse() the trace file at `path`. InputError, naming the file and (for a malformed
    trace) the line, when it cannot be read or parsed."""
    text = read_text(path)
    try:
        return parse(text)
    except ValueError as e:
        raise InputError("%s: %s" % (path, e)) from None


def shape(path, trace, blocks=None, block_size=None):
    """(L, B) to replay the trace read from `path` on: the given blocks and block_size,
    each defaulting (None) to the recorded one; blocks=False checks only B (for the
    planner, which searches L). InputError, naming the file and where each number came
    from (--blocks, --block-size or recorded), when Stalloc refuses the shape: 0 or a
    negative number too, which is not taken for "the recorded one"."""
    L = trace.blocks if blocks is None else blocks
    B = trace.block_size if block_size is None else block_size
    try:
        Stalloc(1 if blocks is False else L, B)
    except ValueError as e:
        where = "block size %d (%s)" % (B, "recorded" if block_size is None else "--block-size")
        if blocks is not False:
            where = "%d blocks (%s) of %s" % (
                L,
                "recorded" if blocks is None else "--blocks",
                where,
            )
        raise InputError("%s: cannot replay on %s: %s" % (path, where, e)) from None
    return L, B


def failed_requests(trace):
    """The indexes of the ops that failed when recorded because the recording heap was
    too small: every failed allocation (alloc, allocate_blocks, realloc), and each
    grow_in_place that failed, or grow_up_to that got less than it asked for, at the
    heap's end (every block from the allocation to the end was free: a bigger heap would
    have let it grow). A grow stopped by a neighbour is not one: a bigger heap placing as
    the recording did has that neighbour there too, and the program was written to go on
    without the growth. The grows are told apart by one replay on the recorded shape,
    made only when the trace has such a grow (none is counted if that shape is not a
    Stalloc's)."""
    ops = trace.ops
    found = [k for k, op in enumerate(ops) if op.failed and op.op != "grow_in_place"]
    grows = [k for k, op in enumerate(ops) if _short(op)]
    if grows:
        try:  # on the recorded shape `edge_ops` are the calls the heap's end decided
            edge = replay(trace, trace.blocks, trace.block_size, stats=False).edge_ops
        except ValueError:
            edge = ()
        found = sorted(set(found).union(set(grows).intersection(edge)))
    return found


def _short(op):
    # a grow that did not get all it asked for
    if op.op == "grow_in_place":
        return op.failed
    return op.op == "grow_up_to" and op.reached < op.nbytes


def dropped_note(trace):
    """None, or one sentence saying that the trace is a prefix of what the program did:
    the recorder's buffer was full and it dropped (counted) the later calls."""
    if not trace.dropped:
        return None
    return (
        "the recorder dropped the %d calls after these %d (its buffer was full): this is a"
        " prefix of the program; record it again with TraceRecorder(heap, capacity=%d) or"
        " more" % (trace.dropped, len(trace.ops), len(trace.ops) + trace.dropped)
    )


def dumps(trace):
    """A Trace back as text (the format parse() reads)."""
    out = [
        "# stalloc-trace %d blocks=%d block_size=%d records=%d dropped=%d"
        % (VERSION, trace.blocks, trace.block_size, len(trace.ops), trace.dropped)
    ]
    out.extend(op.text() for op in trace.ops)
    return "\n".join(out) + "\n"


def record_from(fn, blocks, block_size, capacity=4096):
    """Run fn(recorder) on a fresh TraceRecorder(Stalloc(blocks, block_size), capacity)
    and return its trace, parsed. AllocErrors fn lets escape end the recording (they
    are logged)."""
    rec = TraceRecorder(_replay_heap(blocks, block_size), capacity)
    try:
        fn(rec)
    except AllocError:
        pass
    parts = []
    rec.dump(parts.append)
    return parse("".join(parts))


class Series:
    """What a replay saw, one entry per op in each list (the state after the op):
    used, free, largest (largest free run), runs (number of free runs), failures
    (cumulative), placed (the block index the op placed its allocation at, or None).
    Also blocks, block_size, ops (the op names), failed_ops (indexes of the ops that
    failed), oom_ops (those the heap's size is to blame for, see the module docstring),
    skipped (ops on ids the replay never had), edge_ops (ops whose outcome depended on
    where the heap ends: see plan.py), peak (highest used), map (the heap
    map, '#'/'.', at the end or after op `map_at`) and maps ({op index: map} for
    every index in map_at when it is a collection)."""

    def __init__(self, blocks, block_size):
        self.blocks = blocks
        self.block_size = block_size
        self.ops = []
        self.used = []
        self.free = []
        self.largest = []
        self.runs = []
        self.failures = []
        self.placed = []
        self.failed_ops = []
        self.oom_ops = []
        self.skipped = 0
        self.edge_ops = []
        self.peak = 0
        self.map = ""
        self.maps = {}

    def __len__(self):
        return len(self.ops)


def _replay_heap(blocks, block_size):
    # A Stalloc whose byte API aligns as if its first block lay on a 64 KiB boundary (it
    # aligns addresses: heap.py), so that a replay places every allocation the same way
    # wherever the host put the heap. A trace recorded where the heap's start was not so
    # aligned places alignments past B differently (the trace does not keep where it was).
    h = Stalloc(blocks, block_size)
    vt = table(h, 0)
    vt[1] &= 0xFFFF
    h._vt = vt
    return h


class _Replay:
    # The replay heap and what each id holds on it.
    def __init__(self, blocks, block_size):
        self.heap = _replay_heap(blocks, block_size)
        self.B = block_size
        self.views = {}  # id -> memoryview (byte API)
        self.base = {}  # id -> first block (integer API)
        self.held = {}  # id -> set of blocks it holds (integer API)
        self.start = _address(self.heap.memory)

    def blocks_for(self, nbytes):
        return -(-nbytes // self.B)

    def index(self, view):
        # block index of a view of the replay heap
        return (_address(view) - self.start) // self.B

    def extent(self, ident, at):
        # blocks `ident` holds contiguously from block `at` on
        held = self.held[ident]
        n = 0
        while at + n in held:
            n += 1
        return n

    def tail_free_to_end(self, start):
        # True if every block from `start` to the heap's end is free
        L = self.heap.blocks
        if start >= L:
            return True
        return any(i == start and i + n == L for i, n in self.heap.free_runs())

    def release(self, ident, blocks):
        # give back the blocks of `ident` in `blocks`, run by run
        held = self.held[ident]
        todo = held.intersection(blocks)
        if todo:
            first = min(todo)
            if max(todo) - first + 1 == len(todo):  # one run: the usual case
                self.heap.deallocate_blocks(first, len(todo))
            else:
                todo = sorted(todo)
                k = 0
                while k < len(todo):
                    j = k
                    while j + 1 < len(todo) and todo[j + 1] == todo[j] + 1:
                        j += 1
                    self.heap.deallocate_blocks(todo[k], j - k + 1)
                    k = j + 1
            held.difference_update(todo)
        if not held:
            del self.held[ident]
            del self.base[ident]


def _address(view):
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def _step(r, op, k, series):
    # Run one op on the replay heap; return the index it placed at (or None). Counts
    # failures, skips and edge-sensitive ops in `series`.
    heap = r.heap
    name = op.op
    if name == "clear":
        heap.clear()
        r.views.clear()
        r.base.clear()
        r.held.clear()
        return None
    ident = op.id
    if name in ("alloc", "allocate_blocks"):
        try:
            if name == "alloc":
                view = heap.alloc(op.nbytes, op.align)
                at = r.index(view)
            else:
                n = r.blocks_for(op.nbytes)
                at = heap.allocate_blocks(n, max(1, r.blocks_for(op.align)))
        except AllocError:
            series.failed_ops.append(k)
            series.oom_ops.append(k)
            return None
        if op.failed:  # a probe: the recorded program never had it
            if name == "alloc":
                heap.free(view)
            else:
                heap.deallocate_blocks(at, n)
        elif name == "alloc":
            r.views[ident] = view
        else:
            r.base[ident] = at
            r.held[ident] = set(range(at, at + n))
        return at
    if name in ("free", "realloc"):
        view = r.views.get(ident)
        if view is None:
            series.skipped += 1
            return None
        if name == "free":
            heap.free(r.views.pop(ident))
            return None
        at = r.index(view)
        old = r.blocks_for(len(view))
        want = r.blocks_for(op.nbytes)
        if at + want > heap.blocks and r.tail_free_to_end(at + old):
            series.edge_ops.append(k)  # a bigger heap would let it grow in place
        try:
            r.views[ident] = heap.realloc(view, op.nbytes, op.align)
        except AllocError:
            series.failed_ops.append(k)
            series.oom_ops.append(k)
            return None
        return r.index(r.views[ident])
    if ident not in r.held:
        series.skipped += 1
        return None
    base = r.base[ident]
    # the call's range starts OFFSET bytes into the allocation: block `at` here
    at = base + op.offset // r.B
    if name == "deallocate_blocks":
        r.release(ident, range(at, base + r.blocks_for(op.offset + op.nbytes)))
        return None
    n = r.extent(ident, at)  # the blocks held from there on, in one run
    if name == "shrink_in_place":
        cut = base + r.blocks_for(op.offset + op.nbytes)  # the first block given back
        end = max(at + n, base + r.blocks_for(op.offset + op.old))
        if at < cut < at + n == end:
            heap.shrink_in_place(at, n, cut - at)
            r.held[ident].difference_update(range(cut, at + n))
        else:
            r.release(ident, range(cut, end))
        return None
    if not n:  # the block it grows from was freed: nothing to grow
        series.skipped += 1
        return None
    want = base + r.blocks_for(op.offset + op.nbytes) - at
    if want <= n:
        return at if name == "grow_in_place" else None
    if at + want > heap.blocks and r.tail_free_to_end(at + n):
        series.edge_ops.append(k)  # a bigger heap would let it grow (further) in place
    if name == "grow_up_to":
        got = heap.grow_up_to(at, n, want)
        r.held[ident].update(range(at + n, at + got))
        return None
    try:
        heap.grow_in_place(at, n, want)
    except AllocError:
        series.failed_ops.append(k)
        if not op.failed:
            series.oom_ops.append(k)
        return None
    if op.failed:  # a probe: undo the growth the recorded program did not get
        heap.shrink_in_place(at, want, n)
    else:
        r.held[ident].update(range(at + n, at + want))
    return at


def replay(
    trace, blocks, block_size, map_at=None, check=False, stats=True, stop=None, progress=None
):
    """Replay `trace` on a fresh Stalloc(blocks, block_size); return a Series.

    map_at: None (Series.map is the map at the end), an op index (the map after that
    op) or a collection of op indexes (Series.maps holds each; map is the end's).
    check: run heap.check() after every op (slow; for tests). stats=False leaves the
    per-op lists and the maps empty (what the planner needs is in failed_ops, oom_ops,
    edge_ops and skipped). stop: None (replay every op), "oom" (end the replay after the
    first op that lands in oom_ops) or "edge" (... in oom_ops or edge_ops): the planner's
    yes-or-no questions are answered there, and the ops after it are not replayed.
    progress: None, or fn(done, total) called before op 0 and every TICK ops (a progress
    bar). ValueError from Stalloc for a bad shape. O(ops * F) plus O(L) per map.
    """
    r = _Replay(blocks, block_size)
    heap = r.heap
    series = Series(blocks, block_size)
    wanted = set()
    if map_at is not None:
        wanted = {map_at} if isinstance(map_at, int) else set(map_at)
    if stop not in (None, "oom", "edge"):
        raise ValueError("stop must be None, 'oom' or 'edge', got %r" % (stop,))
    oom, edge = series.oom_ops, (series.edge_ops if stop == "edge" else ())
    total = len(trace.ops)
    for k, op in enumerate(trace.ops):
        if progress is not None and not k % TICK:
            progress(k, total)
        placed = _step(r, op, k, series)
        if check:
            heap.check()
        if stats:
            s = heap.stats()
            series.ops.append(op.op)
            series.placed.append(placed)
            series.used.append(s.used)
            series.free.append(s.free)
            series.largest.append(s.largest_free_run)
            series.runs.append(s.free_runs)
            series.failures.append(len(series.failed_ops))
            series.peak = max(series.peak, s.used)
            if k in wanted:
                series.maps[k] = heap.map(blocks)
        if stop and (oom or edge):
            break
    if not stats:
        return series
    series.map = heap.map(blocks)
    if isinstance(map_at, int) and map_at in series.maps:
        series.map = series.maps[map_at]
    return series


@command
def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Replay a stalloc trace on the real Stalloc and summarise it.",
        epilog="Exit status: 0 done, 2 bad input: a missing, malformed or cut-off trace, a "
        "bad option (one `error:` line on stderr), 4 the recorder dropped calls: the "
        "summary is of the prefix it kept (one `warning:` line on stderr).",
    )
    ap.add_argument("trace", help="a trace file (TraceRecorder.dump output)")
    ap.add_argument("--blocks", type=int, help="L of the replay heap (default: recorded)")
    ap.add_argument("--block-size", type=int, help="B of the replay heap (default: recorded)")
    ap.add_argument("--at", type=int, help="show the map after this op instead of the end")
    args = ap.parse_args(argv)
    with Progress(ap.prog) as show:
        show("reading %s" % args.trace)
        try:
            trace = load(args.trace)
            L, B = shape(args.trace, trace, args.blocks, args.block_size)
            if args.at is not None and not 0 <= args.at < len(trace.ops):
                raise InputError(
                    "%s: --at %d: the trace has %d ops (0..%d)"
                    % (args.trace, args.at, len(trace.ops), len(trace.ops) - 1)
                )
        except InputError as e:
            show.wipe()
            return error(e)
        s = replay(trace, L, B, map_at=args.at, progress=lambda k, n: show.bar(k, n, "replay"))
    print("%r" % trace)
    print("replayed on %d blocks of %d bytes: %d ops" % (L, B, len(s)))
    print("peak used %d blocks, %d failures, %d skipped" % (s.peak, len(s.failed_ops), s.skipped))
    if len(s):
        print(
            "end: used %d, free %d in %d runs, largest free run %d"
            % (s.used[-1], s.free[-1], s.runs[-1], s.largest[-1])
        )
    print(s.map)
    note = dropped_note(trace)
    if note:  # a replay of part of the program: a script must not take it for the whole
        warn("%s: %s" % (args.trace, note))
        return UNFIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
