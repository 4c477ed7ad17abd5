# tools/heaptrace.py (parse, dumps, replay, record_from) and tools/plan.py (the smallest heap
# for a trace, the Robson-style bounds), on CPython. The planner is checked on traces whose
# answer is known by construction and against a brute force over every heap size.
import json
import os
import random
import subprocess
import sys

import pytest
from _host import refused  # tests/cpython/_host.py
from hypothesis import given, settings
from hypothesis import strategies as st

import stalloc
from stalloc import AllocError

import heaptrace as T  # tools/heaptrace.py (tests/conftest.py puts tools/ on sys.path)
import plan as P  # tools/plan.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _trace(B, *lines):
    return T.parse("# stalloc-trace 1 blocks=999 block_size=%d\n%s\n" % (B, "\n".join(lines)))


def _brute(trace, B):
    """The smallest L such that every L' in [L, no_reuse] replays without running out of
    memory; None when even the no-reuse size does not fit (a grow_in_place whose
    neighbour is taken at this block size: no heap size helps then)."""
    top = P.no_reuse_blocks(trace, B)
    if not P.fits(trace, top, B):
        return None
    best = top
    while best > 1 and P.fits(trace, best - 1, B):
        best -= 1
    return best


# -- the format ----------------------------------------------------------------------------


def test_parse_reads_every_op_and_dumps_writes_it_back():
    text = (
        "# stalloc-trace 1 blocks=64 block_size=16 records=9 dropped=2\n"
        "# a comment\n"
        "alloc 0 100 8 0\n"
        "realloc 0 300 1 100 -\n"
        "free 0 100\n"
        "allocate_blocks 1 64 32 0\n"
        "shrink_in_place 1 0 64 32\n"
        "grow_in_place 1 0 32 48 0\n"
        "grow_up_to 1 16 48 96 80\n"
        "deallocate_blocks 1 16 64\n"
        "clear\n"
    )
    t = T.parse(text)
    assert (t.version, t.blocks, t.block_size, t.records, t.dropped) == (1, 64, 16, 9, 2)
    assert [op.op for op in t.ops] == [
        "alloc",
        "realloc",
        "free",
        "allocate_blocks",
        "shrink_in_place",
        "grow_in_place",
        "grow_up_to",
        "deallocate_blocks",
        "clear",
    ]
    a, r = t.ops[0], t.ops[1]
    assert (a.id, a.nbytes, a.align, a.at, a.failed, a.line) == (0, 100, 8, 0, False, 3)
    assert (r.nbytes, r.old, r.at, r.failed) == (300, 100, None, True)
    d = t.ops[7]
    assert (d.offset, d.nbytes) == (16, 64)
    assert (t.ops[6].offset, t.ops[6].old, t.ops[6].nbytes, t.ops[6].reached) == (16, 48, 96, 80)
    assert (t.ops[4].offset, t.ops[5].offset, t.ops[5].at) == (0, 0, 0)
    again = T.parse(T.dumps(t))
    assert again.ops == t.ops and again.dropped == 2


@pytest.mark.parametrize(
    "text, where",
    [
        ("", "line 1"),
        ("alloc 0 1 1 0\n", "line 1"),
        ("# stalloc-trace 2 blocks=4 block_size=4\n", "version 2"),
        ("# stalloc-trace 1 blocks=4\n", "block_size"),
        ("# stalloc-trace 1 blocks=4 block_size=4\nmalloc 0 4 1 0\n", "line 2"),
        ("# stalloc-trace 1 blocks=4 block_size=4\nalloc 0 4 1\n", "line 2"),
        ("# stalloc-trace 1 blocks=4 block_size=4\n\nfree 0 x\n", "line 3"),
        ("# stalloc-trace 1 blocks=4 block_size=4\nfree 0 -4\n", "line 2"),
        ("# stalloc-trace 1 blocks=4 block_size=4\nfree 0 -\n", "line 2"),
        ("# stalloc-trace 1 blocks=4 block_size=4\nclear 3\n", "line 2"),
        ("# stalloc-trace 1 blocks=4 block_size=4\ngrow_up_to 0 0 4 8\n", "line 2"),
    ],
)
def test_parse_names_the_bad_line(text, where):
    with pytest.raises(ValueError, match=where):
        T.parse(text)


def test_parse_rejects_the_first_draft_without_offsets_and_says_so():
    for line in ("shrink_in_place 0 64 32", "grow_in_place 0 32 48 0", "grow_up_to 0 4 8 8"):
        with pytest.raises(ValueError, match=r"line 2: .* needs .* OFFSET; record it again"):
            T.parse("# stalloc-trace 1 blocks=4 block_size=4\n%s\n" % line)


# -- replay ----------------------------------------------------------------------------------

# A program: a list of actions on a recorder, drawn by hypothesis. Sizes in bytes at B=4.
ACTION = st.one_of(
    st.tuples(st.just("alloc"), st.integers(1, 24), st.sampled_from([1, 4, 8, 16])),
    st.tuples(st.just("blocks"), st.integers(1, 6), st.sampled_from([1, 2, 4])),
    st.tuples(st.just("free"), st.integers(0, 99)),
    st.tuples(st.just("realloc"), st.integers(0, 99), st.integers(1, 32)),
    st.tuples(st.just("shrink"), st.integers(0, 99)),
    st.tuples(st.just("grow"), st.integers(0, 99), st.integers(1, 3)),
    st.tuples(st.just("grow_up_to"), st.integers(0, 99), st.integers(1, 4)),
    st.tuples(st.just("part"), st.integers(0, 99)),
    st.tuples(st.just("head"), st.integers(0, 99)),
)


def _run(actions):
    """A function recording `actions` on a recorder; AllocErrors are part of the program."""

    def program(rec):
        views, blocks = [], []  # blocks: [index, size]
        for act in actions:
            try:
                if act[0] == "alloc":
                    views.append(rec.alloc(act[1], act[2]))
                elif act[0] == "blocks":
                    blocks.append([rec.allocate_blocks(act[1], act[2]), act[1]])
                elif act[0] == "free" and views:
                    rec.free(views.pop(act[1] % len(views)))
                elif act[0] == "realloc" and views:
                    k = act[1] % len(views)
                    views[k] = rec.realloc(views[k], act[2])
                elif act[0] == "shrink" and blocks:
                    b = blocks[act[1] % len(blocks)]
                    if b[1] > 1:
                        rec.shrink_in_place(b[0], b[1], b[1] - 1)
                        b[1] -= 1
                elif act[0] == "grow" and blocks:
                    b = blocks[act[1] % len(blocks)]
                    rec.grow_in_place(b[0], b[1], b[1] + act[2])
                    b[1] += act[2]
                elif act[0] == "grow_up_to" and blocks:
                    b = blocks[act[1] % len(blocks)]
                    b[1] = rec.grow_up_to(b[0], b[1], b[1] + act[2])
                elif act[0] == "part" and blocks:
                    b = blocks.pop(act[1] % len(blocks))
                    if b[1] > 2:  # free the middle block, then the two ends
                        rec.deallocate_blocks(b[0] + 1, 1)
                        rec.deallocate_blocks(b[0] + 2, b[1] - 2)
                        rec.deallocate_blocks(b[0], 1)
                    else:
                        rec.deallocate_blocks(b[0], b[1])
                elif act[0] == "head" and blocks:
                    b = blocks[act[1] % len(blocks)]
                    if b[1] > 1:  # free its first block: the rest is shrunk, grown, freed
                        rec.deallocate_blocks(b[0], 1)  # at an offset from then on
                        b[0] += 1
                        b[1] -= 1
            except AllocError:
                pass

    return program


@settings(max_examples=60, deadline=None)
@given(st.lists(ACTION, max_size=40), st.sampled_from([12, 24, 48]))
def test_a_replay_on_the_recorded_shape_places_and_fails_exactly_as_recorded(actions, L):
    trace = T.record_from(_run(actions), L, 4)
    s = T.replay(trace, L, 4, check=True)
    for k, op in enumerate(trace.ops):
        if op.op in ("alloc", "allocate_blocks", "realloc", "grow_in_place"):
            assert s.placed[k] == op.at, (k, op)
            assert (k in s.failed_ops) == op.failed, (k, op)
    growing = ("realloc", "grow_in_place", "grow_up_to")
    assert not s.edge_ops or any(op.op in growing for op in trace.ops)
    assert set(s.oom_ops) <= set(s.failed_ops)
    assert s.skipped == 0
    if trace.ops:
        assert s.failures[-1] == len(s.failed_ops)


def test_record_from_and_replay_series_count_what_happened():
    def program(rec):
        a = rec.alloc(64)  # 4 blocks of 16
        b = rec.allocate_blocks(2)
        rec.free(a)
        rec.alloc(1000)  # fails
        rec.deallocate_blocks(b, 2)

    trace = T.record_from(program, 8, 16)
    assert [op.text() for op in trace.ops] == [
        "alloc 0 64 1 0",
        "allocate_blocks 1 32 16 4",
        "free 0 64",
        "alloc 2 1000 1 -",
    ]
    s = T.replay(trace, 8, 16, map_at=[0, 1])
    assert s.used == [4, 6, 2, 2] and s.free == [4, 2, 6, 6]
    assert s.largest == [4, 2, 4, 4] and s.runs == [1, 1, 2, 2]
    assert s.failures == [0, 0, 0, 1] and s.failed_ops == [3] and s.peak == 6
    assert s.maps == {0: "####....", 1: "######.."} and s.map == "....##.."
    s = T.replay(trace, 8, 16, map_at=1)
    assert s.map == "######.."


def test_a_new_allocation_in_a_freed_head_keeps_both_ids_apart():
    def program(rec):
        assert rec.allocate_blocks(4) == 0  # id 0
        rec.deallocate_blocks(0, 2)
        assert rec.allocate_blocks(2) == 0  # id 1, in id 0's freed head
        rec.deallocate_blocks(2, 2)  # the rest of id 0
        rec.deallocate_blocks(0, 2)  # id 1
        assert rec.is_empty()

    trace = T.record_from(program, 8, 4)
    assert [op.text() for op in trace.ops][3:] == [
        "deallocate_blocks 0 8 8",
        "deallocate_blocks 1 0 8",
    ]
    s = T.replay(trace, 8, 4, check=True)
    assert s.skipped == 0 and s.used == [4, 2, 4, 2, 0] and s.map == "........"


def test_shrink_and_grow_after_a_freed_head_replay_at_their_offset():
    def program(rec):
        i = rec.allocate_blocks(4)  # 0..3
        rec.deallocate_blocks(i, 2)  # 2..3 left
        rec.shrink_in_place(i + 2, 2, 1)  # 2
        rec.grow_in_place(i + 2, 1, 3)  # 2..4
        assert rec.grow_up_to(i + 2, 3, 4) == 4  # 2..5
        rec.deallocate_blocks(i + 2, 4)

    trace = T.record_from(program, 8, 8)
    assert [op.text() for op in trace.ops][2:] == [
        "shrink_in_place 0 16 16 8",
        "grow_in_place 0 16 8 24 2",
        "grow_up_to 0 16 24 32 32",
        "deallocate_blocks 0 16 32",
    ]
    s = T.replay(trace, 8, 8, check=True)
    assert s.skipped == 0 and not s.failed_ops
    assert s.used == [4, 2, 1, 3, 4, 0]
    assert s.placed[3] == 2
    s = T.replay(trace, 16, 4, check=True)  # a smaller block size: the same, in halves
    assert s.skipped == 0 and s.used == [8, 4, 2, 6, 8, 0] and s.placed[3] == 4
    s = T.replay(trace, 4, 16, check=True)  # a bigger one: rounded outward, never skipped
    assert s.skipped == 0 and s.used[-1] == 0


def test_a_replay_on_a_smaller_heap_skips_what_it_never_had_and_probes_recorded_failures():
    trace = _trace(
        16,
        "alloc 0 64 1 0",
        "alloc 1 64 1 4",  # does not fit 6 blocks: fails, and so id 1 never exists
        "realloc 1 128 1 64 4",
        "free 1 128",
        "alloc 2 16 1 -",  # failed when recorded; fits here: a probe, undone at once
        "free 0 64",
    )
    s = T.replay(trace, 6, 16)
    assert s.failed_ops == [1] and s.skipped == 2
    assert s.used == [4, 4, 4, 4, 4, 0]
    assert s.placed[4] == 4  # the probe did fit, at block 4


def test_a_bigger_block_size_rounds_integer_sizes_up():
    trace = _trace(
        16,
        "allocate_blocks 0 48 16 0",  # 3 blocks of 16 = 2 blocks of 32
        "grow_in_place 0 0 48 64 0",  # 4 of 16 = 2 of 32: nothing to do
        "grow_in_place 0 0 64 96 0",  # 6 of 16 = 3 of 32
        "shrink_in_place 0 0 96 16",  # 1 block
        "deallocate_blocks 0 0 16",
    )
    s = T.replay(trace, 8, 32, check=True)
    assert s.used == [2, 2, 3, 1, 0] and not s.failed_ops


# -- the planner: answers known by construction ------------------------------------------------


@pytest.mark.parametrize("sizes", [[1], [3, 1, 4, 1, 5], [7] * 9, [1, 2, 3, 4, 5, 6, 7, 8]])
def test_without_frees_the_answer_is_the_total(sizes):
    trace = _trace(8, *("alloc %d %d 1 0" % (k, 8 * n) for k, n in enumerate(sizes)))
    p = P.plan(trace, 8)
    assert p.blocks == sum(sizes) == p.peak == p.no_reuse
    assert p.largest == max(sizes)


@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_one_block_holes_force_a_two_block_request_to_the_end(n):
    # a1 b1 a2 b2 ... an bn, free every a: n holes of one block; then a 2-block request
    # fits no hole, so first fit needs 2n + 2 blocks although only n + 2 are ever live
    # at the end (peak 2n).
    lines = []
    for k in range(n):
        lines += ["alloc %d 4 1 0" % (2 * k), "alloc %d 4 1 0" % (2 * k + 1)]
    lines += ["free %d 4" % (2 * k) for k in range(n)]
    lines += ["alloc %d 8 1 0" % (2 * n)]
    p = P.plan(_trace(4, *lines), 4)
    assert p.blocks == 2 * n + 2
    assert p.peak == max(2 * n, n + 2)
    assert P.fits(_trace(4, *lines), 2 * n + 2, 4)
    assert not P.fits(_trace(4, *lines), 2 * n + 1, 4)


def test_a_hole_is_reused_so_the_answer_is_the_peak():
    # A(4) B(2), free A, C(3) goes into A's hole: 6 blocks, never 9
    trace = _trace(16, "alloc 0 64 1 0", "alloc 1 32 1 4", "free 0 64", "alloc 2 48 1 0")
    p = P.plan(trace, 16)
    assert p.blocks == 6 == p.peak and p.no_reuse == 9


def test_alignment_counts():
    # one block, then 4 blocks at a 4-block boundary: 1..3 stay empty, L = 8
    trace = _trace(16, "alloc 0 16 1 0", "alloc 1 64 64 4")
    assert P.plan(trace, 16).blocks == 8
    assert P.plan(trace, 64).blocks == 2  # at B = 64 both are one block, any index is aligned


def test_a_realloc_that_must_grow_in_place():
    # A(2) B(2), free A, B grows to 4: moving needs 4 free blocks beside B's own, so the
    # smallest heap lets B grow in place: 2 + 4 = 6.
    trace = _trace(4, "alloc 0 8 1 0", "alloc 1 8 1 2", "free 0 8", "realloc 1 16 1 8 2")
    p = P.plan(trace, 4)
    assert p.blocks == 6 == p.clean_blocks
    assert [P.fits(trace, L, 4) for L in range(1, 9)] == [False] * 5 + [True] * 3


def test_a_trace_no_stalloc_can_hold():
    trace = _trace(4, "alloc 0 400000 1 0")  # 100000 blocks > 65535
    p = P.plan(trace, 4)
    assert p.blocks is None and p.clean_blocks is None


@pytest.mark.parametrize("json_out", [False, True])
def test_cli_exits_3_when_no_stalloc_can_hold_the_trace(tmp_path, json_out):
    path = tmp_path / "big.trace"
    path.write_text(T.dumps(_trace(4, "alloc 0 400000 1 0")))
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "plan.py"), str(path)]
        + (["--json"] if json_out else []),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == P.NO_FIT == 3, proc.stderr
    assert proc.stderr.strip().endswith("no Stalloc of at most 65535 blocks holds this trace")
    if json_out:
        assert json.loads(proc.stdout)["blocks"] is None
    else:
        assert "no heap of <= 65535 blocks never fails" in proc.stdout


# -- traces that cannot be planned -------------------------------------------------------------


def _cache(r):
    # a cache: keeps what the heap gives, evicts its oldest entry when a request fails;
    # so on a small heap it does something else than on a big one
    keep = []
    for k in range(300):
        try:
            keep.append(r.alloc(16 * (1 + (k * 7) % 9)))
        except AllocError:
            if keep:
                r.free(keep.pop(0))
        if len(keep) > 40:
            r.free(keep.pop(0))


def _tool(tool, *args):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", tool), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _unfit(proc, *words):
    """Assert that `proc` refused a whole trace it cannot plan: exit 4, one `error:` line
    holding each of `words`, nothing on stdout, no traceback. Returns that line."""
    assert proc.returncode == P.UNFIT == 4, (proc.returncode, proc.stdout[-2000:], proc.stderr)
    assert proc.stdout == "" and "Traceback" not in proc.stderr, proc
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert str(word) in lines[0], (word, lines[0])
    return lines[0]


def test_a_trace_whose_requests_failed_is_refused_with_how_to_record_one(tmp_path):
    small = T.record_from(_cache, 64, 16)  # requests fail: the cache evicts
    big = T.record_from(_cache, 4096, 16)  # nothing fails: what the program wants
    failed = T.failed_requests(small)
    assert failed and failed == [k for k, op in enumerate(small.ops) if op.failed]
    assert T.failed_requests(big) == []
    need = P.plan(big, 16).blocks
    assert P.plan(small, 16).blocks < need // 2  # the old answer: far too small
    assert T.replay(big, P.plan(small, 16).blocks, 16, stats=False).failed_ops
    path, ok = tmp_path / "app.trace", tmp_path / "big.trace"
    path.write_text(T.dumps(small))
    ok.write_text(T.dumps(big))
    for json_out in ([], ["--json"]):
        line = _unfit(_tool("plan.py", path, *json_out), path, "%d requests failed" % len(failed))
        assert "Stalloc(64, 16)" in line and "heap big enough that no request fails" in line
        assert "line %d" % small.ops[failed[0]].line in line and "--allow-failed" in line
    proc = _tool("plan.py", ok, "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["blocks"] == need, proc.stderr
    proc = _tool("plan.py", path, "--json", "--allow-failed")  # as probes, for who knows
    assert proc.returncode == 0 and json.loads(proc.stdout)["blocks"] == P.plan(small, 16).blocks


def test_a_grow_stopped_by_the_heaps_end_is_a_failed_request_one_stopped_by_a_neighbour_not():
    def neighbour(r):
        a = r.allocate_blocks(4)  # 0..3
        r.allocate_blocks(2)  # 4..5: a's neighbour
        try:
            r.grow_in_place(a, 4, 5)  # fails on any heap: block 4 is taken
        except AllocError:
            r.free(r.alloc(32))  # the fallback: 2 blocks elsewhere

    def end(r):
        neighbour(r)
        c = r.allocate_blocks(2)  # 6..7, the heap's end at 8
        try:
            r.grow_in_place(c, 2, 3)  # fails at 8 blocks only
        except AllocError:
            pass
        r.grow_up_to(c, 2, 4)  # gets 2 of 4 at 8 blocks: short at the end
        try:
            r.alloc(1000)  # fails at 16 blocks too
        except AllocError:
            pass

    trace = T.record_from(neighbour, 16, 16)
    assert [op.failed for op in trace.ops if op.op == "grow_in_place"] == [True]
    assert T.failed_requests(trace) == [] and P.refusal(trace) is None
    trace = T.record_from(end, 16, 16)  # the same at 16: room at the end
    assert [trace.ops[k].op for k in T.failed_requests(trace)] == ["alloc"]
    trace = T.record_from(end, 8, 16)
    names = [trace.ops[k].op for k in T.failed_requests(trace)]
    assert names == ["grow_in_place", "grow_up_to", "alloc"], trace.ops  # not the 1st grow
    assert "3 requests failed" in P.refusal(trace)
    assert "(1 allocation, 2 grows stopped by the heap's end)" in P.refusal(trace)
    assert P.refusal(trace, allow_failed=True) is None


@settings(max_examples=80, deadline=None)
@given(st.lists(ACTION, max_size=40), st.sampled_from([12, 24, 48]))
def test_a_trace_the_planner_accepts_plans_as_one_recorded_on_a_big_heap(actions, L):
    # what the refusal is for: a trace recorded on L with no failed request gives the
    # plan of the same program recorded where nothing can fail
    small = T.record_from(_run(actions), L, 4)
    if T.failed_requests(small):
        assert P.refusal(small)
        return
    big = T.record_from(_run(actions), 8 * L, 4)
    assert T.failed_requests(big) == []
    assert P.plan(small, 4).blocks == P.plan(big, 4).blocks


def test_a_cut_off_trace_is_refused_by_the_parser_and_the_tools(tmp_path):
    text = T.dumps(T.record_from(_cache, 4096, 16))
    lines = text.splitlines(keepends=True)
    n = len(lines) - 1
    cut = {
        "lines.trace": ("".join(lines[:99]), "the file holds 98 operation lines: it was cut off"),
        "mid-line.trace": (text[:-3], "without its newline: it was cut off"),
        "added.trace": (text + "free 0 16\n", "added to"),
    }
    for name, (part, words) in cut.items():
        with pytest.raises(ValueError, match="line 1: the header says records=%d" % n):
            T.parse(part)
        path = tmp_path / name
        path.write_text(part)
        for tool in ("plan.py", "heaptrace.py"):
            refused(_tool(tool, path), path, "records=%d" % n, words)
    assert T.parse(text).records == n  # whole, it parses


def test_a_trace_whose_recorder_dropped_calls_is_refused_by_the_planner_only(tmp_path):
    trace = T.record_from(_cache, 4096, 16, capacity=50)
    assert len(trace.ops) == 50 and trace.dropped > 0
    path = tmp_path / "part.trace"
    path.write_text(T.dumps(trace))
    capacity = "capacity=%d" % (50 + trace.dropped)
    _unfit(
        _tool("plan.py", path, "--json"), path, "dropped the %d calls" % trace.dropped, capacity
    )
    _unfit(_tool("plan.py", path, "--allow-failed"), "dropped", capacity)
    proc = _tool("heaptrace.py", path)  # a replay of the prefix, which says so
    assert proc.returncode == 4 and "50 ops" in proc.stdout, proc
    assert proc.stderr.startswith("warning: %s: the recorder dropped" % path), proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and capacity in proc.stderr


@pytest.mark.parametrize(
    "tool, args, name",
    [
        ("heaptrace.py", ["--blocks", "0"], "0 blocks (--blocks)"),
        ("heaptrace.py", ["--blocks", "-3"], "-3 blocks (--blocks)"),
        ("heaptrace.py", ["--block-size", "0"], "block size 0 (--block-size)"),
        ("heaptrace.py", ["--block-size", "-16"], "block size -16 (--block-size)"),
        ("plan.py", ["--block-size", "0"], "block size 0 (--block-size)"),
    ],
)
def test_a_zero_or_negative_shape_is_refused_not_taken_for_the_recorded_one(
    tool, args, name, tmp_path
):
    path = tmp_path / "t.trace"
    path.write_text(GOOD)
    refused(_tool(tool, path, *args), path, name)


# -- the bounds ---------------------------------------------------------------------------------


def test_robson_bounds_by_hand():
    # o1heap's first fit M(1 + ceil(log2 n)); memsys5 M(1 + log2(n)/2) - n + 1
    assert P.robson_first_fit(10, 8) == 40
    assert P.robson_first_fit(10, 9) == 50  # ceil(log2 9) = 4
    assert P.robson_first_fit(7, 1) == 7  # all requests one block: no fragmentation
    assert P.memsys5_bound(10, 8) == 18  # 10 * 2.5 - 7
    assert P.memsys5_bound(1024, 64) == 4033  # SQLite's example (embedded-allocators.md)
    assert P.memsys5_bound(5, 1) == 5


def test_the_plan_reports_the_bounds_for_its_m_and_n():
    trace = _trace(16, "alloc 0 128 1 0", "alloc 1 16 1 8", "free 0 128", "alloc 2 48 1 0")
    p = P.plan(trace, 16)
    assert (p.peak, p.largest) == (9, 8)
    assert p.robson == 9 * 4 and p.memsys5 == P.memsys5_bound(9, 8)
    assert p.peak <= p.blocks <= p.no_reuse


# -- the planner against a brute force -----------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(ACTION, max_size=25), st.sampled_from([4, 8]))
def test_the_plan_is_the_brute_force_answer(actions, B):
    trace = T.record_from(_run(actions), 64, 4)
    p = P.plan(trace, B)
    expected = _brute(trace, B)
    if expected is None:  # only a grow_in_place can make the no-reuse size fail
        s = T.replay(trace, P.no_reuse_blocks(trace, B), B, stats=False)
        assert {trace.ops[k].op for k in s.oom_ops} == {"grow_in_place"}
        assert p.blocks is None or not P.fits(trace, p.blocks - 1, B)
        return
    assert p.blocks == expected
    # bounds that hold by construction (grow_up_to takes what it finds: the peak of a
    # replay on a big heap can pass the smallest heap the program works on)
    assert p.blocks <= p.no_reuse
    if not any(op.op == "grow_up_to" for op in trace.ops):
        assert p.peak <= p.blocks
    # the clean size is where the binary search landed: clean there, and above it
    assert p.blocks <= p.clean_blocks
    assert P.clean(trace, p.clean_blocks, B) and P.clean(trace, p.clean_blocks + 1, B)


def _random_actions(seed, n):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rnd.choice(["alloc", "alloc", "blocks", "free", "realloc", "grow", "part"])
        if kind == "alloc":
            out.append((kind, rnd.randint(1, 24), rnd.choice([1, 4, 8, 16])))
        elif kind == "blocks":
            out.append((kind, rnd.randint(1, 6), rnd.choice([1, 2, 4])))
        elif kind in ("realloc", "grow"):
            out.append((kind, rnd.randint(0, 99), rnd.randint(1, 32 if kind == "realloc" else 3)))
        else:
            out.append((kind, rnd.randint(0, 99)))
    return out


@pytest.mark.parametrize("seed", range(10))
def test_the_plan_is_the_brute_force_answer_on_longer_programs(seed):
    trace = T.record_from(_run(_random_actions(seed, 80)), 128, 4)
    assert len(trace.ops) > 60
    p = P.plan(trace, 4)  # the recorded block size: the no-reuse size always fits
    assert p.blocks == _brute(trace, 4), seed
    assert p.peak <= p.blocks <= p.no_reuse
    p = P.plan(trace, 8)
    expected = _brute(trace, 8)
    assert p.blocks == expected or expected is None, seed


@settings(max_examples=30, deadline=None)
@given(st.lists(ACTION, max_size=25))
def test_cleanness_is_monotone_in_the_heap_size(actions):
    # The claim the binary search rests on (plan.py's docstring), over every L.
    trace = T.record_from(_run(actions), 64, 4)
    top = P.no_reuse_blocks(trace, 4)
    clean = [P.clean(trace, L, 4) for L in range(1, top + 2)]
    first = clean.index(True)
    assert all(clean[first:]), clean


def test_first_fit_alone_is_monotone_and_a_clean_replay_places_identically():
    # Without realloc and grow_up_to nothing depends on the heap's end: the placements
    # on any bigger heap are the same.
    def program(rec):
        views = []
        for k in range(60):
            views.append(rec.alloc(4 * (1 + (k * 5) % 7), 1 << (k % 3)))
            if k % 3 == 2:
                rec.free(views.pop((k * 7) % len(views)))

    trace = T.record_from(program, 256, 4)
    L = P.plan(trace, 4).blocks
    placed = T.replay(trace, L, 4).placed
    for bigger in (L + 1, L + 7, 2 * L):
        assert T.replay(trace, bigger, 4).placed == placed
    assert [P.fits(trace, n, 4) for n in range(1, 2 * L)] == [n >= L for n in range(1, 2 * L)]


# -- the command line ----------------------------------------------------------------------


def test_cli_prints_the_table_and_json(tmp_path):
    trace = _trace(16, "alloc 0 64 1 0", "alloc 1 32 1 4", "free 0 64", "alloc 2 48 1 0")
    path = tmp_path / "t.trace"
    path.write_text(T.dumps(trace))
    tool = os.path.join(ROOT, "tools", "plan.py")
    out = subprocess.run(
        [sys.executable, tool, str(path), "--block-size", "16"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "measured: smallest L that never fails" in out and "Robson first fit" in out
    row = next(line for line in out.splitlines() if "measured" in line)
    assert [c.strip() for c in row.split("│")][2:4] == ["6", "96"], row
    out = subprocess.run(
        [sys.executable, tool, str(path), "--block-size", "32", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = json.loads(out)
    assert d["block_size"] == 32 and d["blocks"] == 3 and d["peak"] == 3  # 2 + 1, then 2
    assert d["rows"][0]["bytes"] == 96
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "heaptrace.py"), str(path), "--blocks", "8"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "peak used 6 blocks, 0 failures" in out and out.rstrip().endswith("###.##..")


# -- bad input files, progress ----------------------------------------------------------------

GOOD = "# stalloc-trace 1 blocks=8 block_size=16\nalloc 0 64 1 0\nfree 0 64\n"
MALFORMED = {  # file name -> contents, each a trace the tools must refuse in one line
    "no-header.trace": "alloc 0 64 1 0\n",
    "bad-line.trace": "# stalloc-trace 1 blocks=8 block_size=16\nalloc 0 sixty 1 0\n",
    "bad-shape.trace": "# stalloc-trace 1 blocks=0 block_size=16\nalloc 0 64 1 0\n",
    "binary.trace": b"\x89PNG\r\n\x1a\n\xff\xfe\x00",
}


def _refused(tool, path, *args):
    """Run tools/<tool> on `path`; assert it refused the file as the host tools do: exit 2,
    one line on stderr, `error: ` naming the file, no traceback. Returns that line."""
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", tool), str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return refused(proc, path)


@pytest.mark.parametrize("tool", ["plan.py", "heaptrace.py"])
def test_cli_a_missing_trace_is_one_error_line_and_exit_2(tool, tmp_path):
    line = _refused(tool, tmp_path / "nope.trace")
    assert "No such file" in line
    _refused(tool, tmp_path)  # a directory


@pytest.mark.parametrize("tool", ["plan.py", "heaptrace.py"])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_cli_a_malformed_trace_is_one_error_line_and_exit_2(tool, name, tmp_path):
    path = tmp_path / name
    text = MALFORMED[name]
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    line = _refused(tool, path)
    if name == "bad-line.trace":
        assert "line 2" in line  # parse()'s own words: which line is wrong
    if name == "no-header.trace":
        assert "not a stalloc trace" in line


def test_cli_a_bad_block_size_is_one_error_line_and_exit_2(tmp_path):
    path = tmp_path / "t.trace"
    path.write_text(GOOD)
    line = _refused("plan.py", path, "--block-size", "24")
    assert "--block-size" in line or "24" in line
    _refused("heaptrace.py", path, "--blocks", "70000")


def test_replay_can_stop_at_the_first_failure():
    trace = _trace(16, "alloc 0 64 1 0", "alloc 1 64 1 4", "alloc 2 64 1 -", "free 0 64")
    full = T.replay(trace, 6, 16, stats=False)
    assert full.oom_ops == [1, 2]
    s = T.replay(trace, 6, 16, stats=False, stop="oom")
    assert s.oom_ops == [1] and s.failed_ops == [1]
    s = T.replay(trace, 8, 16, stats=False, stop="oom")
    assert s.oom_ops == [2]
    grow = _trace(16, "allocate_blocks 0 32 16 0", "grow_in_place 0 0 32 64 0")
    s = T.replay(grow, 3, 16, stats=False, stop="edge")
    assert s.edge_ops == [1] and s.oom_ops == [1]
    assert T.replay(grow, 3, 16, stats=False, stop="oom").oom_ops == [1]
    assert T.replay(grow, 4, 16, stats=False, stop="edge").edge_ops == []


def test_a_long_trace_takes_few_replays():
    # 2000 ops that never need more than 4 blocks: no reuse would be 2500 blocks, a binary
    # search from there 12 replays and more; from the recorded size (8) it takes fewer
    def program(r):
        for k in range(1000):
            r.free(r.alloc(16 + 48 * (k % 2)))

    trace = T.record_from(program, 8, 16, capacity=4096)
    p = P.plan(trace, 16)
    assert p.blocks == 4 and p.peak == 4 and p.no_reuse == 2500
    assert p.replays <= 8, p.replays


def _run_on_a_terminal(cmd):
    # cmd with stderr on a pseudo-terminal (stdout a pipe); returns (code, stdout, stderr)
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read()
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, out.decode(), err.decode(errors="replace")


def test_cli_shows_progress_on_a_terminal_only(tmp_path):
    def program(r):
        keep = []
        for k in range(300):
            keep.append(r.alloc(16 * (1 + k % 5)))
            if len(keep) > 6:
                r.free(keep.pop(k % 5))

    path = tmp_path / "t.trace"
    path.write_text(T.dumps(T.record_from(program, 64, 16, capacity=4096)))
    cmd = [sys.executable, os.path.join(ROOT, "tools", "plan.py"), str(path), "--json"]
    piped = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert piped.stderr == ""  # not a terminal: nothing but the answer
    code, out, err = _run_on_a_terminal(cmd)
    assert code == 0 and json.loads(out) == json.loads(piped.stdout)
    assert "\r" in err and "replay" in err, repr(err)
    assert err.endswith("\r\x1b[K"), repr(err[-40:])  # the line is wiped at the end
    assert "\n" not in err.replace("\r\n", "\r")  # one line, rewritten in place


def test_cli_replay_shows_a_progress_bar_on_a_terminal_only(tmp_path):
    # a replay longer than heaptrace.TICK ops: a bar on a terminal, wiped; nothing piped
    def program(r):
        for k in range(T.TICK + 100):
            r.free(r.alloc(16 * (1 + k % 3)))

    path = tmp_path / "long.trace"
    path.write_text(T.dumps(T.record_from(program, 16, 16, capacity=2 * T.TICK + 400)))
    cmd = [sys.executable, os.path.join(ROOT, "tools", "heaptrace.py"), str(path)]
    piped = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert piped.stderr == ""
    code, out, err = _run_on_a_terminal(cmd)
    assert code == 0 and out == piped.stdout
    assert "replay [" in err and "%d/%d" % (T.TICK, 2 * T.TICK + 200) in err, repr(err)
    assert err.endswith("\r\x1b[K") and "\n" not in err.replace("\r\n", "\r"), repr(err[-60:])


def test_cli_an_op_past_the_trace_is_one_error_line_and_exit_2(tmp_path):
    path = tmp_path / "t.trace"
    path.write_text(GOOD)  # 2 ops
    line = _refused("heaptrace.py", path, "--at", "2")
    assert "--at 2" in line and "2 ops" in line


def test_the_tools_say_what_to_install_when_an_extra_is_missing(tmp_path):
    # rich is only for the planner's table: without it, one line naming the extra
    path = tmp_path / "t.trace"
    path.write_text(GOOD)
    code = (
        "import sys; sys.modules['rich'] = None; sys.path.insert(0, %r)\n"
        "import plan; sys.exit(plan.main(sys.argv[1:]))" % os.path.join(ROOT, "tools")
    )
    cmd = [sys.executable, "-c", code, str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert proc.stderr == (
        "error: the plan's table (without --json) needs rich, not installed: "
        "pip install rich, or the tools extra (pip install '.[tools]' in a checkout, "
        "pip install 'stalloc-%s-py3-none-any.whl[tools]' with the wheel)\n" % stalloc.__version__
    ), proc.stderr
    proc = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["blocks"] == 4, proc
