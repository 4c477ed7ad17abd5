"""The Python examples of the README and docs/ run as written: each block alone (a reader
copies one), on CPython, on the MicroPython unix port and on the 32-bit WebAssembly port."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
UPY_MJS = os.path.join(ROOT, "tools", "wasm", "upy.mjs")


def _blocks():
    # (file:k, code) of every python block, in file order
    files = ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
    )
    found = []
    for name in files:
        with open(os.path.join(ROOT, name)) as f:
            for k, code in enumerate(re.findall(r"```python\n(.*?)```", f.read(), re.S)):
                found.append(("%s:%d" % (name, k + 1), code))
    return found


BLOCKS = _blocks()


def test_the_readme_and_docs_have_their_examples():
    names = [name for name, _ in BLOCKS]
    assert sum(n.startswith("README.md") for n in names) >= 5, names
    assert sum(n.startswith("docs/api.md") for n in names) >= 2, names


def _run(runtime, code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k not in ("STALLOC_PURE", "MICROPYPATH")}
    if runtime == "cpython":
        cmd, cwd = [sys.executable, str(script)], ROOT
        env["PYTHONPATH"] = os.path.join(ROOT, "lib")
    elif runtime == "micropython":
        cmd, cwd = [MICROPYTHON, str(script)], ROOT
        env["MICROPYPATH"] = ".frozen:" + os.path.join(ROOT, "lib")  # asyncio is frozen in
    else:  # the WebAssembly port sees only what is copied in, at the same relative paths
        os.symlink(os.path.join(ROOT, "lib"), tmp_path / "lib")
        cmd = ["node", UPY_MJS, "--copy", "lib", "--path", "lib", "--copy", "example.py"]
        cmd, cwd = cmd + ["example.py"], str(tmp_path)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("runtime", ["cpython", "micropython", "wasm32"])
@pytest.mark.parametrize("block", BLOCKS, ids=[name for name, _ in BLOCKS])
def test_each_example_runs_alone(runtime, block, tmp_path):
    name, code = block
    if runtime == "wasm32" and "asyncio.run(" in code:
        pytest.skip("the WebAssembly port's asyncio has no run(): tasks run on JavaScript's loop")
    proc = _run(runtime, code, tmp_path)
    assert proc.returncode == 0, "%s on %s:\n%s%s" % (name, runtime, proc.stdout, proc.stderr)
    if name == "docs/api.md:1":  # the crate's Debug text and the map its comment shows
        assert "Stallocator with 256 blocks of 16 bytes each" in proc.stdout
        assert "\n" + "#" * 10 + "." * 54 + "\n" in proc.stdout
