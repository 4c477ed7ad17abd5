"""tools/deploy.py: build, copy with mpremote, run the portable suite on a virtual board.

The board is tools/vboard.py's unix port behind a pty, with the default 128 KiB heap (the
64-bit stand-in for a 64 KiB 32-bit board, boards/unix/board.json). It gets the x64 .mpy
build of every package (tools/build.py: stalloc.irq included), and the test files compiled
to .mpy, all through `mpremote cp`; each test file then runs on a freshly booted board.
The same files run on the host's unix port in the normal test command, so the counts
must match: every test runs on the board, and only the ones that read repository files
skip there.
"""

import os
import re
import subprocess
import sys

from _host import refused  # tests/cpython/_host.py

import build  # tools/build.py (tests/conftest.py puts tools/ on sys.path)
import deploy  # tools/deploy.py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "tools", "deploy.py")
BIN = os.path.dirname(sys.executable)
SUMMARY = re.compile(r"^deploy: (\d+) passed, (\d+) failed, (\d+) skipped on the board$", re.M)


def _deploy(*args, timeout=600):
    proc = subprocess.run(
        [sys.executable, DEPLOY, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _summary(out):
    found = SUMMARY.findall(out)
    assert found, out[-3000:]
    return tuple(int(n) for n in found[-1])


def _local_counts():
    files = sorted(
        os.path.join("tests", n)
        for n in os.listdir(os.path.join(ROOT, "tests"))
        if n.startswith("test_") and n.endswith(".py")
    )
    env = dict(os.environ, MICROPYPATH=".frozen:" + os.path.join(ROOT, "lib"))  # asyncio
    env.pop("STALLOC_PURE", None)
    proc = subprocess.run(
        [os.path.join(BIN, "micropython"), "tools/upytest.py", *files],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    m = re.search(r"^upytest: (\d+) passed, (\d+) failed, (\d+) skipped", proc.stdout, re.M)
    assert m and m.group(2) == "0", proc.stdout[-3000:]
    return int(m.group(1)), int(m.group(3))


def test_the_portable_suite_passes_on_a_virtual_board():
    code, out = _deploy()
    passed, failed, skipped = _summary(out)
    assert code == 0 and failed == 0, out[-3000:]
    assert "GC heap free on linux" in out  # ran on the board, not on the host
    local_passed, local_skipped = _local_counts()
    assert passed + skipped == local_passed + local_skipped  # every test ran there
    # the tests reading the repository's manifest.py, package.json, lib/ and docs/ skip there
    assert 0 <= skipped - local_skipped <= 4, (passed, skipped, local_passed, local_skipped)


def test_a_failing_test_fails_the_deploy(tmp_path):
    path = tmp_path / "test_deploy_probe.py"
    path.write_text(
        "def test_passes():\n    assert 1 + 1 == 2\n\n\n"
        "def test_fails():\n    assert 1 + 1 == 3, 'deliberate'\n"
    )
    code, out = _deploy(str(path))
    assert code == 1, out[-3000:]
    assert _summary(out) == (1, 1, 0)
    assert "FAIL test_deploy_probe::test_fails" in out


def test_a_board_that_dies_counts_as_a_failure_and_the_next_file_still_runs(tmp_path):
    # SystemExit soft-resets the board (the virtual one too): no closing line.
    dies = tmp_path / "test_deploy_dies.py"
    dies.write_text("def test_exits():\n    raise SystemExit\n")
    lives = tmp_path / "test_deploy_lives.py"
    lives.write_text("def test_passes():\n    pass\n")
    code, out = _deploy(str(dies), str(lives))
    assert code == 1, out[-3000:]
    assert _summary(out) == (1, 1, 0)
    assert "test_deploy_dies.mpy printed no closing line" in out


def test_no_test_installs_only_and_checks_what_arrived():
    code, out = _deploy("--no-test")
    assert code == 0, out[-3000:]
    assert "installed lib/stalloc and tests/" in out and "GC heap free" not in out
    # the board listed every staged file: every package's modules, and the tests
    lib = build.modules()
    tests = [n for n in os.listdir(os.path.join(ROOT, "tests")) if n.startswith("test_")]
    assert "deploy: %d files in lib/stalloc on the board" % len(lib) in out, out
    # the test files, their helpers (deploy.TEST_HELPERS) and the runner
    helpers = len(deploy.TEST_HELPERS)
    assert "deploy: %d files in tests on the board" % (len(tests) + helpers + 1) in out, out


def test_bad_usage_exits_2():
    code, out = _deploy("--board", "no-such-board")
    assert code == 2 and "unknown board" in out
    code, out = _deploy("--board", "rp2-pico")  # no --port: the virtual board is unix only
    assert code == 2 and "--port" in out


def _refused(*args):
    # exit 2 and one `error: ` line on stderr, before anything is built or a board started
    proc = subprocess.run(
        [sys.executable, DEPLOY, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return refused(proc)  # nothing on stdout: not even "=== build"


def test_a_missing_test_file_is_one_error_line_before_anything_is_built(tmp_path):
    missing = tmp_path / "test_nope.py"
    line = _refused(missing)
    assert str(missing) in line and "No such file" in line
    good = tmp_path / "test_good.py"
    good.write_text("def test_passes():\n    pass\n")
    assert str(missing) in _refused(good, missing)
    assert str(tmp_path) in _refused(tmp_path)  # a directory


def test_a_malformed_test_file_is_one_error_line_before_anything_is_built(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text("def test_passes(:\n    pass\n")
    line = _refused(bad)
    assert str(bad) in line and "line 1" in line
    binary = tmp_path / "test_binary.py"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    assert str(binary) in _refused(binary)
    assert str(bad) in _refused("--py", bad)  # also when nothing would be compiled
