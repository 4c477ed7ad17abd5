"""Size a heap from data: the smallest L for a recorded trace, next to the worst-case bounds.

    stalloc-plan TRACE --block-size 32 [--json]
    .venv/bin/python tools/plan.py TRACE ...               # the same, in a checkout

TRACE is a trace a board or CPython recorded (lib/stalloc/trace.py, format version 1).
For block size B the planner reports, in blocks of B bytes and in bytes:

- measured: the smallest L such that replaying the trace on Stalloc(L', B) never fails
  for any L' >= L (first fit, the library's own placement, heaptrace.py's replay).
  "Fails" means runs out of memory: an allocation (alloc, allocate_blocks, realloc)
  fails, or a grow_in_place that succeeded when recorded; a grow_in_place that failed
  when recorded may fail again (the program tried in place and had a fallback);
- peak live M: the most blocks allocated at once, and n, the largest request in blocks;
- no reuse: the sum of every request (plus alignment slack), the L from which first fit
  cannot fail an allocation whatever the order of frees (nothing is ever placed past
  it; a grow_in_place can still find its neighbour taken, at any size);
- Robson, first fit: H = M * (1 + ceil(log2 n)), the worst case over every program with
  peak M and largest request n, from o1heap's table (reference/embedded-allocators.md);
- memsys5: N >= M * (1 + log2(n) / 2) - n + 1, SQLite's bound for its power-of-two
  allocator, for comparison (Stalloc does not round sizes to powers of two).

The two Robson-style numbers hold for any program with the same M and n; the measured
one only for this trace (a board program whose pattern changes needs a new recording).
Both bounds assume requests without alignment: an `align` above one block adds up to
align - 1 blocks per request.

Why a binary search is valid. Call a replay on L blocks clean if it fits and no call's
outcome depended on where the heap ends (a realloc, grow_in_place or grow_up_to growing
an allocation whose free tail reaches the end: on a bigger heap it would grow in place
instead of moving, failing or stopping). If the replay on L is clean, the replay on any L' > L
places every allocation at the same index: by induction blocks [0, L) are in the same
state and [L, L') are free; first fit at L chose the lowest index i with i + n <= L, and
every lower candidate j < i has j + n < L, so its fit is decided inside [0, L), the
same as before; frees, shrinks and exact grows touch only [0, L); the edge-dependent
calls were excluded. So clean(L) implies clean(L'): cleanness is monotone and a binary
search finds the smallest clean L. Below it, a replay can still succeed (a realloc that
moves at L may have grown in place at L'), so the planner then walks down from that L
while the replay does not fail: the answer is the smallest L from which every larger
heap succeeds. tests/cpython/test_plan.py checks this against a brute force over every L.
The search starts at the recorded heap (it halves or doubles that until it has one clean
and one unclean size, then bisects), and a replay stops at its first failure or
edge-dependent call, so most replays on too small a heap are short.

What a trace must be. A replay can only stand for the program if the program would have
made the same calls on the bigger heap. It would not have if a request failed when
recorded: the program went on without the memory (gave up, evicted, waited), so the
trace holds what it did on a heap too small for it, and a plan from it can be far too
small. The planner refuses such a trace: one `error:` line on stderr naming how many
requests failed (heaptrace.failed_requests) and how to record one that can be planned,
on a heap big enough that no request fails; the exit status is 4. The failed requests
are every failed allocation (alloc, allocate_blocks, realloc), and each grow_in_place
that failed, or grow_up_to that got less than it asked for, at the recording heap's end
(a bigger heap would have let it grow). A grow stopped by a neighbour is not: an
in-place growth is an attempt the program was written to see fail, the neighbour is
there on every bigger heap that places the same way, and refusing it would refuse
traces that no heap size changes. --allow-failed plans such a trace all the same, its
failed requests as probes (heaptrace.py): for a program whose failed requests fail on
any heap (it asks for more than it needs, then for less). A trace whose recorder dropped
calls (its buffer was full) is a prefix of the program, refused the same way (exit 4,
no override): record it again with a bigger capacity. A file cut off (its header's
records=N is not the number of operation lines) is malformed: exit 2.

On a terminal the planner shows its progress on stderr (one line, rewritten in place,
wiped at the end); elsewhere it prints only the plan. A missing or malformed TRACE (or a
block size Stalloc refuses, --block-size 0 too) is one `error:` line on stderr and exit
status 2, and so is a missing rich (the table needs it; --json does not). When no
Stalloc of at most 65535 blocks holds the trace, the plan is printed with "-" for that
size, one line on stderr says so, and the exit status is 3, so that a script never takes
the plan for a size.
"""

import argparse
import json
import math
import sys

from . import UNFIT, Progress, command, error, need
from . import heaptrace as T

MAX_BLOCKS = 65535  # Stalloc's limit
NO_FIT = 3  # exit status: the plan is printed, but no Stalloc holds the trace


def _blocks(nbytes, B):
    return -(-nbytes // B)


def no_reuse_blocks(trace, B):
    """The sum over the trace of every request in blocks (plus align - 1 for aligned
    ones) and every growth: first fit never places anything past it, so a heap this big
    (up to 65535) never fails. At least 1."""
    total = 0
    for op in trace.ops:
        if op.op in ("alloc", "allocate_blocks", "realloc"):
            total += _blocks(op.nbytes, B) + max(1, _blocks(op.align, B)) - 1
        elif op.op in ("grow_in_place", "grow_up_to"):
            off = op.offset or 0  # the range grown starts this far into the allocation
            total += max(0, _blocks(off + op.nbytes, B) - _blocks(off + op.old, B))
    return max(1, total)


def largest_request(trace, B):
    """n: the largest size, in blocks, any allocation of the trace asks to have."""
    n = 1
    for op in trace.ops:
        if op.op in ("alloc", "allocate_blocks", "realloc"):
            n = max(n, _blocks(op.nbytes, B))
        elif op.op in ("grow_in_place", "grow_up_to"):
            off = op.offset or 0  # the range grown: from block off // B of the allocation
            n = max(n, _blocks(off + op.nbytes, B) - off // B)
    return n


def fits(trace, L, B, progress=None):
    """True when a replay on Stalloc(L, B) never runs out of memory (no `oom_ops`: no
    failed allocation, no grow_in_place failing that succeeded when recorded). progress:
    as heaptrace.replay's."""
    return not T.replay(trace, L, B, stats=False, stop="oom", progress=progress).oom_ops


def clean(trace, L, B):
    """True when a replay on Stalloc(L, B) fits and has no edge-dependent call."""
    s = T.replay(trace, L, B, stats=False, stop="edge")
    return not s.oom_ops and not s.edge_ops


def robson_first_fit(M, n):
    """o1heap's first-fit worst case: M * (1 + ceil(log2 n)) blocks."""
    return M * (1 + math.ceil(math.log2(n)))


def memsys5_bound(M, n):
    """SQLite memsys5's Robson bound: ceil(M * (1 + log2(n) / 2) - n + 1) blocks, at
    least M."""
    return max(M, math.ceil(M * (1 + math.log2(n) / 2) - n + 1))


class Plan:
    """The planner's answer for one trace and block size; counts in blocks.

    blocks: the measured smallest L (None if no Stalloc of at most 65535 blocks fits,
    or a grow_in_place the recording saw succeed fails at every size: its neighbour is
    taken, which happens when replaying at another block size);
    clean_blocks: the smallest clean L found by the binary search; peak (M, the most
    blocks live at once on a heap of clean_blocks: grow_up_to takes what it finds, so
    with it M can pass `blocks`), largest (n), no_reuse, robson, memsys5; replays: how
    many replays it took."""

    def __init__(self, block_size, **kw):
        self.block_size = block_size
        self.__dict__.update(kw)

    def rows(self):
        """(label, blocks, note) rows, in the order the table prints them."""
        return [
            ("measured: smallest L that never fails", self.blocks, "this trace, first fit"),
            ("peak live blocks M", self.peak, "a lower bound for any L"),
            ("largest request n", self.largest, "blocks"),
            ("no reuse: sum of requests", self.no_reuse, "no allocation can fail"),
            ("Robson first fit M(1+ceil(log2 n))", self.robson, "any program with M, n"),
            ("memsys5 M(1+log2(n)/2)-n+1", self.memsys5, "power-of-two allocator"),
        ]

    def as_dict(self):
        d = dict(self.__dict__)
        d["rows"] = [
            {"label": a, "blocks": b, "bytes": None if b is None else b * self.block_size}
            for a, b, _ in self.rows()
        ]
        return d


def plan(trace, block_size, progress=None):
    """Plan a heap for `trace` at `block_size` bytes per block; returns a Plan.

    The search starts at the heap the trace was recorded on (in blocks of block_size),
    halves it or doubles it until one replay is clean and one is not, then bisects
    between them: O(log(answer) + log(recorded / answer) + k) replays, k the steps
    walked below the clean size (usually 1). A replay ends at its first failure (or
    edge-dependent call), so the ones on too small a heap are short. progress: None, or
    a function called with one line of text before each replay, and during a long one
    (every heaptrace.TICK ops). ValueError for a bad block size (from Stalloc). It plans
    any trace, failed requests as probes; the command first asks refusal(), and plans
    none that cannot stand for the program."""
    B = block_size
    replays = [0]
    top = min(no_reuse_blocks(trace, B), MAX_BLOCKS)  # clean by construction, if < 65535
    bad, good = 0, None  # every L <= bad is not clean; `good` is clean (None: none yet)

    said = [""]  # the last line `say` gave, for the ticks of a long replay

    def say(L, why=None):
        replays[0] += 1
        if progress is not None:
            text = "replay %d on %d blocks" % (replays[0], L)
            if why:
                text += " (%s)" % why
            elif good is not None:
                text += ", answer in %d..%d" % (bad + 1, good)
            said[0] = text
            progress(text)

    def tick(k, n):  # during a replay: how far it is
        if k:
            progress("%s: op %d of %d" % (said[0], k, n))

    ticks = None if progress is None else tick

    fit = {}  # L -> whether its replay fits, for the L the search replayed
    peak = []  # M, from a clean replay with stats

    def is_clean(L, stats=False):
        say(L)
        s = T.replay(trace, L, B, stats=stats, stop="edge", progress=ticks)  # clean()
        if s.oom_ops or not s.edge_ops:  # it ran until it failed, or to the end
            fit[L] = not s.oom_ops
        if stats and not s.oom_ops and not s.edge_ops:
            peak.append(s.peak)
        return not s.oom_ops and not s.edge_ops

    # first guess: the recorded heap, which the recording ran on; if it is clean, M is
    # its peak (every clean replay places the same, see the top)
    L = min(top, max(1, _blocks(trace.blocks * trace.block_size, B)))
    if is_clean(L, stats=True):
        good = L
        while good > 1 and not bad:  # halve until a replay is not clean
            L = good // 2
            if is_clean(L):
                good = L
            else:
                bad = L
    else:
        bad = L
        while good is None and bad < MAX_BLOCKS:  # double until one is
            L = min(2 * bad, top) if bad < top else MAX_BLOCKS  # top not clean: never seen
            if is_clean(L):
                good = L
            else:
                bad = L
    best = clean_blocks = None
    if good is not None:
        while bad + 1 < good:  # cleanness is monotone: bisect (bad, good]
            mid = (bad + good) // 2
            if is_clean(mid):
                good = mid
            else:
                bad = mid
        best = clean_blocks = good
        while best > 1:
            if best - 1 not in fit:  # the search's replay there stopped at an edge call
                say(best - 1, "does it fit?")
                fit[best - 1] = fits(trace, best - 1, B, ticks)
            if not fit[best - 1]:
                break
            best -= 1
    if not peak:  # M from a replay where nothing fails: the demand, whatever the placement
        say(clean_blocks or MAX_BLOCKS, "peak use")
        peak.append(T.replay(trace, clean_blocks or MAX_BLOCKS, B, progress=ticks).peak)
    M = max(1, peak[0])
    n = largest_request(trace, B)
    return Plan(
        B,
        blocks=best,
        clean_blocks=clean_blocks,
        peak=M,
        largest=n,
        no_reuse=no_reuse_blocks(trace, B),
        robson=robson_first_fit(M, n),
        memsys5=memsys5_bound(M, n),
        replays=replays[0],
        ops=len(trace.ops),
        dropped=trace.dropped,
    )


def refusal(trace, allow_failed=False):
    """None when the trace can be planned; else one line saying why not and how to
    record one that can: requests failed when recorded (heaptrace.failed_requests;
    not checked with allow_failed) or the recorder dropped calls (the trace is a prefix).
    Replays the trace once if it has a grow that failed or fell short."""
    why = []
    if not allow_failed:
        failed = T.failed_requests(trace)
        if failed:
            grows = sum(trace.ops[k].op.startswith("grow") for k in failed)
            allocs = len(failed) - grows
            kinds = ""
            if grows:  # say what failed when it is not just allocations
                kinds = "%d grow%s stopped by the heap's end" % (grows, "" if grows == 1 else "s")
                if allocs:
                    kinds = "%d allocation%s, %s" % (allocs, "" if allocs == 1 else "s", kinds)
                kinds = " (%s)" % kinds
            bigger = min(MAX_BLOCKS, 4 * trace.blocks)
            hint = (
                "e.g. Stalloc(%d, %d)" % (bigger, trace.block_size)
                if bigger > trace.blocks
                else "with a bigger block size"
            )
            why.append(
                "%d request%s failed when recorded on Stalloc(%d, %d)%s, the first at line %d:"
                " the program went on without the memory, so on a bigger heap it would have"
                " run differently and no heap size can be read from this trace; record it"
                " again on a heap big enough that no request fails (%s), or pass"
                " --allow-failed if these requests fail on any heap"
                % (
                    len(failed),
                    "" if len(failed) == 1 else "s",
                    trace.blocks,
                    trace.block_size,
                    kinds,
                    trace.ops[failed[0]].line,
                    hint,
                )
            )
    note = T.dropped_note(trace)
    if note:
        why.append(note)
    return "; and ".join(why) or None


def _table(p, trace):
    from rich.console import Console
    from rich.table import Table

    t = Table(
        title="heap plan: %d ops, block size %d B (recorded on %d x %d B)"
        % (len(trace.ops), p.block_size, trace.blocks, trace.block_size)
    )
    t.add_column("")
    t.add_column("blocks", justify="right")
    t.add_column("bytes", justify="right")
    t.add_column("note")
    for label, blocks, note in p.rows():
        if blocks is None:
            t.add_row(label, "-", "-", "no heap of <= 65535 blocks never fails")
        else:
            t.add_row(label, str(blocks), str(blocks * p.block_size), note)
    console = Console(width=110)
    console.print(t)


@command
def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Exit status: 0 done, 2 bad input (a missing, malformed or cut-off trace, a "
        "bad option) or a missing extra (one `error:` line on stderr), 3 no Stalloc of at most "
        "%d blocks holds the trace (the plan is printed all the same), 4 the trace cannot be "
        "planned: a request failed when recorded, or the recorder dropped calls (one `error:` "
        "line on stderr saying how to record one that can: on a heap big enough that no "
        "request fails). The table needs rich: pip install rich (the tools extra has it too)."
        % MAX_BLOCKS,
    )
    ap.add_argument("trace", help="a trace file (TraceRecorder.dump output)")
    ap.add_argument("--block-size", type=int, help="B in bytes (default: the recorded one)")
    ap.add_argument("--json", action="store_true", help="print the plan as JSON instead")
    ap.add_argument(
        "--allow-failed",
        action="store_true",
        help="plan a trace whose requests failed when recorded, as probes: only for "
        "requests that fail on any heap",
    )
    args = ap.parse_args(argv)
    if not args.json:
        refused = need("the plan's table (without --json)", "rich")
        if refused:
            return refused
    with Progress(ap.prog) as progress:  # one line on a terminal, nothing otherwise
        progress("reading %s" % args.trace)
        try:
            trace = T.load(args.trace)
            _, B = T.shape(args.trace, trace, False, args.block_size)
        except T.InputError as e:
            progress.wipe()
            return error(e)
        progress("checking %s" % args.trace)
        why = refusal(trace, args.allow_failed)
        if why:  # a plan from it would be a number for another program: none at all
            progress.wipe()
            error("%s: %s" % (args.trace, why))
            return UNFIT
        ops = len(trace.ops)
        p = plan(trace, B, lambda text: progress("%d ops, %s" % (ops, text)))
    if args.json:
        print(json.dumps(p.as_dict(), indent=1))
    else:
        _table(p, trace)
    if p.blocks is None:  # the plan is printed; a script must not read it as a size
        print(
            "%s: no Stalloc of at most %d blocks holds this trace" % (ap.prog, MAX_BLOCKS),
            file=sys.stderr,
        )
        return NO_FIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
