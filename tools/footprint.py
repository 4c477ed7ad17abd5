"""What each entry point of stalloc keeps in RAM on MicroPython, measured.

    python tools/footprint.py                      # the table: every entry point, every runtime
    python tools/footprint.py --runtime wasm32     # one runtime
    python tools/footprint.py --check              # against tools/footprint_budget.json
    python tools/footprint.py --markdown           # the table as Markdown
    python tools/footprint.py --readme             # ... written into README.md
    python tools/footprint.py --json               # the numbers, for other tools
    python tools/footprint.py --peak               # free GC heap each entry point needs

An entry point is what a program imports and does first (`from stalloc import Stalloc`,
a heap, one call of each API). Each is measured alone in a fresh interpreter: the bytes
of GC heap in use after a collection, minus the same before the imports. So each row is
what a program using only that entry point pays, the library's code and objects included.

Runtimes:
  wasm32    a real 32-bit MicroPython (the WebAssembly port, tools/wasm), bytecode .mpy
            as a board without the native emitter loads it after a build or mip install
  unix64    the 64-bit unix port, .mpy for x64 with the native twins (which this port
            keeps outside the GC heap; most boards allocate native code on the GC heap)
  romfs64   the 64-bit unix port executing the same .mpy in place from a ROMFS image
            (`mpremote romfs build`, mounted with vfs.VfsRom), as a board does after
            `mpremote romfs deploy`: bytecode stays in flash, objects are still made in RAM

--peak: the free GC heap each entry point needs to run at all, on the 64-bit unix port,
from .py sources (the board compiles them: the parser's and compiler's memory on top) and
from .mpy: the smallest free heap, to 256 B, at which it succeeds in a fresh process
(a ballast bytearray leaves that much free), found by bisection. Importing takes more
than the module keeps afterwards. A 32-bit board needs less (objects take half the bytes).

Memory is deterministic, so --check is a test: exit status 1 when an entry point keeps
more than its budget on a runtime, 2 for usage errors or a runtime that failed to run.
The WebAssembly port's gc.collect() frees nothing inside a running call, so every step
runs as its own top-level execution there (tools/wasm/upy.mjs --steps).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import build  # noqa: E402  (tools/build.py)

BUDGET = os.path.join(TOOLS, "footprint_budget.json")
README = os.path.join(ROOT, "README.md")
MARKERS = (
    "<!-- footprint table: tools/footprint.py --readme -->",
    "<!-- end of footprint table -->",
)
RUNTIMES = ("wasm32", "unix64", "romfs64")
BOARD = {"wasm32": "webassembly", "unix64": "unix", "romfs64": "unix"}

# (name, code run as one step). The names a program would keep stay bound.
ENTRY_POINTS = (
    ("import stalloc", "import stalloc"),
    ("Stalloc, imported", "from stalloc import Stalloc"),
    (
        "Stalloc, both APIs used",
        "from stalloc import Stalloc\n"
        "h = Stalloc(64, 16)\n"
        "h.deallocate_blocks(h.allocate_blocks(2), 2)\n"
        "h.free(h.alloc(20))",
    ),
    (
        # the same without the view pool (views=0): the byte API makes fresh views
        "Stalloc, both APIs, views=0",
        "from stalloc import Stalloc\n"
        "h = Stalloc(64, 16, views=0)\n"
        "h.deallocate_blocks(h.allocate_blocks(2), 2)\n"
        "h.free(h.alloc(20))",
    ),
    (
        "diagnostics",
        "from stalloc import Stalloc\n"
        "h = Stalloc(64, 16)\n"
        "h.check()\ns = h.stats()\nt = str(h)\nm = h.map()",
    ),
    (
        "SyncStalloc",
        "from stalloc import SyncStalloc\nh = SyncStalloc(64, 16)\nh.free(h.alloc(20))",
    ),
    (
        "AllocChain + System",
        "from stalloc import Stalloc, System\n"
        "c = Stalloc(64, 16).chain(System(4096))\nc.free(c.alloc(2000))",
    ),
    (
        "second stack",
        "from stalloc import uninit, buffer\nuninit(256, len)\nbuffer(range(4), len)",
    ),
    (
        "alloca family",
        "from stalloc import alloca, stackalloc\nalloca(64, len)\nstackalloc(4, 0, len)",
    ),
    (
        "MemoryArena",
        "from stalloc import MemoryArena\n"
        "a = MemoryArena(256)\nwith a.allocator() as s:\n    s.alloc(16)",
    ),
    (
        # without pooled views: no repointing code loaded, a fresh view per alloc()
        "MemoryArena, views=0",
        "from stalloc import MemoryArena\n"
        "a = MemoryArena(256, views=0)\nwith a.allocator() as s:\n    s.alloc(16)",
    ),
    (
        "TraceRecorder",
        "from stalloc import Stalloc, TraceRecorder\n"
        "r = TraceRecorder(Stalloc(64, 16), 16)\nr.free(r.alloc(20))",
    ),
    (
        "IrqStalloc",
        "from stalloc.irq import IrqStalloc\n"
        "h = IrqStalloc(64, 16, (lambda: 0, lambda s: None))\nh.free(h.alloc(20))",
    ),
    (
        # Every module of the core and the extension packages (import * would load only
        # the names already loaded on MicroPython 1.27).
        "everything",
        "import stalloc\n"
        "for _m in ('heap', 'diag', '_slow', '_scope', 'sync', 'chain', 'stack', '_stackx',\n"
        "           '_typed', '_alloca', 'arena', 'trace', 'irq'):\n"
        "    __import__('stalloc.' + _m)",
    ),
)

# What the objects cost, beyond the memory they manage: (name, code, setup). The setup
# runs before the baseline (its cost is not counted); `_minus` is taken off the result.
OBJECTS = (
    (
        "a Stalloc(1024, 16) beyond its bytearray",
        "h = Stalloc(1024, 16)\n_minus = h.footprint",
        "from stalloc import Stalloc\nh = Stalloc(1, 4)\nh = None",  # modules loaded
    ),
    (
        "a live view of alloc(16)",
        "v = h.alloc(16)",
        "from stalloc import Stalloc\nh = Stalloc(1024, 16)\nh.free(h.alloc(16))\nv = None",
    ),
)

# Steps around each entry point. Names are bound before the baseline so that measuring
# allocates nothing; the recursion clears stale words from the stack before collecting.
SETUP = (
    "import gc\n_base = _after = _minus = 0\n"
    "def _clear(n):\n    return _clear(n - 1) if n else 0\n"
)
COLLECT = "_clear(64)\ngc.collect()"
BASE = "_clear(64)\ngc.collect()\n_base = gc.mem_alloc()"
AFTER = "_clear(64)\ngc.collect()\n_after = gc.mem_alloc()"
REPORT = "print('FOOTPRINT', _after - _base - _minus)"
ROMFS_MOUNT = (
    "import sys, vfs\n"
    "vfs.mount(vfs.VfsRom(open(%r, 'rb').read()), '/rom')\n"
    "sys.path.insert(0, '/rom/lib')\n"
)


class Failed(Exception):
    pass


def _steps(code, prelude=""):
    return [SETUP + prelude, COLLECT, BASE, code, COLLECT, AFTER, REPORT]


def _parse(out, err, what):
    for line in out.splitlines():
        if line.startswith("FOOTPRINT "):
            return int(line.split()[1])
    raise Failed("%s printed no result:\n%s%s" % (what, out, err))


def _build(runtime, tmp):
    # The package as the runtime's board gets it (.mpy; the port modules included).
    out = os.path.join(tmp, BOARD[runtime])
    if not os.path.isdir(out):
        try:
            build.build(build.load_board(BOARD[runtime]), out, log=lambda *a: None)
        except build.BuildError as e:
            raise Failed("build for %s: %s" % (runtime, e)) from None
    return out


def _run_wasm(code, lib_root, setup=""):
    node = os.environ.get("NODE", "node")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(_steps(code, setup), f)
    try:
        proc = subprocess.run(
            [node, os.path.join(TOOLS, "wasm", "upy.mjs"), "--copy", "lib", "--path", "lib"]
            + ["--steps", f.name],
            cwd=lib_root,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.remove(f.name)
    return _parse(proc.stdout, proc.stderr, "wasm32")


def _run_unix(code, lib_root, romfs=None, setup=""):
    micropython = os.path.join(os.path.dirname(sys.executable), "micropython")
    prelude = ROMFS_MOUNT % romfs if romfs else "import sys\nsys.path.insert(0, 'lib')\n"
    prelude += setup
    # One process, each step exec'd in turn in the same globals, as the REPL would.
    script = "_g = {'__name__': '__main__'}\nfor _s in %r:\n    exec(_s, _g)\n" % (
        _steps(code, prelude),
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MICROPYPATH", "STALLOC_PURE")}
    env["MICROPYPATH"] = ".frozen"  # no repository lib/ on the path
    proc = subprocess.run(
        [micropython, "-X", "heapsize=2m", "-c", script],
        cwd=lib_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return _parse(proc.stdout, proc.stderr, "unix64")


def _romfs_image(lib_root, tmp):
    image = os.path.join(tmp, "stalloc.romfs")
    if not os.path.exists(image):
        mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
        tree = os.path.join(tmp, "romfs-tree")
        os.makedirs(tree, exist_ok=True)
        link = os.path.join(tree, "lib")
        if not os.path.exists(link):
            os.symlink(os.path.join(lib_root, "lib"), link)
        proc = subprocess.run(
            [mpremote, "romfs", "--no-mpy", "-o", image, "build", tree],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode:
            raise Failed("mpremote romfs build: %s%s" % (proc.stdout, proc.stderr))
    return image


def measure(runtimes=RUNTIMES, entries=ENTRY_POINTS + OBJECTS, progress=None):
    """{runtime: {entry point: bytes kept}}. Raises Failed if a runtime cannot run."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for runtime in runtimes:
            lib_root = _build(runtime, tmp)
            row = results[runtime] = {}
            for name, code, *setup in entries:
                if progress:
                    progress(runtime, name)
                setup = setup[0] + "\n" if setup else ""
                if runtime == "wasm32":
                    row[name] = _run_wasm(code, lib_root, setup)
                elif runtime == "unix64":
                    row[name] = _run_unix(code, lib_root, setup=setup)
                else:
                    image = _romfs_image(lib_root, tmp)
                    row[name] = _run_unix(code, lib_root, image, setup)
    return results


PEAK_STEP = 256  # bytes: the resolution of --peak
PEAK_HEAP = 512 * 1024  # the unix port's heap, more than any entry point needs from .py
PEAK_TRY = (
    "import gc, sys\nsys.path.insert(0, 'lib')\n"
    "gc.collect()\n_b = bytearray(max(0, gc.mem_free() - %d - 64))\ngc.collect()\n"
    "_free = gc.mem_free()\n"
    "try:\n    exec(%r)\nexcept MemoryError as _e:\n    print('FAILED', _free, _e)\n"
    "else:\n    print('PASSED', _free)\n"
)


def _try_at(code, lib_root, free):
    """(succeeded, the free GC heap it started with) for code run with about `free`
    bytes of GC heap free, in a fresh unix port."""
    micropython = os.path.join(os.path.dirname(sys.executable), "micropython")
    env = {k: v for k, v in os.environ.items() if k not in ("MICROPYPATH", "STALLOC_PURE")}
    env["MICROPYPATH"] = ".frozen"
    proc = subprocess.run(
        [micropython, "-X", "heapsize=%d" % PEAK_HEAP, "-c", PEAK_TRY % (free, code)],
        cwd=lib_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(("PASSED ", "FAILED ")):
            return line.startswith("PASSED"), int(line.split()[1])
    raise Failed("peak run printed no result:\n%s%s" % (proc.stdout, proc.stderr))


def peak(code, lib_root):
    """The smallest free GC heap (bytes, to PEAK_STEP) that code runs in."""
    lo, hi = 0, PEAK_HEAP // PEAK_STEP  # in steps: fails at lo (or lo is 0), runs at hi
    ok, free = _try_at(code, lib_root, hi * PEAK_STEP)
    if not ok:
        raise Failed("%r fails even with %d bytes free" % (code, free))
    need = free
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok, free = _try_at(code, lib_root, mid * PEAK_STEP)
        if ok:
            hi, need = mid, free
        else:
            lo = mid
    return need


def measure_peak(entries=ENTRY_POINTS, progress=None):
    """{"py": {entry point: bytes}, "mpy": {...}}: the free GC heap each needs (unix64)."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("py", "mpy"):
            out = os.path.join(tmp, kind)
            try:
                build.build(build.load_board("unix"), out, py=kind == "py", log=lambda *a: None)
            except build.BuildError as e:
                raise Failed("build: %s" % e) from None
            row = results[kind] = {}
            for name, code, *_ in entries:
                if progress:
                    progress("peak " + kind, name)
                row[name] = peak(code, out)
    return results


def peak_table(results, markdown=False):
    head = ["entry point", "from .py", "from .mpy"]
    rows = [[n, _size(results["py"][n]), _size(results["mpy"][n])] for n in results["py"]]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    w = [max(len(r[k]) for r in [head, *rows]) for k in range(3)]
    fmt = "%-*s  %*s  %*s"
    return "\n".join(fmt % (w[0], r[0], w[1], r[1], w[2], r[2]) for r in [head, *rows])


def _size(n):
    return "%d B" % n if n < 4096 else "%.1f KiB" % (n / 1024)


def table(results, markdown=False):
    runtimes = list(results)
    names = [e[0] for e in ENTRY_POINTS + OBJECTS if e[0] in results[runtimes[0]]]
    head = ["entry point"] + runtimes
    rows = [[n] + [_size(results[r][n]) for r in runtimes] for n in names]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(runtimes) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    fmt = "  ".join(
        "%-" + str(w) + "s" if k == 0 else "%" + str(w) + "s" for k, w in enumerate(widths)
    )
    return "\n".join(fmt % tuple(r) for r in [head, *rows])


def readme_with(text, table_md):
    """README text with the table between MARKERS replaced by table_md."""
    start, end = MARKERS
    a = text.index(start) + len(start)
    b = text.index(end, a)
    return text[:a] + "\n" + table_md + "\n" + text[b:]


def check(results, budget):
    """Lines naming every entry point over its budget (empty: all within)."""
    over = []
    for runtime, row in results.items():
        for name, kept in row.items():
            limit = budget.get(runtime, {}).get(name)
            if limit is None:
                over.append("%s: %s has no budget (kept %d bytes)" % (runtime, name, kept))
            elif kept > limit:
                over.append("%s: %s keeps %d bytes, budget %d" % (runtime, name, kept, limit))
    return over


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", action="append", choices=RUNTIMES, help="default: all")
    ap.add_argument("--check", action="store_true", help="compare with %s" % BUDGET)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    ap.add_argument(
        "--peak", action="store_true", help="the free GC heap each entry point needs (unix64)"
    )
    args = ap.parse_args(argv)
    if args.readme and args.runtime:
        ap.error("--readme writes every runtime's column: leave out --runtime")
    runtimes = tuple(args.runtime or RUNTIMES)

    def progress(runtime, name):
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K%s: %s" % (runtime, name))
            sys.stderr.flush()

    try:
        if args.peak:
            peaks = measure_peak(progress=progress)
        else:
            results = measure(runtimes, progress=progress)
    except (Failed, OSError, subprocess.TimeoutExpired) as e:
        print("\nerror: %s" % e, file=sys.stderr)
        return 2
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
    if args.peak:
        print(json.dumps(peaks, indent=2) if args.json else peak_table(peaks, args.markdown))
        return 0
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results, markdown=args.markdown))
    if args.readme:
        with open(README) as f:
            text = f.read()
        try:
            new = readme_with(text, table(results, markdown=True))
        except ValueError:
            print("error: README.md lacks the markers %s ... %s" % MARKERS, file=sys.stderr)
            return 2
        with open(README, "w") as f:
            f.write(new)
        print("wrote the table into README.md")
    if args.check:
        with open(BUDGET) as f:
            budget = json.load(f)
        over = check(results, budget)
        for line in over:
            print("over budget: " + line)
        return 1 if over else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
