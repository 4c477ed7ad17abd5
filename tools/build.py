"""Build stalloc for a board: .mpy files for the board's arch, or the .py sources.

    python tools/build.py --board unix                    # -> build/unix/lib/stalloc/*.mpy
    python tools/build.py --board rp2-pico --out build/pico
    python tools/build.py --board esp32 --py              # copy the .py files instead
    python tools/build.py --board rp2-pico --packages stalloc,stalloc-stack
    python tools/build.py --all                           # every board, build/<board>/...

The packages and their files are the ones mip installs: the core `stalloc` (package.json
at the root) and the extension packages (packages/<name>/package.json). All of them by
default. Each module is compiled as
    mpy-cross -march=<arch> -O<opt> -s stalloc/<name>.py -o <out>/lib/stalloc/<name>.mpy <src>
with <arch> the board's "mpy_cross_arch" in boards/<board>/board.json (none: bytecode
only, for a board without the native emitter) and -O3 by default (no asserts, no line
numbers: what micropython-lib freezes with); -s names the source as it sits on the
device, so no path of this machine ends up in the .mpy. mpy-cross is looked up next to
the running Python first (the virtualenv), then on PATH.

The native twins (*_native.py) hold @micropython.viper/native code: mpy-cross compiles
them only with -march, and a port loads the result only if the arch matches its own (else
the pure code runs). With --py every file is copied as source and the board compiles it,
native code included, for its own arch. On a board whose "native_emitter" is false the
.mpy build leaves them out. _cpython.py is CPython's alone and never built for a board.

Put the result on a board with: mpremote cp -r <out>/lib/stalloc :lib/
Exit status: 0 when every file was written, 1 if mpy-cross failed on any, 2 for usage
errors (unknown board or package, no mpy-cross).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = os.path.join(ROOT, "boards")
PACKAGES = os.path.join(ROOT, "packages")


class BuildError(Exception):
    pass


def board_names():
    return sorted(
        name
        for name in os.listdir(BOARDS)
        if os.path.isfile(os.path.join(BOARDS, name, "board.json"))
    )


def load_board(name):
    path = os.path.join(BOARDS, name, "board.json")
    if not os.path.isfile(path):
        raise BuildError(
            "unknown board %r (boards: %s)" % (name, ", ".join(board_names()) or "none")
        )
    with open(path) as f:
        return json.load(f)


def find_mpy_cross():
    """mpy-cross next to sys.executable (the virtualenv's bin/), else on PATH, else None."""
    here = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    for candidate in (here, here + ".exe"):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("mpy-cross")


def packages():
    """{package name: [(destination on the board, source path)]}, from the package.json
    files mip installs: the root one (the core, `stalloc`) and packages/*/package.json.
    Source paths are absolute."""
    found = {}
    jsons = [("stalloc", os.path.join(ROOT, "package.json"))]
    for path in sorted(glob.glob(os.path.join(PACKAGES, "*", "package.json"))):
        jsons.append((os.path.basename(os.path.dirname(path)), path))
    for name, path in jsons:
        with open(path) as f:
            urls = json.load(f)["urls"]
        here = os.path.dirname(path)
        found[name] = [(dest, os.path.normpath(os.path.join(here, src))) for dest, src in urls]
    return found


def modules(names=None):
    """Module names (stalloc/<name>.py) a board gets from the given packages (all by
    default), sorted."""
    return sorted(m for m, _ in _sources(names))


def _sources(names=None):
    # (module name, source path) of every file of the packages.
    table = packages()
    unknown = set(names or ()) - set(table)
    if unknown:
        raise BuildError(
            "unknown package %s (packages: %s)" % (", ".join(sorted(unknown)), ", ".join(table))
        )
    found = []
    for name in names or table:
        for dest, src in table[name]:
            found.append((os.path.splitext(dest.split("/", 1)[1])[0], src))
    return sorted(found)


def _show(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def build(board, out, opt=3, py=False, mpy_cross=None, log=print, names=None):
    """Write the packages `names` (all by default) for board (a board.json dict) under
    out/lib/stalloc. Returns the list of files written. Raises BuildError listing every
    module that mpy-cross refused; the files that did compile stay written.
    """
    dest = os.path.join(os.path.abspath(out), "lib", "stalloc")
    os.makedirs(dest, exist_ok=True)
    # Remove what an earlier build left: a stale .py next to a new .mpy would win the
    # import (MicroPython tries .py first).
    for old in glob.glob(os.path.join(dest, "*.py")) + glob.glob(os.path.join(dest, "*.mpy")):
        os.remove(old)
    arch = board["mpy_cross_arch"]
    if not py and mpy_cross is None:
        mpy_cross = find_mpy_cross()
        if mpy_cross is None:
            raise BuildError("mpy-cross not found next to %s or on PATH" % sys.executable)
    written, failed = [], []
    for name, src in _sources(names):
        if py:
            target = os.path.join(dest, name + ".py")
            shutil.copyfile(src, target)
        elif name.endswith("_native") and not board.get("native_emitter", True):
            why = "%s has no native emitter, the pure code runs" % board["name"]
            log("skipped %s: %s" % (_show(src), why))
            continue
        else:
            target = os.path.join(dest, name + ".mpy")
            cmd = [mpy_cross, "-O%d" % opt] + (["-march=" + arch] if arch else [])
            cmd += ["-s", "stalloc/%s.py" % name, "-o", target, src]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                failed.append(name)
                log("FAILED %s (mpy-cross exit %d):" % (_show(src), proc.returncode))
                log((proc.stdout + proc.stderr).rstrip())
                continue
        written.append(target)
        log("wrote %s (%d bytes)" % (_show(target), os.path.getsize(target)))
    how = "copied .py" if py else "mpy-cross -march=%s -O%d" % (arch or "(none)", opt)
    total = sum(os.path.getsize(p) for p in written)
    log(
        "%s: %d files, %d bytes (%s) in %s"
        % (board["name"], len(written), total, how, _show(dest))
    )
    if failed:
        raise BuildError("mpy-cross failed on: %s" % ", ".join(failed))
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--board", help="a directory name under boards/")
    which.add_argument("--all", action="store_true", help="every board, each in OUT/<board>")
    ap.add_argument("--opt", type=int, choices=(0, 1, 2, 3), default=3, help="mpy-cross -O")
    ap.add_argument("--out", help="output directory (default build/<board>, or build/ with --all)")
    ap.add_argument("--py", action="store_true", help="copy the .py files, compile nothing")
    ap.add_argument("--packages", help="comma-separated package names (default: all)")
    ap.add_argument("--mpy-cross", help="the mpy-cross program to use")
    args = ap.parse_args(argv)

    try:
        names = board_names() if args.all else [args.board]
        boards = [load_board(name) for name in names]
        chosen = args.packages.split(",") if args.packages else None
        _sources(chosen)  # unknown package names: a usage error
        mpy_cross = args.mpy_cross
        if not args.py and mpy_cross is None:
            mpy_cross = find_mpy_cross()
            if mpy_cross is None:
                raise BuildError("mpy-cross not found next to %s or on PATH" % sys.executable)
    except BuildError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    status = 0
    for name, board in zip(names, boards, strict=True):
        if args.all:
            out = os.path.join(args.out or os.path.join(ROOT, "build"), name)
        else:
            out = args.out or os.path.join(ROOT, "build", name)
        try:
            build(board, out, opt=args.opt, py=args.py, mpy_cross=mpy_cross, names=chosen)
        except BuildError as e:
            print("error: %s: %s" % (name, e), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
