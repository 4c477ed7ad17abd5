"""tools/release.py: the wheel and sdist alone in dist/ (`twine check dist/*` passes),
installed into a fresh venv and used outside the checkout, with its commands
(stalloc-plan, stalloc-trace, stalloc-viz), also with the tools extra; a board's .mpy
bundle in dist-boards/, mip-installed on a virtual board and used there; its ROMFS
image."""

import glob
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest
from _host import refused  # tests/cpython/_host.py

import release  # tools/release.py (tests/conftest.py puts tools/ on sys.path)
import vboard  # tools/vboard.py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "tools", "release.py")

SMOKE = """\
import os, sys
import stalloc
from stalloc import AllocError, Stalloc, uninit
assert not stalloc.__file__.startswith(%(root)r), stalloc.__file__  # the installed copy
h = Stalloc(64, 16)
v = h.alloc(100)
v[:2] = b"ok"
h.free(v)
assert uninit(64, len) == 64
try:
    h.alloc(10**6)
except AllocError:
    pass
h.check()
here = os.path.dirname(stalloc.__file__)
import stalloc_tools
assert not stalloc_tools.__file__.startswith(%(root)r), stalloc_tools.__file__
print("OK", stalloc.__version__, sorted(f for f in os.listdir(here) if f.endswith(".pyi"))[:2],
      os.path.isfile(os.path.join(here, "py.typed")))
"""


# the commands the wheel installs -> their modules in stalloc_tools
COMMANDS = {"stalloc-plan": "plan", "stalloc-trace": "heaptrace", "stalloc-viz": "heapviz"}
TRACE = "# stalloc-trace 1 blocks=16 block_size=16\n" + "".join(
    op + "\n" for op in ("alloc 0 64 1 0", "alloc 1 32 1 4", "free 0 64", "alloc 2 48 1 0")
)  # a trace a heap of 6 blocks of 16 B replays without a failure: test_plan.py's
# the missing-extra hint names what exists: the wheel (and a checkout), not an index's name
EXTRA = "pip install 'stalloc-%s-py3-none-any.whl[tools]' with the wheel" % release.version()


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("dist"))
    proc = subprocess.run(
        [sys.executable, RELEASE, "--out", out, "--boards", "unix,rp2-pico"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def _dist(out, name):
    return os.path.join(out, "dist", name)


def _boards(out, *names):
    return os.path.join(out, "dist-boards", *names)


def test_the_release_lists_every_artifact_with_its_size(dist):
    out, log = dist
    v = release.version()
    for name in (
        "dist/stalloc-%s-py3-none-any.whl" % v,
        "dist/stalloc-%s.tar.gz" % v,
        "dist-boards/stalloc-%s-unix-mpy.tar.gz" % v,
        "dist-boards/stalloc-%s-unix.romfs" % v,
        "dist-boards/stalloc-%s-rp2-pico-mpy.tar.gz" % v,
        "dist-boards/mip/unix/package.json",
    ):
        size = os.path.getsize(os.path.join(out, name))
        assert "%8d  %s" % (size, name) in log, (name, log)
    assert log.rstrip().endswith(
        "in %s and %s" % (os.path.join(out, "dist"), os.path.join(out, "dist-boards"))
    )


def test_dist_holds_what_an_index_takes_and_twine_checks_it_whole(dist):
    # `twine check dist/*` (and an upload) take every file of dist/: the board bundles,
    # which no package index takes, are in dist-boards/
    out, _ = dist
    v = release.version()
    assert sorted(os.listdir(os.path.join(out, "dist"))) == [
        "stalloc-%s-py3-none-any.whl" % v,
        "stalloc-%s.tar.gz" % v,
    ]
    files = sorted(glob.glob(_dist(out, "*")))
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_the_wheel_ships_the_package_its_types_its_license_and_the_commands(dist):
    out, _ = dist
    info = "stalloc-%s.dist-info/" % release.version()
    with zipfile.ZipFile(_dist(out, "stalloc-%s-py3-none-any.whl" % release.version())) as z:
        names = z.namelist()
        entry_points = z.read(info + "entry_points.txt").decode()
        metadata = z.read(info + "METADATA").decode()
    assert "stalloc/heap.py" in names and "stalloc/py.typed" in names
    assert "stalloc/heap.pyi" in names and "stalloc/__init__.pyi" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "tools/")) for n in names)
    tools = sorted(n for n in names if n.startswith("stalloc_tools/"))  # the host tools only
    assert tools == [
        "stalloc_tools/%s.py" % m for m in ("__init__", "heaptrace", "heapviz", "noalloc", "plan")
    ]
    for cmd, module in COMMANDS.items():
        assert "%s = stalloc_tools.%s:main" % (cmd, module) in entry_points, entry_points
    assert "\nAuthor: stalloc for Python contributors\n" in metadata
    assert "\nProvides-Extra: tools\n" in metadata


def _venv(tmp_path, out, extra, *pip_args):
    """A fresh venv in tmp_path/venv, the wheel installed into it by `pip install *pip_args
    WHEEL[extra]`. Returns pip's CompletedProcess and a function that runs a command of
    the venv's bin/ (python, or one of COMMANDS) outside the checkout, returning its
    CompletedProcess."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = _dist(out, "stalloc-%s-py3-none-any.whl" % release.version())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pip_args, wheel + extra],
        capture_output=True,
        text=True,
        timeout=600,
    )

    def run(cmd, *args):
        return subprocess.run(
            [str(venv / "bin" / cmd), *map(str, args)],
            cwd=str(tmp_path),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return proc, run


def test_the_wheel_works_in_a_fresh_venv_outside_the_checkout(dist, tmp_path):
    out, _ = dist
    pip, run = _venv(tmp_path, out, "", "--no-index", "--no-deps")  # no rich, no matplotlib
    assert pip.returncode == 0, pip.stdout + pip.stderr
    proc = run("python", "-c", SMOKE % {"root": ROOT})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[:2] == ["OK", release.version()], proc.stdout
    assert proc.stdout.rstrip().endswith("True"), proc.stdout  # py.typed
    # the commands are there without the tools extra: their help, their bad input, the
    # planner's JSON (which needs no rich), and one line saying what to install for the rest
    for cmd in COMMANDS:
        proc = run(cmd, "--help")
        assert proc.returncode == 0 and proc.stdout.startswith("usage: %s " % cmd), proc
    trace = tmp_path / "t.trace"
    trace.write_text(TRACE)
    proc = run("stalloc-plan", trace, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["blocks"] == 6 and proc.stderr == ""
    proc = run("stalloc-trace", trace, "--blocks", "8")
    assert proc.returncode == 0 and proc.stdout.rstrip().endswith("###.##.."), proc
    refused(run("stalloc-trace", tmp_path / "nope.trace"), "nope.trace", "No such file")
    refused(run("stalloc-plan", trace), "pip install rich,", EXTRA)  # the table needs rich
    refused(run("stalloc-viz", "map", "--text", "##.."), "pip install matplotlib,", EXTRA)
    assert not (tmp_path / "out").exists()


_OFFLINE = (  # what pip says when it cannot reach the package index
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Name or service not known",
    "ProxyError",
)


def test_the_commands_with_the_tools_extra_in_a_fresh_venv(dist, tmp_path):
    # `pip install 'WHEEL[tools]'`, as the missing-extra hint says: rich and matplotlib
    # come from the package index (the extra's ranges in pyproject.toml); skipped only
    # when it cannot be reached
    out, _ = dist
    pip, run = _venv(tmp_path, out, "[tools]", "--retries", "1", "--timeout", "30")
    if pip.returncode and any(word in pip.stdout + pip.stderr for word in _OFFLINE):
        pytest.skip("the package index cannot be reached: %s" % pip.stderr.strip()[-200:])
    assert pip.returncode == 0, pip.stdout + pip.stderr
    for cmd in COMMANDS:
        proc = run(cmd, "--help")
        assert proc.returncode == 0 and proc.stdout.startswith("usage: %s " % cmd), proc
    # a real run of each: the demo records a trace with the installed library and draws it,
    # the planner sizes a heap for it (its table), the replay summarises it
    proc = run("stalloc-viz", "demo", "--out", "d")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(os.listdir(tmp_path / "d")) == [
        "demo.trace",
        "heap-map.png",
        "stack.png",
        "trace.png",
    ]
    proc = run("stalloc-plan", "d/demo.trace", "--block-size", "16")
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "measured" in line)
    measured = int(row.split("│")[2])
    proc = run("stalloc-plan", "d/demo.trace", "--block-size", "16", "--json")
    assert json.loads(proc.stdout)["blocks"] == measured
    proc = run("stalloc-trace", "d/demo.trace", "--blocks", str(measured))
    assert proc.returncode == 0 and ", 0 failures," in proc.stdout, proc.stdout + proc.stderr
    # one bad input each: exit 2 and one `error:` line
    bad = tmp_path / "bad.trace"
    bad.write_text("alloc 0 64 1 0\n")
    refused(run("stalloc-plan", bad), "bad.trace", "not a stalloc trace")
    refused(run("stalloc-trace", bad, "--blocks", "8"), "bad.trace", "not a stalloc trace")
    refused(run("stalloc-viz", "map", "--text", "##x.", "--out", "m.png"), "'x'")
    assert sorted(os.listdir(tmp_path)) == ["bad.trace", "d", "venv"]


def test_a_board_bundle_is_mpy_for_its_arch_and_its_archive_matches(dist):
    out, _ = dist
    with open(_boards(out, "mip", "rp2-pico", "package.json")) as f:
        pkg = json.load(f)
    assert pkg["version"] == release.version() and pkg["authors"] == release._authors()
    names = [dest for dest, _ in pkg["urls"]]
    assert "stalloc/heap.mpy" in names and "stalloc/heap_native.mpy" in names
    assert "stalloc/stack.mpy" in names and "stalloc/irq.mpy" in names
    archive = _boards(out, "stalloc-%s-rp2-pico-mpy.tar.gz" % release.version())
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted(["lib/stalloc"] + ["lib/" + n for n in names])
    with open(_boards(out, "mip", "rp2-pico", "stalloc", "heap.mpy"), "rb") as f:
        assert f.read(2) == b"M\x06"
    with open(_boards(out, "stalloc-%s-unix.romfs" % release.version()), "rb") as f:
        assert f.read(3) == b"\xd2\xcd\x31"  # the ROMFS header


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ptys")
def test_the_unix_bundle_mip_installs_and_runs_on_a_virtual_board(dist):
    out, _ = dist
    with vboard.VirtualBoard("256k") as board:
        board.mpremote(
            "mip", "install", "--target=/lib", _boards(out, "mip", "unix", "package.json")
        )
        run = board.mpremote(
            "exec",
            "import stalloc, stalloc.heap\n"
            "from stalloc import Stalloc, uninit\n"
            "h = Stalloc(64, 16)\n"
            "h.free(h.alloc(100))\n"
            "print('FILE', stalloc.heap.__file__)\n"
            "print('ACCELERATED', stalloc.heap.ACCELERATED, uninit(32, len))\n"
            "print('POOL', h.stats().view_pool)\n",
        ).stdout
    assert "FILE /lib/stalloc/heap.mpy" in run, run
    assert "ACCELERATED True 32" in run and "POOL 4" in run, run
