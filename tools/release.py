"""Build everything a release ships: the CPython package into dist/ (what a package index
takes, nothing else: `twine check dist/*` and an upload take the folder as it is) and the
board bundles into dist-boards/, both under the checkout (or under --out DIR).

    .venv/bin/python tools/release.py              # -> dist/, dist-boards/, listed with sizes
    .venv/bin/python tools/release.py --out /tmp/r --boards unix,rp2-pico

What it writes:
    dist/stalloc-<v>-py3-none-any.whl             the CPython package (python -m build),
    dist/stalloc-<v>.tar.gz                       checked with `twine check --strict`
    dist-boards/mip/<board>/package.json          every package's modules as .mpy for the
      + stalloc/*.mpy                             board's arch (tools/build.py), installable
                                                  with `mpremote mip install
                                                  dist-boards/mip/<board>/package.json`
    dist-boards/stalloc-<v>-<board>-mpy.tar.gz    the same files, as one archive (lib/stalloc)
    dist-boards/stalloc-<v>-<board>.romfs         a ROMFS image of them (`mpremote romfs
                                                  build`), for `mpremote romfs deploy`

Exit status: 0 when everything was written and checked, 1 when a step failed (its output
is shown), 2 for usage errors.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import build  # noqa: E402  (tools/build.py)

DIST = "dist"  # the wheel and sdist only
BOARDS = "dist-boards"  # the board bundles: no package index takes them


class Failed(Exception):
    pass


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise Failed("%s failed:\n%s%s" % (" ".join(cmd[:3]), proc.stdout, proc.stderr))
    return proc.stdout


def version():
    scope = {}
    with open(os.path.join(ROOT, "lib", "stalloc", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                exec(line, scope)
    return scope["__version__"]


def _authors():
    # The root package.json's, as pyproject.toml names them (a test checks both agree).
    with open(os.path.join(ROOT, "package.json")) as f:
        return json.load(f)["authors"]


def python_package(out):
    """The wheel and sdist, checked with twine. Returns their paths."""
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=ROOT)
    v = version()
    made = [
        os.path.join(out, "stalloc-%s-py3-none-any.whl" % v),
        os.path.join(out, "stalloc-%s.tar.gz" % v),
    ]
    _run([sys.executable, "-m", "twine", "check", "--strict", *made])
    return made


def board_bundle(name, out, tmp):
    """The .mpy files of every package for one board: a mip-installable directory, a
    .tar.gz of it and a ROMFS image. Returns the paths written."""
    v = version()
    where = os.path.join(tmp, name)
    try:
        files = build.build(build.load_board(name), where, log=lambda *a: None)
    except build.BuildError as e:
        raise Failed("build for %s: %s" % (name, e)) from None
    mip = os.path.join(out, "mip", name)
    os.makedirs(os.path.join(mip, "stalloc"), exist_ok=True)
    urls = []
    for path in sorted(files):
        base = os.path.basename(path)
        shutil.copyfile(path, os.path.join(mip, "stalloc", base))
        urls.append(["stalloc/" + base, "stalloc/" + base])
    pkg = os.path.join(mip, "package.json")
    with open(pkg, "w") as f:
        json.dump({"urls": urls, "deps": [], "version": v, "authors": _authors()}, f, indent=1)
        f.write("\n")
    archive = os.path.join(out, "stalloc-%s-%s-mpy.tar.gz" % (v, name))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(os.path.join(mip, "stalloc"), arcname="lib/stalloc")
    image = os.path.join(out, "stalloc-%s-%s.romfs" % (v, name))
    mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
    _run([mpremote, "romfs", "--no-mpy", "-o", image, "build", where])
    return (
        [pkg]
        + [os.path.join(mip, "stalloc", os.path.basename(p)) for p in files]
        + [
            archive,
            image,
        ]
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out", default=ROOT, help="where %s/ and %s/ go (default: the checkout)" % (DIST, BOARDS)
    )
    ap.add_argument("--boards", help="comma-separated board names (default: all)")
    args = ap.parse_args(argv)
    boards = args.boards.split(",") if args.boards else build.board_names()
    unknown = sorted(set(boards) - set(build.board_names()))
    if unknown:
        print("error: unknown board %s" % ", ".join(unknown), file=sys.stderr)
        return 2
    out = os.path.abspath(args.out)
    dist, bundles = os.path.join(out, DIST), os.path.join(out, BOARDS)
    for folder in (dist, bundles):
        if os.path.exists(folder):
            shutil.rmtree(folder)  # a release is built whole, never on top of an older one
        os.makedirs(folder)
    written = []
    try:
        written += python_package(dist)
        with tempfile.TemporaryDirectory() as tmp:
            for name in boards:
                written += board_bundle(name, bundles, tmp)
    except Failed as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    for path in written:
        if not path.endswith(".mpy"):
            print("%8d  %s" % (os.path.getsize(path), os.path.relpath(path, out)))
    print("release %s: %d files in %s and %s" % (version(), len(written), dist, bundles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
