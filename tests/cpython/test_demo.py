"""tools/demo.py, the README's first command (tools/demo.sh runs it): the loop on 64 KiB
virtual boards with bytearrays and with a Stalloc, the side-by-side table, the host's
replay of the board's requests and the pictures. Run here with fewer iterations; the
fragmentation test (test_board_fragmentation.py) asserts on the full runs."""

import json
import os
import subprocess
import sys

import pytest

import demo  # tools/demo.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "tools", "demo.py")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ptys")


def test_demo_runs_compares_and_draws(tmp_path):
    out = tmp_path / "pics"
    proc = subprocess.run(
        [sys.executable, DEMO, "--iterations", "5000", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    for name in ("bytearray, no library", "bytearray, same board", "Stalloc, integer API"):
        assert name in text, text[-3000:]
    assert "identical to the board's" in text
    for name in (
        "stalloc-heap-map.png",
        "stalloc-fragmentation.png",
        "gc-heap-alone.png",
        "gc-heap-same.png",
    ):
        with open(out / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", name
        assert name in text  # the demo says where it wrote them
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    assert results["host_replay_matches_board"] is True
    stalloc_run = runs["Stalloc, integer API"]
    assert stalloc_run["iters"] == 5000 and stalloc_run["collections"] == 0
    assert stalloc_run["alloc_start"] == stalloc_run["alloc_max"]  # nothing on the GC heap
    same = runs["bytearray, same board"]  # fragmented (MemoryError), or paid in collections
    assert 0 <= same["fail"] < 5000 or same["collections"] > 0, same
    trace = (out / "stalloc-trace.txt").read_text()
    assert trace.startswith("# stalloc-trace 1 blocks=448 block_size=32")
    # the host's copy of the request sequence is the board's: its checksum over them
    for run in runs.values():
        made = run["iters"] + (1 if run["fail"] >= 0 else 0)
        reqs = demo.requests(made, *demo.workload(5000)[1:])
        assert demo.request_sum(reqs) == run["reqsum"], run


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
