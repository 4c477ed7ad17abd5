"""The README's Python examples run as written: each block alone (a reader copies one),
on CPython, on the MicroPython unix port and on the 32-bit WebAssembly port."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
UPY_MJS = os.path.join(ROOT, "tools", "wasm", "upy.mjs")


def _blocks():
    with open(os.path.join(ROOT, "README.md")) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


BLOCKS = _blocks()


def test_the_readme_has_its_examples():
    assert len(BLOCKS) >= 4, "README's python examples are missing"


def _run(runtime, code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k not in ("STALLOC_PURE", "MICROPYPATH")}
    if runtime == "cpython":
        cmd, cwd = [sys.executable, str(script)], ROOT
        env["PYTHONPATH"] = os.path.join(ROOT, "lib")
    elif runtime == "micropython":
        cmd, cwd = [MICROPYTHON, str(script)], ROOT
        env["MICROPYPATH"] = os.path.join(ROOT, "lib")
    else:  # the WebAssembly port sees only what is copied in, at the same relative paths
        os.symlink(os.path.join(ROOT, "lib"), tmp_path / "lib")
        cmd = ["node", UPY_MJS, "--copy", "lib", "--path", "lib", "--copy", "example.py"]
        cmd, cwd = cmd + ["example.py"], str(tmp_path)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("runtime", ["cpython", "micropython", "wasm32"])
@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_each_example_runs_alone(runtime, k, tmp_path):
    proc = _run(runtime, BLOCKS[k], tmp_path)
    assert proc.returncode == 0, "README example %d on %s:\n%s%s" % (
        k + 1,
        runtime,
        proc.stdout,
        proc.stderr,
    )
    if k == 0:  # the first prints the crate's Debug text and the map its comment shows
        assert "Stallocator with 256 blocks of 16 bytes each" in proc.stdout
        assert "\n" + "#" * 10 + "." * 54 + "\n" in proc.stdout
