"""Benchmarks: stalloc against what users write today and against the floor, per runtime.

    .venv/bin/python tools/bench.py                  # every runtime, a table on the terminal
    .venv/bin/python tools/bench.py --quick          # a few-second smoke run
    .venv/bin/python tools/bench.py --json --plots   # out/bench.json, out/bench-plots/
    .venv/bin/python tools/bench.py --results out/bench.json --plots   # redraw, run nothing
    .venv/bin/python tools/bench.py --readme         # also rewrite docs/performance.md's tables
                                                     # and README.md's speed figures
    .venv/bin/python tools/bench.py --runtimes cpython,mpy

Runtimes, each a fresh process running tools/_bench_child.py (the workloads, portable):
  cpython    this Python;
  mpy        the MicroPython unix port, viper kernels: the workloads with -X heapsize=512k
             (a big board's heap, so the GC's collections show), the micro-benchmarks
             in a second process with -X heapsize=2M (as in the README's history);
  mpy-pure   the same with STALLOC_PURE=1 (the pure-Python kernels);
  vboard     tools/vboard.py's virtual board (the unix port with a 256 KiB GC heap behind a
             pty), the library and the workloads compiled to .mpy (tools/build.py), copied
             with `mpremote cp` and run with `mpremote exec`, as on a USB board.
The child prints progress lines and one JSON document; this side draws the progress bar
(rich), the tables (rich), writes --json (everything, per-operation histograms
included), --plots (matplotlib, Agg), the section of docs/performance.md between
<!-- bench:begin --> and <!-- bench:end --> and the README's speed sentence between
<!-- bench-summary:begin --> and <!-- bench-summary:end --> (the same run's figures, the
one source of every speed figure the docs quote). What is measured and how: the top of
tools/_bench_child.py. Not part of the test run (tests/cpython/test_bench.py runs
--quick and checks the JSON's shape, never a timing).

--json and --plots without a path write into out/ (git-ignored; made when needed); a path
given is used as given, its missing folders made. An output that cannot be written is
refused before anything runs; --results PATH runs nothing and shows (and writes again,
with --json, --plots, --readme) a document an earlier --json wrote. A missing or
malformed --results file, or an output path that cannot be written, is one `error:` line
on stderr and exit status 2.

Ratios mean something inside one runtime of one run: this VM's absolute times drift by
up to 30 % between runs.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
CHILD = os.path.join(TOOLS, "_bench_child.py")
README = os.path.join(ROOT, "docs", "performance.md")  # where --readme writes
SUMMARY = os.path.join(ROOT, "README.md")  # and its speed sentence, from the same run
sys.path.insert(0, TOOLS)

import _bench_report as report  # noqa: E402  (tools/_bench_report.py)
from _proc import lines_until  # noqa: E402

MPY_HEAP = "512k"  # the unix port's GC heap for the workloads: a big board's
MICRO_HEAP = "2M"  # ... and for the micro-benchmarks, as in their history
VBOARD_HEAP = "256k"
RUNTIMES = {
    "cpython": "CPython %d.%d" % sys.version_info[:2],
    "mpy": "MicroPython unix, viper",
    "mpy-pure": "MicroPython unix, pure",
    "vboard": "virtual board %s" % VBOARD_HEAP,
}
DEFAULT_RUNTIMES = ("cpython", "mpy", "mpy-pure", "vboard")
OUT = "out"  # where reports go by default (git-ignored), made when needed
JSON_DEFAULT = os.path.join(OUT, "bench.json")
PLOTS_DEFAULT = os.path.join(OUT, "bench-plots")


class BenchError(RuntimeError):
    pass


def find_tool(name):
    """An executable next to sys.executable (the venv's bin), else on PATH, else None."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return shutil.which(name)


def stream(cmd, on_line, env=None, cwd=None, timeout=1800.0):
    """Run cmd, calling on_line(line) for each line of its stdout as it comes; return
    (exit code, every line). stderr joins stdout."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        text=True,
        errors="replace",
    )
    lines = []
    deadline = time.monotonic() + timeout
    try:
        try:
            for line in lines_until(proc, deadline):
                lines.append(line)
                on_line(line)
        except subprocess.TimeoutExpired:  # a child that hangs, printing or not
            proc.kill()
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return code, lines


def parse_child(lines, what):
    for line in reversed(lines):
        if line.startswith("@@json "):
            return json.loads(line[7:])
    tail = "".join(line for line in lines if not line.startswith("@@progress"))[-3000:]
    raise BenchError("%s printed no result; its output ends with:\n%s" % (what, tail))


def progress_handler(update):
    def on_line(line):
        if line.startswith("@@progress "):
            parts = line.split(None, 3)
            update(int(parts[1]), int(parts[2]), parts[3].strip() if len(parts) > 3 else "")

    return on_line


def run_local(key, child_args, update):
    """cpython, mpy, mpy-pure: the child as a subprocess. On MicroPython two of them: the
    workloads in a board-sized GC heap (MPY_HEAP), the micro-benchmarks in MICRO_HEAP
    (the heap their history in the README was measured with)."""
    env = dict(os.environ)
    if key == "cpython":
        env["PYTHONPATH"] = os.path.join(ROOT, "lib")
        return _child(key, [sys.executable, CHILD] + child_args, env, update)
    mpy = find_tool("micropython")
    if mpy is None:
        raise BenchError("micropython not found: run tools/test.sh once (it makes .venv)")
    env["MICROPYPATH"] = os.path.join(ROOT, "lib")
    env["STALLOC_PURE"] = "1" if key == "mpy-pure" else "0"
    done = [0]
    cmd = [mpy, "-X", "heapsize=" + MPY_HEAP, CHILD] + child_args + ["--live="]
    doc = _child(key, cmd, env, update)
    done[0] = doc.pop("_progress_total", 0)
    cmd = [mpy, "-X", "heapsize=" + MICRO_HEAP, CHILD] + child_args + ["--only="]
    micro = _child(key, cmd, env, lambda d, t, label: update(done[0] + d, done[0] + t, label))
    doc["micro"] = micro["micro"]
    doc["micro"]["heapsize"] = MICRO_HEAP
    doc["runtime"]["heapsize"] = MPY_HEAP
    return doc


def _child(key, cmd, env, update):
    seen = [0]

    def counting(done, total, label):
        seen[0] = total
        update(done, total, label)

    code, lines = stream(cmd, progress_handler(counting), env=env, cwd=ROOT)
    doc = parse_child(lines, RUNTIMES[key])
    if code != 0:
        raise BenchError("%s exited with %d" % (RUNTIMES[key], code))
    doc["_progress_total"] = seen[0]
    return doc


def run_vboard(child_args, update):
    """The virtual board: build .mpy, copy with mpremote on one board, run on a fresh one
    booting from the same disk (the copy's leftovers do not cut its heap up)."""
    import build  # tools/build.py
    import vboard  # tools/vboard.py

    mpy_cross = build.find_mpy_cross()
    mpremote = find_tool("mpremote")
    if mpy_cross is None or mpremote is None:
        raise BenchError("mpy-cross or mpremote missing: run tools/test.sh once")
    out = tempfile.mkdtemp(prefix="stalloc-bench-")
    try:
        build.build(build.load_board("unix"), out, mpy_cross=mpy_cross, log=lambda *a: None)
        cmd = [mpy_cross, "-s", "_bench_child.py"]
        cmd += ["-o", os.path.join(out, "lib", "_bench_child.mpy"), CHILD]
        subprocess.run(cmd, check=True, capture_output=True)
        disk = os.path.join(out, "disk.img")
        with vboard.VirtualBoard(VBOARD_HEAP, disk=disk) as vb:
            args = ["cp", "-r", "lib/stalloc", ":lib/"]
            args += ["+", "cp", "lib/_bench_child.mpy", ":lib/"]
            vb.mpremote(*args, cwd=out, timeout=300)
        code_text = "import _bench_child\n_bench_child.main(%r)\n" % (child_args,)
        with vboard.VirtualBoard(VBOARD_HEAP, disk=disk) as vb:
            cmd = [mpremote, "connect", vb.port, "resume", "exec", code_text]
            code, lines = stream(cmd, progress_handler(update))
            doc = parse_child(lines + [vb.transcript()[-3000:]], RUNTIMES["vboard"])
            if code != 0:
                raise BenchError("mpremote exited with %d on the virtual board" % code)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    doc["runtime"]["board"] = "unix port, -X heapsize=%s, library as .mpy" % VBOARD_HEAP
    doc["runtime"]["heapsize"] = VBOARD_HEAP
    return doc


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d-core %s, %s %s" % (
        os.cpu_count() or 1,
        " ".join(model.split()),
        platform.system(),
        platform.machine(),
    )


def command_line(argv):
    """How this run was started, for the README: no paths of this machine (the output
    options are dropped, they change nothing measured)."""
    exe = os.path.relpath(sys.executable, ROOT)
    if exe.startswith(".."):
        exe = "python"
    keep, skip = [], False
    for a in argv:
        if skip and not a.startswith("-"):  # the path after --json or --plots
            skip = False
        elif a in ("--json", "--plots"):
            skip = True  # ... if one follows: alone, each has a default
        elif not a.startswith(("--json=", "--plots=")):
            skip = False
            keep.append(a)
    return " ".join([exe, "tools/bench.py"] + [shlex.quote(a) for a in keep])


def child_args(args, key):
    out = []
    if args.quick:
        out.append("--quick")
    if args.n:
        out.append("--n=%d" % args.n)
    if args.rounds:
        out.append("--rounds=%d" % args.rounds)
    if key == "vboard":
        out.append("--live=0")  # no room for 1 MiB of live data in 256 KiB
    return out


class InputError(Exception):
    """A file named on the command line that cannot be used: str() is one line naming it."""


def error(message):
    """`error: MESSAGE` as one line on stderr; returns 2, the exit status for bad input."""
    sys.stderr.write("error: %s\n" % " ".join(str(message).split()))
    sys.stderr.flush()
    return 2


def check_output(path, folder=False):
    """Raise InputError, naming `path`, when it cannot be written as a file (folder=False)
    or a folder, missing parent folders made: before a run, not after it."""
    if os.path.exists(path):
        if folder != os.path.isdir(path):
            raise InputError("%s: %s" % (path, "not a folder" if folder else "is a folder"))
        if not os.access(path, os.W_OK):
            raise InputError("%s: not writable" % path)
        return
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise InputError("%s: cannot be made: %s is not a folder" % (path, parent))
    if not os.access(parent, os.W_OK):
        raise InputError("%s: cannot be made: %s is not writable" % (path, parent))


def load_results(path):
    """The results document a --json run wrote, read back. InputError, naming the file,
    when it is missing, unreadable, not JSON or not such a document."""
    try:
        with open(path, encoding="utf-8") as f:
            results = json.load(f)
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror or e)) from None
    except UnicodeDecodeError:
        raise InputError("%s: not a text file (it is not UTF-8)" % path) from None
    except ValueError as e:  # json.JSONDecodeError
        raise InputError("%s: not JSON: %s" % (path, e)) from None
    if (
        not isinstance(results, dict)
        or results.get("schema") != 1
        or not isinstance(results.get("runs"), list)
    ):
        raise InputError("%s: not a tools/bench.py --json results document (schema 1)" % path)
    try:  # render it once where nobody sees: a missing figure shows here, not halfway
        import io

        from rich.console import Console

        report.print_tables(Console(file=io.StringIO(), width=120), results)
        report.readme_section(results)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError) as e:
        what = "missing %s" % e if isinstance(e, KeyError) else str(e)
        raise InputError(
            "%s: a tools/bench.py results document with a part missing or wrong (%s)"
            % (path, what)
        ) from None
    return results


def write_json(results, path):
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few-second smoke run")
    ap.add_argument(
        "--runtimes",
        default=",".join(DEFAULT_RUNTIMES),
        help="comma-separated, of: %s (default all)" % ", ".join(RUNTIMES),
    )
    ap.add_argument("--n", type=int, default=0, help="operations per workload (3000)")
    ap.add_argument("--rounds", type=int, default=0, help="batch rounds, best kept (3)")
    ap.add_argument(
        "--json",
        metavar="PATH",
        nargs="?",
        const=JSON_DEFAULT,
        help="write every figure as JSON (PATH default: %s)" % JSON_DEFAULT,
    )
    ap.add_argument(
        "--plots",
        metavar="DIR",
        nargs="?",
        const=PLOTS_DEFAULT,
        help="write PNG plots, needs matplotlib (DIR default: %s)" % PLOTS_DEFAULT,
    )
    ap.add_argument(
        "--readme",
        action="store_true",
        help="rewrite the tables in docs/performance.md and the speed figures in README.md",
    )
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument(
        "--results",
        metavar="PATH",
        help="run nothing: show (and --json, --plots, --readme) a saved --json document",
    )
    args = ap.parse_args(argv)
    keys = [k.strip() for k in args.runtimes.split(",") if k.strip()]
    for k in keys:
        if k not in RUNTIMES:
            ap.error("unknown runtime %r (choose from %s)" % (k, ", ".join(RUNTIMES)))
    try:
        if args.json:
            check_output(args.json)
        if args.plots:
            check_output(args.plots, folder=True)
        saved = load_results(args.results) if args.results else None
    except InputError as e:
        return error(e)

    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)  # a log file or a pipe: wide enough for the tables
    if saved is not None:
        results, errors = saved, []
    else:
        results, errors = run_all(args, argv, keys, console)

    report.print_tables(console, results)
    for e in errors:
        console.print("[red]error[/red] %s" % e)
    try:
        if args.json:
            write_json(results, args.json)
            console.print("wrote %s" % args.json)
        if args.plots:
            for path in report.plots(results, args.plots):
                console.print("wrote %s" % path)
    except OSError as e:  # the checks above passed, so something changed since
        return error("%s: %s" % (e.filename or args.json, e.strerror or e))
    if args.readme:
        if errors:
            console.print("[red]docs/performance.md not rewritten: a runtime failed[/red]")
        else:
            report.rewrite_readme(README, report.readme_section(results))
            console.print("rewrote the tables in docs/performance.md")
            summary = report.speed_summary(results)
            if summary is not None:  # the unix port viper run is its source
                report.rewrite_readme(SUMMARY, summary, report.SUMMARY_BEGIN, report.SUMMARY_END)
                console.print("rewrote the speed figures in README.md")
    return 1 if errors else 0


def run_all(args, argv, keys, console):
    """Run every runtime in `keys` with a progress bar; return (results, errors)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    results = {
        "schema": 1,
        "command": command_line(argv),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "quick": args.quick,
        "runs": [],
    }
    started = time.monotonic()
    progress = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=console,
        disable=args.no_progress,
        transient=False,
    )
    errors = []
    with progress:
        tasks = {k: progress.add_task(RUNTIMES[k], total=None, step="") for k in keys}
        for key in keys:
            task = tasks[key]

            def update(done, total, label, task=task):
                progress.update(task, completed=done, total=total, step=label[:40])

            try:
                if key == "vboard":
                    doc = run_vboard(child_args(args, key), update)
                else:
                    doc = run_local(key, child_args(args, key), update)
            except Exception as e:  # a runtime that fails is reported; the others run
                errors.append("%s: %s" % (RUNTIMES[key], e))
                progress.update(task, step="FAILED")
                continue
            doc.pop("_progress_total", None)
            doc["key"] = key
            doc["label"] = RUNTIMES[key]
            results["runs"].append(doc)
            progress.update(task, step="done")
    results["seconds"] = round(time.monotonic() - started, 1)
    return results, errors


if __name__ == "__main__":
    sys.exit(main())
