# tools/gc_scan.py, one round on the unix port (64-bit) and as steps on the WebAssembly
# port (32-bit): the table's shape, and the retention example, which is deterministic (the
# address in the Stalloc keeps one 4 KiB object alive, the control goes, zeroing the
# address frees it). No timing is asserted. About 1 s.
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = (
    "none",
    "Stalloc(4096, 16), zeros",
    "Stalloc(4096, 16), addresses",
    "bytearray(65536)",
    "lists [i] (other live data)",
)


def _unix(*args):
    micropython = os.path.join(os.path.dirname(sys.executable), "micropython")
    env = dict(os.environ, MICROPYPATH="lib")
    cmd = [micropython, "-X", "heapsize=256k", "tools/gc_scan.py", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def _wasm(tmp_path):
    steps = str(tmp_path / "gc_scan.json")
    made = _unix("--steps", steps, "1")
    assert made.returncode == 0 and made.stdout == "", made.stdout + made.stderr
    cmd = [os.environ.get("NODE", "node"), "tools/wasm/upy.mjs", "--heap", "262144"]
    cmd += ["--path", "lib", "--copy", "lib", "--path", "tools", "--copy", "tools/gc_scan.py"]
    return subprocess.run(
        cmd + ["--steps", steps], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("port", ["unix", "wasm"])
def test_retention_and_table(port, tmp_path):
    proc = _unix("1") if port == "unix" else _wasm(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 + len(ROWS), proc.stdout
    held, freed, left = map(
        int,
        re.fullmatch(
            r"retention: held (-?\d+) B, freed when zeroed (-?\d+) B, left (-?\d+) B", lines[0]
        ).groups(),
    )
    assert 4096 < held < 8192, lines[0]  # one object, not the control too, not none
    assert abs(freed - held) <= 64 and abs(left) <= 64, lines[0]
    bits = "64" if port == "unix" else "32"
    assert lines[1].startswith("gc_scan: micropython %s-bit, heap " % bits), lines[1]
    assert lines[1].endswith("median of 1 rounds x 31 collections"), lines[1]
    assert lines[2].split() == ["extra", "live", "data", "KiB", "collect", "+us", "us/KiB"]
    for name, line in zip(ROWS, lines[3:], strict=True):
        assert line.startswith(name + " "), line
        kib, collect, plus, per = line[len(name) :].split()
        assert collect.endswith("us") and int(collect[:-2]) > 0, line
        int(plus)
        if name == "none":
            assert (float(kib), plus, per) == (0.0, "0", "-"), line
        else:
            assert 60 <= float(kib) <= 80, line  # 64 KiB, give or take a list's growth
            float(per)
