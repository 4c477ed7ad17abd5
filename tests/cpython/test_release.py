"""tools/release.py: the wheel and sdist (twine-checked), installed into a fresh venv and
used outside the checkout; a board's .mpy bundle, mip-installed on a virtual board and
used there; its ROMFS image."""

import json
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

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
print("OK", stalloc.__version__, sorted(f for f in os.listdir(here) if f.endswith(".pyi"))[:2],
      os.path.isfile(os.path.join(here, "py.typed")))
"""


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


def test_the_release_lists_every_artifact_with_its_size(dist):
    out, log = dist
    v = release.version()
    for name in (
        "stalloc-%s-py3-none-any.whl" % v,
        "stalloc-%s.tar.gz" % v,
        "stalloc-%s-unix-mpy.tar.gz" % v,
        "stalloc-%s-unix.romfs" % v,
        "stalloc-%s-rp2-pico-mpy.tar.gz" % v,
        "mip/unix/package.json",
    ):
        size = os.path.getsize(os.path.join(out, name))
        assert "%8d  %s" % (size, name) in log, (name, log)
    assert log.rstrip().endswith("in %s" % out)


def test_the_wheel_ships_the_package_its_types_and_its_license(dist):
    out, _ = dist
    with zipfile.ZipFile(
        os.path.join(out, "stalloc-%s-py3-none-any.whl" % release.version())
    ) as z:
        names = z.namelist()
    assert "stalloc/heap.py" in names and "stalloc/py.typed" in names
    assert "stalloc/heap.pyi" in names and "stalloc/__init__.pyi" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "tools/")) for n in names)


def test_the_wheel_works_in_a_fresh_venv_outside_the_checkout(dist, tmp_path):
    out, _ = dist
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = str(venv / "bin" / "python")
    wheel = os.path.join(out, "stalloc-%s-py3-none-any.whl" % release.version())
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--no-index", "--no-deps", wheel],
        check=True,
        timeout=120,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    proc = subprocess.run(
        [py, "-c", SMOKE % {"root": ROOT}],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[:2] == ["OK", release.version()], proc.stdout
    assert proc.stdout.rstrip().endswith("True"), proc.stdout  # py.typed


def test_a_board_bundle_is_mpy_for_its_arch_and_its_archive_matches(dist):
    out, _ = dist
    with open(os.path.join(out, "mip", "rp2-pico", "package.json")) as f:
        pkg = json.load(f)
    assert pkg["version"] == release.version()
    names = [dest for dest, _ in pkg["urls"]]
    assert "stalloc/heap.mpy" in names and "stalloc/heap_native.mpy" in names
    assert "stalloc/stack.mpy" in names and "stalloc/irq.mpy" in names
    archive = os.path.join(out, "stalloc-%s-rp2-pico-mpy.tar.gz" % release.version())
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted(["lib/stalloc"] + ["lib/" + n for n in names])
    with open(os.path.join(out, "mip", "rp2-pico", "stalloc", "heap.mpy"), "rb") as f:
        assert f.read(2) == b"M\x06"
    with open(os.path.join(out, "stalloc-%s-unix.romfs" % release.version()), "rb") as f:
        assert f.read(3) == b"\xd2\xcd\x31"  # the ROMFS header


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ptys")
def test_the_unix_bundle_mip_installs_and_runs_on_a_virtual_board(dist):
    out, _ = dist
    with vboard.VirtualBoard("256k") as board:
        board.mpremote(
            "mip", "install", "--target=/lib", os.path.join(out, "mip", "unix", "package.json")
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
