"""The demo: one small embedded-style loop on a small board, with bytearrays and with stalloc.

    tools/demo.sh                      # the README's first command: sets up .venv, runs this
    python tools/demo.py --out DIR     # where the pictures and results go (default demo-out)
    python tools/demo.py --iterations 20000

The loop (examples/frag_bench.py) is what a sensor or network node does: it keeps the last
16 packets (16-512 B each, replaced at random) and every 16th iteration builds a 1-8 KiB
temporary (a report, a file chunk). It runs on a virtual board (tools/vboard.py: the
MicroPython unix port with a 64 KiB GC heap behind a pty, driven by mpremote), a fresh
board per run, the code sent as x64 .mpy files. The port is 64-bit: its GC blocks (32 B)
and objects are twice a 32-bit board's, so the 64 KiB heap has as many blocks as a
32 KiB heap on an rp2 or esp32 (a buffer's contents take the same bytes on both).

Equal budgets: every run starts from the same free GC heap for its data (the LOADED
snapshot below, equal within EQUAL_FREE bytes), with the library's code counted in all:

  bytearray, no library   `bytearray(n)` for every buffer, stalloc not imported: a
                          ballast bytearray as big as the library's code and objects
                          (measured in the first run) takes their place;
  bytearray, same board   the same, with the block heap's modules imported;
  Stalloc, integer API    a Stalloc(448, 32) taken at boot, block indexes and
                          heap.memory: nothing allocated on the GC heap in the loop;
  Stalloc, byte API       the same heap through alloc()/free(): 17 pooled views.

One more run, on a bare board (no library, no ballast: more free heap), is told in the
story and kept in results.json, not put in the table. When bytearrays fail, both Stalloc
modes run again, stopped after as many iterations (run_early): pictures and worst
iterations then compare like for like.

Then the host replays the same request sequence on CPython through a recorded trace
(stalloc.trace): the same first fit, so its final map must equal the board's (checked),
and draws the Stalloc's map, fragmentation over time, and the GC heap at the end of the
runs (micropython.mem_info(1); gc_pictures says which), the library's code and objects,
the Stalloc's used and free blocks and its objects each in their colour (stalloc_cells),
the failed request beside the largest free block. The output opens with a three-line
verdict (verdict()); progress goes to stderr, only on a terminal. Finishes in well under
a minute.

The board machinery here (build_files, run_board, parse, ...) is shared with
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
BOARD = build.load_board("unix")
GC_BLOCK = BOARD["gc_block_bytes"]  # mem_info()'s block counts and layout are in these
GC_BLOCK_32 = 16  # a 32-bit port's GC block: 4 words of 4 bytes (rp2, esp32, stm32)
HEAP_KIB = 64
HEAPSIZE = "%dk" % HEAP_KIB
# The same number of GC blocks on a 32-bit board: objects take half the bytes there
# (pointers are 4 bytes), code about two thirds (the README's memory table), a buffer's
# contents the same bytes.
KIB_32 = HEAP_KIB * GC_BLOCK_32 // GC_BLOCK
ITERATIONS = 100_000
L, B = 448, 32  # the Stalloc: 14 KiB, a 14348-byte bytearray
SLACK = 1024  # reserved beyond the heap's bytearray; see PRELUDE
EQUAL_FREE = 256  # bytes: every run's free GC heap for its data is the same within this


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

RUNS = (  # (mode, library): the table's columns, in this order
    ("gc", False),
    ("gc", True),
    ("int", True),
    ("bytes", True),
)
BARE = ("gc", None)  # a bare board: no library and no ballast (the story, not the table)
# The order the runs are made in: ("gc", False) takes a ballast of the library's cost,
# measured in the first run.
ORDER = (("gc", True), ("int", True), ("bytes", True), ("gc", False), BARE)
NAMES = {
    ("gc", False): "bytearray, no library",
    ("gc", True): "bytearray, same board",
    ("int", True): "Stalloc, integer API",
    ("locked", True): "Stalloc, integer API, GC heap locked",
    ("bytes", True): "Stalloc, byte API",
    BARE: "bytearray, bare board",
}
PICTURES = {  # the GC heap at the end of each run: file name
    ("gc", False): "gc-heap-alone.png",
    ("gc", True): "gc-heap-same.png",
    ("int", True): "gc-heap-stalloc.png",
    ("bytes", True): "gc-heap-stalloc-bytes.png",
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


# Run on the board through `mpremote exec`, the same prelude for every run (so the code
# the board compiles for it is the same size): what a board's boot code does. Take the
# heap's block first, before imports cut the GC heap into pieces, import, then build the
# heap in that block. Every run takes and releases the same block, so all loops start
# from the same layout; "gc" leaves the hole to the GC. The modules are imported one at a
# time with a collection after each: in one `import stalloc.heap` the garbage of the first
# modules is still scattered while the next load, and the reservation that fits drops
# from ~19 KB to ~15 KB (measured; it then moved by more than 1 KB with a 200-byte change
# of the bench). SLACK: Stalloc.__init__ allocates a few small objects (its attribute
# dict) before its bytearray, and first fit puts those with no smaller hole below into
# the start of the released block (measured: 256 bytes are too few).
# A run without the library allocates a ballast bytearray where the imports would load
# the modules, as big as the library's code and objects measured in a run with it: every
# run then has the same free GC heap for its data (the "LOADED" snapshot).
# Three micropython.mem_info(1) snapshots, each after a collection: BOOT (before the
# library), LOADED (its modules imported, or the ballast taken; the block released) and
# HEAP (the Stalloc built, if any); with the END one of frag_bench.main() they say which
# GC blocks are the library's and which the Stalloc's (gc_end_map). Every global is bound
# before BOOT, so the module's dict never grows (and moves) after it.
PRELUDE = """\
import gc
import micropython
import uctypes
import frag_bench
library = %(library)d
hold = ballast = heap = Stalloc = name = None
gc.collect()
print("MEMINFO-BOOT")
micropython.mem_info(1)
hold = bytearray(%(reserve)d)
if library:
    for name in %(needed)r:
        __import__("stalloc." + name)
        gc.collect()
    from stalloc.heap import Stalloc
else:
    ballast = bytearray(%(ballast)d) if %(ballast)d else None
hold = None
gc.collect()
print("MEMINFO-LOADED")
micropython.mem_info(1)
heap = None if %(mode)r == "gc" else Stalloc(%(L)d, %(B)d, views=%(views)d)
gc.collect()
print("MEMINFO-HEAP")
micropython.mem_info(1)
if heap is not None:
    print("RESERVATION", uctypes.addressof(heap._mem), len(heap._mem))
"""
RUN = """\
frag_bench.main(%(mode)r, heap, %(workload)s)
import sys
m = sys.modules.get("stalloc.heap")
print("ACCELERATED", m and m.ACCELERATED)
print("MODULES", *sorted(k for k in sys.modules if k.startswith("stalloc")))
"""


def ballast_for(r):
    """The ballast bytearray's length that takes what the library's code and objects took
    in run `r` (one with the library): its data, plus one GC block for the object."""
    return max(0, code_cost(r) - GC_BLOCK)


def run_board(files, mode, library=True, iterations=ITERATIONS, heapsize=HEAPSIZE, ballast=0):
    """The workload in `mode` on a fresh virtual board, with the library's modules
    imported, or (library False or None: "gc" only) a `ballast`-byte bytearray in their
    place (see ballast_for; none on a bare board); the parsed result (see parse)."""
    if not library and mode != "gc":
        raise ValueError("only the bytearray loop runs without the library")
    lib, bench = files
    args = {
        "mode": mode,
        "library": bool(library),
        "ballast": ballast,
        "reserve": L * B + 12 + SLACK,
        "L": L,
        "B": B,
        "workload": ", ".join(repr(x) for x in workload(iterations)),
        "needed": tuple(NEEDED),
        "views": VIEWS,
    }
    code = PRELUDE % args + RUN % args
    with vboard.VirtualBoard(heapsize) as board:
        board.mpremote("mkdir", ":/lib/stalloc")
        board.mpremote("cp", *lib, ":/lib/stalloc/")
        board.mpremote("cp", bench, ":/lib/")
        out = board.mpremote("exec", code, timeout=240).stdout
    res = parse(out)
    res["output"] = out
    res["library"] = library
    res["ballast"] = ballast
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


def gc_base(text):
    """The address of the GC heap's first block, from micropython.mem_info(1)'s
    "GC memory layout; from ADDRESS:" line; None when the printout has no layout."""
    m = re.search(r"GC memory layout; from ([0-9a-f]+):", text)
    return int(m.group(1), 16) if m else None


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


def _section(out, name):
    # the text after the line "MEMINFO-<name>", up to the next snapshot; None if absent
    marker = "MEMINFO-%s\n" % name
    if marker not in out:
        return None
    return out.split(marker, 1)[1].split("\nMEMINFO-", 1)[0]


SNAPSHOTS = ("boot", "loaded", "heap", "start", "end")


def parse(out):
    """What the prelude and frag_bench.main() printed, as a dict: the RESULT fields, hist,
    error, stats, the Stalloc's map rebuilt from its free runs; per snapshot (SNAPSHOTS)
    its mem_info as mem_<name> and its GC layout as layout_<name> (None where it printed
    none); gc_map_end (= layout_end), gc_base, and reservation: (address, length) of the
    Stalloc's bytearray or None."""
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
    for name in SNAPSHOTS:
        text = _section(out, name.upper())
        res["mem_" + name] = mem_info(text) if text else None
        res["layout_" + name] = gc_layout(text) if text else None
    res["gc_map_end"] = res["layout_end"]
    res["gc_base"] = gc_base(_section(out, "END") or "")
    where = field("RESERVATION").split()
    res["reservation"] = tuple(int(v) for v in where) if where else None
    return res


# -- what the snapshots say: the budget of a run, the owner of each GC block -------------


def code_cost(r):
    """Bytes of GC heap the library's code and objects keep (from BOOT to LOADED: the
    imports, after a collection), or in a run without the library, its ballast."""
    return r["mem_boot"]["free"] - r["mem_loaded"]["free"]


def free_for_data(r):
    """The free GC heap a run had for its data: after the library's code (or its ballast),
    before the Stalloc's reservation. The same in every run (within a few blocks)."""
    return r["mem_loaded"]["free"]


def reservation_cost(r):
    """Bytes of GC heap the Stalloc took when built: its bytearray, the Stalloc object,
    its pooled views and tables (0 without a Stalloc)."""
    return r["mem_loaded"]["free"] - r["mem_heap"]["free"]


def loop_cost(r):
    """Bytes the bench's own lists (slots, histogram, ...) took before its loop: the same
    in every run."""
    return r["mem_heap"]["free"] - r["mem_start"]["free"]


def stalloc_largest_free(r):
    """Bytes of the Stalloc's largest free run at the end of run `r`; None without one."""
    if not r["map"]:
        return None
    return longest_run(r["map"]) * r["heap"]["block_size"]


def reservation_blocks(r):
    """The GC blocks of the Stalloc's bytearray: range(first, first + count), from its
    address and length (uctypes.addressof(heap._mem)) and the GC heap's first block; an
    empty range without a Stalloc."""
    if not r["reservation"]:
        return range(0)
    addr, length = r["reservation"]
    first, off = divmod(addr - r["gc_base"], GC_BLOCK)
    if off:
        raise RuntimeError("the Stalloc's bytearray does not start on a GC block")
    return range(first, first + -(-length // GC_BLOCK))


# gc_end_map's characters, and stalloc_cells' STALLOC_FREE
LIBRARY, BALLAST, RESERVED, HEAP_OBJECTS, STALLOC_FREE = "L", "b", "R", "o", "r"
KINDS = (  # for heapviz.write_heap_map: (character, colour, label); it adds the block counts
    (LIBRARY, "#e6550d", "library code and objects"),
    (BALLAST, "#fdae6b", "ballast (the library's size)"),
    (RESERVED, "#756bb1", "Stalloc, used"),
    (STALLOC_FREE, "#cbc9e2", "Stalloc, free"),
    (HEAP_OBJECTS, "#e7298a", "Stalloc's objects"),  # the Stalloc, its views, tables
)
REQUEST = "#525252"  # the bar of the request that failed on bytearrays
LARGEST = "#2ca25f"  # heapviz.LARGEST: the largest free block's bar, as in the map


def gc_end_map(r):
    """The GC heap at the end of run `r`, one character per GC block: '.' free; among the
    used blocks, RESERVED for the Stalloc's bytearray (reservation_blocks), LIBRARY for
    blocks that were free at BOOT, used at LOADED and are still used (the library's
    modules: code, functions, constants; BALLAST in a run without the library),
    HEAP_OBJECTS for those new from LOADED to HEAP (the Stalloc object, its views and
    tables), '#' for every other (the board's boot code, the bench, the live set)."""
    boot, loaded, built, end = (r["layout_" + k] for k in ("boot", "loaded", "heap", "end"))
    cells = list(end)
    code = LIBRARY if r.get("library", True) else BALLAST
    for k, c in enumerate(end):
        if c != ".":
            if boot[k] == "." and loaded[k] != ".":
                cells[k] = code
            elif loaded[k] == "." and built[k] != ".":
                cells[k] = HEAP_OBJECTS
    for k in reservation_blocks(r):
        cells[k] = RESERVED
    return "".join(cells)


def stalloc_cells(r):
    """gc_end_map(r) with the Stalloc's free blocks inside its bytearray as STALLOC_FREE,
    from the Stalloc's own map at the end of the run: its block k is GC block first + k
    (B is the GC block size and the data region starts on a GC block, checked by
    reservation_blocks); the trailer's GC block after them stays RESERVED."""
    cells = list(gc_end_map(r))
    if r.get("map") and B == GC_BLOCK:
        first = reservation_blocks(r).start
        for k, c in enumerate(r["map"]):
            if c == ".":
                cells[first + k] = STALLOC_FREE
    return "".join(cells)


def failed_request(r):
    """Bytes of the request a run's MemoryError refused; None if it did not fail."""
    m = re.search(r"allocating (\d+) bytes", r["error"])
    return int(m.group(1)) if m else None


def longest_run(cells, c="."):
    """The length of the longest run of character `c` in `cells`."""
    best = run = 0
    for x in cells:
        run = run + 1 if x == c else 0
        best = max(best, run)
    return best


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


def run_all(files, keys=ORDER, iterations=ITERATIONS, before=None):
    """Run `keys` (in ORDER's order: ("gc", False) needs a run with the library first, for
    its ballast) on fresh boards; {key: parsed result}. before(key): called before each."""
    results = {}
    for key in keys:
        if before:
            before(key)
        mode, library = key
        ballast = 0
        if library is False:
            with_library = [r for k, r in results.items() if k[1]]
            ballast = ballast_for(with_library[0])
        results[key] = run_board(files, mode, library, iterations, ballast=ballast)
    return results


def _us(r):
    return r["total_us"] / max(r["iters"], 1)


def summary(key, r, iterations=ITERATIONS):
    """A run in a few lines of text."""
    worst_gc = "%d us" % r["worst_gc_us"] if r["collections"] else "-"
    if r["fail"] >= 0:
        ended = "MemoryError at %d: %s" % (r["fail"], r["error"])
    else:
        ended = "no MemoryError"
    if key[1]:
        code = "the library's code and objects %d B" % code_cost(r)
    elif key[1] is False:
        code = "a ballast of the library's size %d B" % code_cost(r)
    else:
        code = "no library, no ballast"
    lines = [
        "%s on a %s board:" % (NAMES[key], HEAPSIZE),
        "  GC heap free: %d B at boot; %s; %d B for data; Stalloc's reservation %d B; "
        "%d B at the loop's start"
        % (
            r["mem_boot"]["free"],
            code,
            free_for_data(r),
            reservation_cost(r),
            r["mem_start"]["free"],
        ),
        "  iterations %d of %d; %s" % (r["iters"], iterations, ended),
        "  GC collections %d; worst iteration %d us (with a collection: %s); p99.9 < %d us"
        % (r["collections"], r["worst_us"], worst_gc, p999(r["hist"])),
        "  mean iteration %.2f us; peak live set %d B" % (_us(r), r["peak_live"]),
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
    from rich.table import Table

    from stalloc_tools import Progress

    import heaptrace
    import heapviz

    console = Console()
    if not console.is_terminal:  # piped or captured: wide enough for the table
        console = Console(width=120)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    # One line on stderr, rewritten in place, only when stderr is a terminal: a pipe or a
    # log gets the results alone.
    with tempfile.TemporaryDirectory() as tmp, Progress("demo") as show:
        steps = len(ORDER) + 2  # and the Stalloc runs again to the bytearrays' failure
        show("building .mpy files")
        files = build_files(tmp)
        done = [0]

        def before(key, iterations=args.iterations):
            done[0] += 1
            show("board %d of %d: %s, %d iterations" % (done[0], steps, NAMES[key], iterations))

        results = run_all(files, ORDER, args.iterations, before)
        early = run_early(files, results, args.iterations, before)

    for line in verdict(results, early):
        console.print(line, soft_wrap=True)
    console.print()
    console.print(
        "[bold]The setup.[/] The same loop on a virtual board (the MicroPython unix port "
        "behind a pty, code sent with mpremote) with a %d KiB GC heap, %d iterations: 16 "
        "live packets of 16-512 B, a 1-8 KiB temporary every 16th. The port is 64-bit: "
        "its GC blocks are %d B, a 32-bit board's %d B, so this heap has the blocks of a "
        "%d KiB heap on a 32-bit board (rp2, esp32), where objects take half the bytes "
        "and code about two thirds; buffer contents take the same bytes on both."
        % (HEAP_KIB, args.iterations, GC_BLOCK, GC_BLOCK_32, KIB_32)
    )
    console.print(table_of(Table, results, early, args.iterations))

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
    heapviz.write_trace_plot(
        series,
        path,
        title="Stalloc(%d, %d): the board's %d iterations replayed on the host"
        % (L, B, stalloc_run["iters"]),
    )
    written.append(path)
    pictures = {}
    for name, key, r, bars, title in gc_pictures(results, early):
        cells = stalloc_cells(r)
        path = os.path.join(out, name)
        heapviz.write_heap_map(
            cells,
            path,
            title=title,
            kinds=[k for k in KINDS if k[0] in cells],
            bars=bars,
        )
        pictures[name] = {
            "run": NAMES[key],
            "iterations": r["iters"],
            "blocks": {c: cells.count(c) for c in "#." + "".join(k[0] for k in KINDS)},
            "bars": [[n, label] for n, _, label in bars],
        }
        written.append(path)
    path = os.path.join(out, "results.json")
    with open(path, "w") as f:
        json.dump(
            {
                "heapsize": HEAPSIZE,
                "gc_block": GC_BLOCK,
                "heap_kib_32bit": KIB_32,
                "iterations": args.iterations,
                "stalloc": {"blocks": L, "block_size": B, "footprint": L * B + 12},
                "runs": {NAMES[key]: _saved(r) for key, r in results.items()},
                "runs_to_the_failure": {NAMES[key]: _saved(r) for key, r in early.items()},
                "gc_pictures": pictures,
                "host_replay_matches_board": same,
            },
            f,
            indent=1,
        )
    written.append(path)

    for paragraph in story(results, early, pictures, same):
        console.print()
        console.print(paragraph)
    console.print("\nWritten to %s:" % _show(out))
    for path in written:
        console.print("  " + os.path.basename(path))
    console.print("(%.1f s)" % (time.time() - t0))
    return 0 if same else 1


def _saved(r):
    # a run as results.json keeps it: the parsed fields and the budget's figures
    return dict(
        {k: v for k, v in r.items() if k != "output"},
        code_cost=code_cost(r),
        free_for_data=free_for_data(r),
        reservation_cost=reservation_cost(r),
        reservation_gc_blocks=len(reservation_blocks(r)),
    )


def failed_at(results):
    """The iterations the same-board bytearray run did before its MemoryError (the
    table's like-for-like bytearray column); None if it ran them all."""
    r = results[("gc", True)]
    return r["iters"] if r["fail"] >= 0 else None


def run_early(files, results, iterations=ITERATIONS, before=None):
    """The two Stalloc runs again, stopped after as many iterations as the same-board
    bytearrays did before their MemoryError: their pictures and worst iteration then
    compare like for like. {key: result}; empty if the bytearrays did not fail."""
    n = failed_at(results)
    early = {}
    if n is None or n >= iterations:
        return early
    for key in (("int", True), ("bytes", True)):
        if before:
            before(key, n)
        early[key] = run_board(files, key[0], key[1], n)
    return early


def gc_pictures(results, early):
    """The GC-heap pictures, as (file name, run key, result, bars, title): the bytearray
    runs at their MemoryError, the failed request's bar beside their largest free block;
    the Stalloc's integer-API run after the same number of iterations (the same request
    beside the Stalloc's largest free run) and at the end. The byte API's run gets a
    picture only where its map differs from the integer API's (its title says in how many
    blocks): the same requests put the same blocks in the same places, and every run
    builds the same Stalloc, its pooled views included."""
    gc_run = results[("gc", True)]
    want = failed_request(gc_run)
    pics = []

    def title(r, key, extra=""):
        at = "after %d iterations" % r["iters"]
        if r["fail"] >= 0:
            at += " (MemoryError)"
        elif r["iters"] == results[key]["iters"]:
            at += " (the end)"
        return "GC heap %s: %s, %d-byte GC blocks%s" % (at, NAMES[key], GC_BLOCK, extra)

    def request_bar(asked, served):
        n = -(-asked // GC_BLOCK)
        verb = "served from the Stalloc" if served else "refused: MemoryError"
        return (n, REQUEST, "the %d-byte request (%d blocks), %s" % (asked, n, verb))

    for name, key in (("gc-heap-same.png", ("gc", True)), ("gc-heap-alone.png", ("gc", False))):
        r = results[key]
        bars = []
        asked = failed_request(r)
        if asked:
            big = r["mem_end"]["largest_free"] // GC_BLOCK
            bars = [
                (big, LARGEST, "largest free block: %d B (%d blocks)" % (big * GC_BLOCK, big)),
                request_bar(asked, False),
            ]
        pics.append((name, key, r, bars, title(r, key)))
    for suffix, runs in (("", early or results), ("-end", results if early else {})):
        if not runs:
            continue
        key = ("int", True)
        r = runs[key]
        bars = []
        if want and suffix == "":
            big = longest_run(r["map"])
            bars = [
                (
                    big,
                    KINDS[3][1],
                    "the Stalloc's largest free run: %d B (%d blocks of %d B)" % (big * B, big, B),
                ),
                request_bar(want, True),
            ]
        pics.append(("gc-heap-stalloc%s.png" % suffix, key, r, bars, title(r, key)))
        other = ("bytes", True)
        mine, theirs = stalloc_cells(r), stalloc_cells(runs[other])
        diff = abs(len(mine) - len(theirs)) + sum(
            a != b for a, b in zip(mine, theirs, strict=False)
        )
        if diff:
            pics.append(
                (
                    "gc-heap-stalloc-bytes%s.png" % suffix,
                    other,
                    runs[other],
                    [],
                    title(runs[other], other, "; %d blocks differ from the integer API's" % diff),
                )
            )
    return pics


def table_of(Table, results, early, iterations=ITERATIONS):
    """The side-by-side table (a rich Table)."""
    blocks = results[RUNS[0]]["mem_boot"]["total"] // GC_BLOCK
    table = Table(
        title="%d KiB GC heap, 64-bit (%d blocks of %d B: a %d KiB heap on a 32-bit board), "
        "%d iterations" % (HEAP_KIB, blocks, GC_BLOCK, KIB_32, iterations)
    )
    table.add_column("")
    for key in RUNS:
        table.add_column(NAMES[key], justify="right")

    def row(label, fn):
        table.add_row(label, *[fn(results[key]) for key in RUNS])

    def code_cell(r):
        n = code_cost(r)
        return ("%d B" if r["library"] else "ballast %d B") % n

    def reservation_cell(r):
        n = reservation_cost(r)
        return "%d B" % n if n else "-"

    def stalloc_run_cell(r):
        n = stalloc_largest_free(r)
        return "-" if n is None else "%d B" % n

    row("GC heap free at boot", lambda r: "%d B" % r["mem_boot"]["free"])
    row("- library code, objects", code_cell)
    row("= free for the run's data", lambda r: "%d B" % free_for_data(r))
    row("- Stalloc's reservation", reservation_cell)
    row("- the loop's own lists", lambda r: "%d B" % loop_cost(r))
    row("= free at loop start", lambda r: "%d B" % r["mem_start"]["free"])
    table.add_section()
    row("iterations done", lambda r: "%d" % r["iters"])
    row("MemoryErrors", lambda r: "1 (at %d)" % r["fail"] if r["fail"] >= 0 else "0")
    row("GC collections", lambda r: "%d" % r["collections"])
    row("median iteration", lambda r: "< %d us" % bound(r["hist"], 0.5))
    row("mean iteration", lambda r: "%.2f us" % _us(r))
    row("p99.9 iteration", lambda r: "< %d us" % p999(r["hist"]))
    n = failed_at(results)
    if early:  # like for like: the same first n iterations in every column that has them
        cells = []
        for key in RUNS:
            r = early.get(key, results[key])
            cells.append("%d us" % r["worst_us"] if r["iters"] == n else "-")
        table.add_row("worst of the first %d" % n, *cells)
        row("worst, whole run", lambda r: "%d us of %d" % (r["worst_us"], r["iters"]))
    else:
        row("worst iteration", lambda r: "%d us" % r["worst_us"])
    row(
        "worst with a collection",
        lambda r: "%d us" % r["worst_gc_us"] if r["collections"] else "-",
    )
    row("peak GC heap in use", lambda r: "%d B" % r["alloc_max"])
    table.add_section()
    row("GC heap free at end", lambda r: "%d B" % r["mem_end"]["free"])
    row("largest free GC block", lambda r: "%d B" % r["mem_end"]["largest_free"])
    row("largest free run, Stalloc", stalloc_run_cell)
    row("Stalloc peak / blocks", lambda r: _heap_cell(r))
    return table


def verdict(results, early):
    """The three lines the demo opens with, in rich markup: what bytearrays did, what the
    Stalloc did, what it costs."""
    gc_run, alone, bare = results[("gc", True)], results[("gc", False)], results.get(BARE)
    int_run, byte_run = results[("int", True)], results[("bytes", True)]
    if gc_run["fail"] >= 0:
        asked = failed_request(gc_run)
        first = "MemoryError after %d iterations" % gc_run["iters"]
        if asked and gc_run["mem_end"]["largest_free"] < asked < gc_run["mem_end"]["free"]:
            first += ": %d B asked for, %d B free, but no free block over %d B (fragmentation)" % (
                asked,
                gc_run["mem_end"]["free"],
                gc_run["mem_end"]["largest_free"],
            )
        else:
            first += " (%s)" % gc_run["error"]
    else:
        first = "all %d iterations, %d GC collections" % (gc_run["iters"], gc_run["collections"])
    if (alone["fail"], alone["iters"]) == (gc_run["fail"], gc_run["iters"]):
        who = "bytearray, with or without the library:"
    else:  # the run beside the library's code first, the one without it after
        who = "bytearray, beside the library's code:"
        first += "; on a board without the library, %s" % (
            "MemoryError after %d iterations" % alone["iters"]
            if alone["fail"] >= 0
            else "all %d iterations" % alone["iters"]
        )
    stalloc_runs = (int_run, byte_run)
    if all(r["fail"] < 0 for r in stalloc_runs):
        n = sum(r["collections"] for r in stalloc_runs)
        second = "all %d iterations through both APIs, %s" % (
            int_run["iters"],
            "%d GC collections" % n if n else "no GC collection",
        )
    else:
        second = "integer API %s; byte API %s" % (_ended(int_run), _ended(byte_run))
    if all(r["alloc_start"] == r["alloc_max"] == r["alloc_end"] for r in stalloc_runs):
        second += ", nothing allocated on the GC heap in the loop"
    gc_runs = [r for r in (alone, gc_run, bare) if r is not None]
    ref = max(gc_runs, key=lambda r: r["iters"])
    third = (
        "the library's code (%d B) and the Stalloc (%d B) are held all the time; a mean "
        "iteration takes %.2f-%.2f us against %.2f us for bytearrays (%d iterations%s)"
        % (
            code_cost(gc_run),
            reservation_cost(int_run),
            min(_us(r) for r in stalloc_runs),
            max(_us(r) for r in stalloc_runs),
            _us(ref),
            ref["iters"],
            ", bare board" if ref is bare else "",
        )
    )
    return [
        "[bold]%s[/] %s." % (who, first),
        "[bold]Stalloc(%d, %d):[/] %s." % (L, B, second),
        "[bold]Its price:[/] %s." % third,
    ]


def _ended(r):
    """How a run ended, in words (a clause after "bytearrays")."""
    if r["fail"] < 0:
        return "ran all %d iterations with %d collections" % (r["iters"], r["collections"])
    text = "hit MemoryError at iteration %d after %d collections, with %d B free" % (
        r["fail"],
        r["collections"],
        r["mem_end"]["free"],
    )
    m = re.search(r"allocating (\d+) bytes", r["error"])
    if m and r["mem_end"]["largest_free"] < int(m.group(1)) < r["mem_end"]["free"]:
        return text + " but no free block of the %s B asked for (at most %d B): fragmentation" % (
            m.group(1),
            r["mem_end"]["largest_free"],
        )
    return text + " (%s)" % r["error"]


def story(results, early, pictures, same):
    """What the table shows, in paragraphs of rich markup; each comparison is worded from
    the numbers of this run."""
    alone, gc_run = results[("gc", False)], results[("gc", True)]
    int_run, byte_run = results[("int", True)], results[("bytes", True)]
    stalloc_runs = (int_run, byte_run)
    bare = results.get(BARE)
    data = [free_for_data(results[key]) for key in RUNS]
    code = code_cost(gc_run)
    res = reservation_cost(int_run)
    nres = len(reservation_blocks(int_run))
    paras = [
        "[bold]Budgets.[/] Every run had the same free GC heap for its data: %d B (%s). "
        "From the %d B free at boot (the board's own code and the bench loaded), the "
        "library's modules took %d B (code, functions and constants; on a 32-bit board "
        "about two thirds of the bytes: the README's memory table); the "
        '"no library" run holds a bytearray of that size in their place, so every column '
        "pays for the library's code and the columns compare the loops alone. The Stalloc "
        "runs then took %d B of their free heap for the Stalloc: its %d-byte bytearray "
        "(%d GC blocks) and %d B of objects (the Stalloc, its %d pooled views, tables). "
        "The loop's own lists took %d B in every run, which left %d B free at the loop's "
        "start for bytearrays and %d B in the Stalloc runs."
        % (
            data[0],
            "all equal"
            if max(data) == min(data)
            else "within %d B: %s" % (max(data) - min(data), ", ".join(map(str, data))),
            gc_run["mem_boot"]["free"],
            code,
            res,
            L * B + 12,
            nres,
            res - nres * GC_BLOCK,
            VIEWS,
            loop_cost(gc_run),
            gc_run["mem_start"]["free"],
            int_run["mem_start"]["free"],
        ),
        "[bold]Results.[/] On the same board, plain bytearrays %s; without the library "
        "they %s. The Stalloc %s through the integer API (heap.memory and block indexes) and "
        "%s through the byte API (%d pooled views, repointed: no view is made), %s. "
        "p99.9 iteration: < %d us and < %d us. At the end the GC heap's largest free block "
        "was %d B in the Stalloc runs (and the Stalloc's own largest free run %d B), "
        "against %d B (same board) and %d B (no library) with bytearrays."
        % (
            _ended(gc_run),
            _ended(alone),
            "ran all %d iterations" % int_run["iters"] if int_run["fail"] < 0 else _ended(int_run),
            "all %d" % byte_run["iters"] if byte_run["fail"] < 0 else _ended(byte_run),
            VIEWS,
            "with %d and %d collections, and gc.mem_alloc() never moved in either"
            % (int_run["collections"], byte_run["collections"])
            if all(r["alloc_start"] == r["alloc_max"] == r["alloc_end"] for r in stalloc_runs)
            else "with %d and %d collections; gc.mem_alloc() rose by up to %d B and %d B"
            % (
                int_run["collections"],
                byte_run["collections"],
                int_run["alloc_max"] - int_run["alloc_start"],
                byte_run["alloc_max"] - byte_run["alloc_start"],
            ),
            p999(int_run["hist"]),
            p999(byte_run["hist"]),
            int_run["mem_end"]["largest_free"],
            stalloc_largest_free(int_run),
            gc_run["mem_end"]["largest_free"],
            alone["mem_end"]["largest_free"],
        ),
    ]
    # Per-call speed from the longest bytearray run: the equal-budget ones may have
    # stopped after a few hundred iterations, where one slow iteration moves the mean.
    gc_runs = [r for r in (alone, gc_run, bare) if r is not None]
    ref = max(gc_runs, key=lambda r: r["iters"])
    where = "the bare board's, below" if ref is bare else _name_of(results, ref)
    short = [r for r in (alone, gc_run) if r is not ref and r["iters"] < 10_000]
    faster = _us(ref) < min(_us(r) for r in stalloc_runs)
    paras.append(
        "[bold]Where the library does not win.[/] %s: a mean iteration of %.2f us over the "
        "%d iterations of the longest bytearray run (%s%s), against %.2f us for the integer "
        "API and %.2f us for the byte API%s. The library's code (%d B) and the Stalloc "
        "(%d B) hold their memory whether the loop needs it or not: %d B free at the "
        "loop's start against %d B for bytearrays, and at its peak the loop used %d of "
        "the Stalloc's %d blocks. %s are mostly the host descheduling the board's "
        "process, a process on a shared machine: they move from run to run; the collection "
        "and MemoryError counts do not."
        % (
            "Per call, bytearrays are faster"
            if faster
            else "Per call, bytearrays were not faster in this run",
            _us(ref),
            ref["iters"],
            where,
            "; the equal-budget runs stopped after %s iterations, too few for a mean: "
            "%s us"
            % (
                " and ".join(str(r["iters"]) for r in short),
                " and ".join("%.2f" % _us(r) for r in short),
            )
            if short
            else "",
            _us(int_run),
            _us(byte_run),
            "; bytearrays pay in collections instead (%d in that run, one every %d "
            "iterations)" % (ref["collections"], ref["iters"] // ref["collections"])
            if faster and ref["collections"]
            else "",
            code,
            res,
            int_run["mem_start"]["free"],
            gc_run["mem_start"]["free"],
            int_run["heap"]["peak_used"],
            L,
            _worst(results, early),
        )
    )
    if bare is not None:
        paras.append(
            "Not an equal budget, so not in the table: on a bare board, with neither the "
            "library nor a ballast (%d B free for data, the library's %d B included), "
            "bytearrays %s." % (free_for_data(bare), code, _ended(bare))
        )
    paras.append(_pictures(results, early, pictures))
    paras.append(
        "The host replayed the board's requests through stalloc.trace: final heap map "
        + ("[green]identical[/] to" if same else "[red]DIFFERENT[/] from")
        + " the board's."
    )
    return paras


def _worst(results, early):
    # The worst iterations, like for like: over the same first iterations when the
    # Stalloc ran again to the bytearrays' failure, each with its count otherwise.
    gc_run, int_run, byte_run = (
        results[k] for k in (("gc", True), ("int", True), ("bytes", True))
    )
    if early:
        e_int, e_byte = early[("int", True)], early[("bytes", True)]
        return (
            "Worst iterations over the same first %d iterations (%d us integer API, %d us "
            "byte API, %d us same-board bytearrays; over all %d the Stalloc's were %d us "
            "and %d us)"
            % (
                gc_run["iters"],
                e_int["worst_us"],
                e_byte["worst_us"],
                gc_run["worst_us"],
                int_run["iters"],
                int_run["worst_us"],
                byte_run["worst_us"],
            )
        )
    return "Worst iterations (%d us integer API, %d us byte API, %d us same-board bytearrays)" % (
        int_run["worst_us"],
        byte_run["worst_us"],
        gc_run["worst_us"],
    )


def _pictures(results, early, pictures):
    # The Pictures paragraph: what each gc-heap-*.png shows, at which iteration.
    int_name = NAMES[("int", True)]
    first = next(p for p in pictures.values() if p["run"] == int_name)
    counts = first["blocks"]
    files = ", ".join(
        "%s (%s, %d iterations)" % (name, p["run"], p["iterations"])
        for name, p in pictures.items()
    )
    same_bytes = not any(p["run"] == NAMES[("bytes", True)] for p in pictures.values())
    return (
        "[bold]Pictures.[/] %s: the GC heap from micropython.mem_info(1), one square per "
        "%d-byte GC block, after a collection with the live set held%s. In orange the "
        "library's code and objects (blocks free before the imports, taken by them and "
        "still held: %d), in light orange the ballast in their place, in purple the "
        "Stalloc's bytearray (%d blocks, from uctypes.addressof(heap._mem)), dark where its "
        "own blocks are in use, pale where free; in pink the Stalloc object, its %d pooled "
        "views and tables (%d GC blocks, not views); in blue everything else (the board's "
        "boot code, the bench, the live buffers); in green the largest free block. %s"
        % (
            files,
            GC_BLOCK,
            "; the Stalloc's after as many iterations as the bytearrays did before their "
            "MemoryError, and at the end"
            if early
            else "",
            counts[LIBRARY],
            counts[RESERVED] + counts[STALLOC_FREE],
            VIEWS,
            counts[HEAP_OBJECTS],
            "Under the bytearray pictures the request that failed is drawn beside the "
            "largest free block, to scale; under the Stalloc's the same request beside the "
            "Stalloc's largest free run. "
            if early
            else "",
        )
        + (
            "The byte API's GC heap is the integer API's block for block (the same "
            "requests fill the same blocks; both build the same Stalloc and views), so it "
            "has no picture of its own. "
            if same_bytes
            else ""
        )
        + "stalloc-heap-map.png is the Stalloc's own blocks at the end, "
        "stalloc-fragmentation.png their use over the run, replayed on the host."
    )


def _name_of(results, r):
    return next(NAMES[k] for k, v in results.items() if v is r)


def _heap_cell(r):
    if not r["heap"]:
        return "-"
    return "%d / %d" % (r["heap"]["peak_used"], r["heap"]["blocks"])


def _show(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


if __name__ == "__main__":
    sys.exit(main())
