"""tools/demo.py, the README's first command (tools/demo.sh runs it): the loop on 64 KiB
virtual boards with bytearrays and with a Stalloc from equal free heaps, the side-by-side
table and its story, the host's replay of the board's requests and the pictures, the GC
heap's with the library's and the Stalloc's blocks marked. Run here once, with fewer
iterations; the fragmentation test (test_board_fragmentation.py) asserts on the full
runs."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import demo  # tools/demo.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "tools", "demo.py")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ptys")


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """(printed text, output folder) of one demo run of 5000 iterations."""
    out = tmp_path_factory.mktemp("demo") / "pics"
    proc = subprocess.run(
        [sys.executable, DEMO, "--iterations", "5000", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    return text, out


def test_demo_runs_compares_and_draws(ran):
    text, out = ran
    for key in demo.RUNS:
        assert demo.NAMES[key] in text, text[-3000:]
    assert "identical to the board's" in text
    # the board's size in 32-bit terms, in the title and the introduction; the block count
    # is the board's own (where the port mallocs its heap decides the last few blocks)
    results = json.loads((out / "results.json").read_text())
    total = results["runs"][demo.NAMES[demo.RUNS[0]]]["mem_boot"]["total"]
    blocks = total // demo.GC_BLOCK
    assert 64 * 1024 * 15 // 16 // demo.GC_BLOCK < blocks < 64 * 1024 // demo.GC_BLOCK, total
    title = "64 KiB GC heap, 64-bit (%d blocks of 32 B: a 32 KiB heap on a 32-bit board)"
    assert title % blocks in " ".join(text.split())
    for name in (
        "stalloc-heap-map.png",
        "stalloc-fragmentation.png",
        "gc-heap-alone.png",
        "gc-heap-same.png",
        "gc-heap-stalloc.png",
        "gc-heap-stalloc-end.png",
    ):
        with open(out / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", name
        assert name in text  # the demo says where it wrote them
    runs = results["runs"]
    assert results["host_replay_matches_board"] is True
    stalloc_run = runs["Stalloc, integer API"]
    assert stalloc_run["iters"] == 5000 and stalloc_run["collections"] == 0
    assert stalloc_run["alloc_start"] == stalloc_run["alloc_max"]  # nothing on the GC heap
    byte_run = runs["Stalloc, byte API"]
    assert byte_run["iters"] == 5000 and byte_run["collections"] == 0
    assert byte_run["alloc_start"] == byte_run["alloc_max"] == byte_run["alloc_end"]
    same = runs["bytearray, same board"]  # fragmented (MemoryError), or paid in collections
    assert 0 <= same["fail"] < 5000 or same["collections"] > 0, same
    trace = (out / "stalloc-trace.txt").read_text()
    assert trace.startswith("# stalloc-trace 1 blocks=448 block_size=32")
    # the host's copy of the request sequence is the board's: its checksum over them
    for run in runs.values():
        made = run["iters"] + (1 if run["fail"] >= 0 else 0)
        reqs = demo.requests(made, *demo.workload(5000)[1:])
        assert demo.request_sum(reqs) == run["reqsum"], run


def test_demo_compares_equal_budgets_and_says_so(ran):
    # Each table column started with the same free GC heap for its data, the library's
    # code counted in all of them (a ballast of its size where it is not imported); the
    # table and the story print those figures; the GC pictures mark the library's blocks
    # and the Stalloc's bytearray, block for block.
    text, out = ran
    flat = " ".join(text.split())
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    table = [runs[demo.NAMES[key]] for key in demo.RUNS]
    data = [r["free_for_data"] for r in table]
    assert max(data) - min(data) <= demo.EQUAL_FREE, data
    code = runs["bytearray, same board"]["code_cost"]
    assert code > 4096 and all(abs(r["code_cost"] - code) <= demo.EQUAL_FREE for r in table)
    alone = runs["bytearray, no library"]
    assert alone["library"] is False and alone["ballast"] == code - demo.GC_BLOCK
    assert alone["modules"] == []  # the ballast stands in for the library's code
    footprint = demo.L * demo.B + 12
    blocks = -(-footprint // demo.GC_BLOCK)
    for r in table:
        stalloc = r["mode"] != "gc"
        assert (r["reservation_cost"] >= footprint) if stalloc else r["reservation_cost"] == 0
        assert r["reservation_gc_blocks"] == (blocks if stalloc else 0)
    # the table prints each figure, and the story the budget
    for label in (
        "= free for the run's data",
        "- library code, objects",
        "- Stalloc's reservation",
    ):
        assert label in text, text[-3000:]
    assert "%d B" % data[0] in text and "ballast %d B" % alone["code_cost"] in text
    assert "Every run had the same free GC heap for its data: %d B" % min(data) in flat or (
        "Every run had the same free GC heap for its data: %d B (within" % data[0] in flat
    )
    assert "the library's modules took %d B" % code in flat
    assert "Where the library does not win." in flat
    for r in (runs["Stalloc, integer API"], runs["Stalloc, byte API"]):  # the mean compared
        assert "%.2f us" % (r["total_us"] / r["iters"]) in flat
    # the bare board: told, not tabled
    bare = runs["bytearray, bare board"]
    assert bare["library"] is None and bare["ballast"] == 0
    assert abs(bare["free_for_data"] - data[0] - code) <= demo.EQUAL_FREE
    assert "Not an equal budget, so not in the table: on a bare board" in flat
    # the pictures' owners, counted per block; the Stalloc's bytearray split into its used
    # and free blocks
    pics = results["gc_pictures"]
    name = "Stalloc, integer API"
    for file in ("gc-heap-stalloc.png", "gc-heap-stalloc-end.png"):
        counts = pics[file]["blocks"]
        assert counts["R"] + counts["r"] == blocks == runs[name]["reservation_gc_blocks"]
        assert counts["R"] > 1 and counts["r"] > 0, counts
        assert abs(counts["L"] - code // demo.GC_BLOCK) <= 8 and counts["o"] > 0, counts
        assert counts["b"] == 0, counts
    end = pics["gc-heap-stalloc-end.png"]["blocks"]
    assert end["r"] == runs[name]["map"].count(".")  # the Stalloc's own free blocks
    same = pics["gc-heap-same.png"]["blocks"]
    assert same["L"] > 0 and same["R"] == same["r"] == 0
    alone = pics["gc-heap-alone.png"]["blocks"]
    assert alone["b"] > 0 and alone["L"] == 0
    assert "Stalloc's bytearray (%d blocks" % blocks in flat


def test_requests_follow_the_workload_and_the_checksum_sees_their_order():
    reqs = list(demo.requests(200, *demo.workload(200)[1:]))
    assert len(reqs) == 200
    assert all(0 <= j < 16 and 16 <= size <= 512 for j, size, _ in reqs)
    assert [b for _, _, b in reqs[::16]] and all(
        b == 0 for i, (_, _, b) in enumerate(reqs) if i % 16
    )
    assert all(1024 <= b <= 8192 for _, _, b in reqs[::16])
    # the checksum is order-sensitive: a swapped pair of requests changes it
    swapped = reqs[:]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert demo.request_sum(reqs) != demo.request_sum(swapped)


def test_gc_layout_reads_mem_info_1():
    text = (
        "GC: total: 16128, used: 4832, free: 11296\n"
        " No. of 1-blocks: 39, 2-blocks: 3, max blk sz: 9, max free sz: 351\n"
        "GC memory layout; from 55bdcb508ac0:\n"
        "00000000: h=hh=.hhLh" + "." * 54 + "\n"
        "       (6 lines all free)\n"
        "00003800: " + "." * 56 + "\n"
    )
    cells = demo.gc_layout(text)
    assert len(cells) == 16128 // 32 == 504
    assert cells[:10] == "#####.####" and set(cells[10:]) == {"."}


def _layout(cells, base="55bdcb508ac0"):
    # a mem_info(1) printout of a 2-line heap whose blocks are `cells` ('#' used)
    lines = [
        "GC: total: %d, used: 0, free: 0" % (len(cells) * demo.GC_BLOCK),
        " No. of 1-blocks: 0, 2-blocks: 0, max blk sz: 0, max free sz: 0",
        "GC memory layout; from %s:" % base,
    ]
    for k in range(0, len(cells), 64):
        row = cells[k : k + 64].replace("#", "h")
        lines.append("%08x: %s" % (k * demo.GC_BLOCK, row))
    return "\n".join(lines) + "\n"


def test_gc_end_map_names_each_blocks_owner():
    base = 0x55BDCB508AC0
    boot = "##" + "." * 126
    loaded = "####" + "." * 124  # the imports took blocks 2 and 3
    built = "#####" + "#" * 20 + "." * 103  # the Stalloc: objects at 4, bytearray 5..24
    end = "#" * 25 + "##" + "." * 101  # and the loop's live set at 25, 26
    r = {
        "library": True,
        "layout_boot": demo.gc_layout(_layout(boot)),
        "layout_loaded": demo.gc_layout(_layout(loaded)),
        "layout_heap": demo.gc_layout(_layout(built)),
        "layout_end": demo.gc_layout(_layout(end)),
        "gc_base": demo.gc_base(_layout(end)),
        "reservation": (base + 5 * demo.GC_BLOCK, 20 * demo.GC_BLOCK - 20),
    }
    assert r["gc_base"] == base
    assert demo.reservation_blocks(r) == range(5, 25)
    cells = demo.gc_end_map(r)
    assert cells == "##LLo" + "R" * 20 + "##" + "." * 101
    r["library"] = False  # the same blocks, taken by a ballast
    assert demo.gc_end_map(r)[2:4] == "bb"
    r["reservation"] = (base + 5 * demo.GC_BLOCK + 8, 64)  # not on a block: refused
    with pytest.raises(RuntimeError):
        demo.reservation_blocks(r)


def _setup_scripts_env(tmp_path):
    """An environment in which tools/_venv.sh finds a ready venv (a stub `python` that
    prints its arguments, stamped with pyproject.toml's hash, so nothing is rebuilt) and a
    PATH with python3 and the few commands the scripts use, but no node or npm."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    stub = venv / "bin" / "python"
    stub.write_text('#!/bin/sh\necho RUN "$@"\n')
    stub.chmod(0o755)
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        (venv / ".pyproject.sha256").write_text(hashlib.sha256(f.read()).hexdigest() + "\n")
    path = tmp_path / "path"
    path.mkdir()
    (path / "python3").symlink_to(sys.executable)
    for name in ("cat", "dirname"):
        (path / name).symlink_to(shutil.which(name))
    return {"PATH": str(path), "STALLOC_VENV": str(venv), "HOME": str(tmp_path)}


def test_demo_sh_needs_no_node_and_test_sh_does(tmp_path):
    # the demo runs on the unix port only; the tests also run on the WebAssembly port
    env = _setup_scripts_env(tmp_path)

    def script(name, *args):
        path = os.path.join(ROOT, "tools", name)
        return subprocess.run(
            [shutil.which("bash"), path, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    proc = script("demo.sh", "--iterations", "5")
    assert proc.returncode == 0 and proc.stderr == "", proc
    assert proc.stdout == "RUN tools/demo.py --iterations 5\n"
    proc = script("test.sh", "-k", "x")
    assert proc.returncode == 1 and proc.stdout == "", proc
    assert "error: node and npm are needed" in proc.stderr


# -- the story's order and words (issue 19, item 9) ---------------------------------------


def test_the_demo_opens_with_a_three_line_verdict(ran):
    text, out = ran
    results = json.loads((out / "results.json").read_text())
    same = results["runs"]["bytearray, same board"]
    lines = [line for line in text.splitlines() if line.strip()]
    first, second, third = lines[:3]
    assert (
        first.startswith("bytearray")
        and "MemoryError after %d iterations" % same["iters"] in first
    )
    asked = demo.failed_request(same)  # the size depends on the board's free heap
    assert asked > same["mem_end"]["largest_free"]  # refused: no free block that big
    assert "%d B asked for" % asked in first and "fragmentation" in first, first
    assert second.startswith("Stalloc(448, 32): all 5000 iterations"), second
    assert "nothing allocated on the GC heap" in second, second
    assert third.startswith("Its price: ") and "us against" in third, third
    assert lines[3].startswith("The setup.")  # then what was run, then the table


def test_no_progress_bar_when_piped(ran):
    text, _ = ran  # stdout and stderr both pipes
    for mark in ("\r", "\033[", "100%", "on the board:", "board 1 of"):
        assert mark not in text, mark
    assert not re.search(r"━ *\d+%", text)  # a bar (the table's rules are ━ too)


def test_pictures_compare_the_same_iteration(ran):
    # The Stalloc's GC picture after as many iterations as the bytearrays did before
    # their MemoryError, the failed request drawn beside each largest free block (or run)
    text, out = ran
    results = json.loads((out / "results.json").read_text())
    same = results["runs"]["bytearray, same board"]
    n = same["iters"]
    assert 0 <= same["fail"] == n < 5000
    pics = results["gc_pictures"]
    assert pics["gc-heap-same.png"]["iterations"] == n
    assert pics["gc-heap-stalloc.png"]["iterations"] == n
    assert pics["gc-heap-stalloc-end.png"]["iterations"] == 5000
    asked = demo.failed_request(same)
    request = -(-asked // demo.GC_BLOCK)
    largest = same["mem_end"]["largest_free"] // demo.GC_BLOCK
    assert pics["gc-heap-same.png"]["bars"] == [
        [largest, "largest free block: %d B (%d blocks)" % (largest * demo.GC_BLOCK, largest)],
        [request, "the %d-byte request (%d blocks), refused: MemoryError" % (asked, request)],
    ]
    (run, served) = pics["gc-heap-stalloc.png"]["bars"]
    assert run[0] >= request and "the Stalloc's largest free run" in run[1]
    assert served == [
        request,
        "the %d-byte request (%d blocks), served from the Stalloc" % (asked, request),
    ]
    # the Stalloc ran again to that iteration: the same requests, to the same point
    early = results["runs_to_the_failure"]
    assert sorted(early) == ["Stalloc, byte API", "Stalloc, integer API"]
    for r in early.values():
        assert r["iters"] == n and r["fail"] == -1
        assert r["reqsum"] == demo.request_sum(demo.requests(n, *demo.workload()[1:]))
    # the byte API's picture only if it differs from the integer API's, and then says so
    if "gc-heap-stalloc-bytes.png" in pics:
        assert "differ from the integer API's" in " ".join(text.split())
    else:
        assert "The byte API's GC heap is the integer API's block for block" in (
            " ".join(text.split())
        )
        assert not (out / "gc-heap-stalloc-bytes.png").exists()


def test_worst_iterations_compare_like_for_like(ran):
    text, out = ran
    results = json.loads((out / "results.json").read_text())
    n = results["runs"]["bytearray, same board"]["iters"]
    early = results["runs_to_the_failure"]
    row = next(line for line in text.splitlines() if "worst of the first %d " % n in line)
    cells = [c.strip() for c in row.split("│")[2:-1]]
    same = results["runs"]["bytearray, same board"]
    assert cells[1:] == [
        "%d us" % same["worst_us"],
        "%d us" % early["Stalloc, integer API"]["worst_us"],
        "%d us" % early["Stalloc, byte API"]["worst_us"],
    ], row
    row = next(line for line in text.splitlines() if "worst, whole run" in line)
    assert "us of %d" % n in row and "us of 5000" in row, row
    assert "Worst iterations over the same first %d iterations" % n in " ".join(text.split())


def test_the_labels_count_gc_blocks():
    labels = {c: label for c, _, label in demo.KINDS}
    assert "views" not in labels[demo.HEAP_OBJECTS]  # 50-odd GC blocks, 17 views
    assert labels[demo.HEAP_OBJECTS] == "Stalloc's objects"


def test_stalloc_cells_show_the_stallocs_free_blocks():
    base = 0x55BDCB508AC0
    r = {
        "library": True,
        "layout_boot": "#" + "." * 15,
        "layout_loaded": "#" + "." * 15,
        "layout_heap": "##" + "#" * 5 + "." * 9,
        "layout_end": "##" + "#" * 5 + "#" + "." * 8,
        "gc_base": base,
        "reservation": (base + 2 * demo.GC_BLOCK, 4 * demo.B + 12),
        "map": "#..#",  # the Stalloc's own blocks: 1 and 2 free
    }
    assert demo.gc_end_map(r) == "#o" + "RRRRR" + "#" + "." * 8
    assert demo.stalloc_cells(r) == "#oRrrRR#" + "." * 8  # the trailer's block stays used
