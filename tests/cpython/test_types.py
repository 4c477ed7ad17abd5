"""The typed API for CPython: .pyi stubs next to the portable modules (which carry no
annotations, MicroPython being the other runtime), checked with mypy --strict, and the
README's and docs' examples checked against them."""

import glob
import os
import re
import subprocess
import sys

import stalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "lib", "stalloc")
MYPY = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.10"]


def _mypy(paths, cwd):
    env = dict(os.environ, MYPYPATH=os.path.join(ROOT, "lib"))
    return subprocess.run(MYPY + paths, cwd=cwd, env=env, capture_output=True, text=True)


def _examples():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs/*.md")))
    for path in files:
        with open(path) as f:
            for k, block in enumerate(re.findall(r"```python\n(.*?)```", f.read(), re.S)):
                yield "%s_%d" % (os.path.splitext(os.path.basename(path))[0], k), block


def test_the_stubs_pass_mypy_strict():
    proc = _mypy(sorted(glob.glob(os.path.join(LIB, "*.pyi"))), ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_examples_type_check_against_the_stubs(tmp_path):
    paths = []
    for name, block in _examples():
        path = tmp_path / ("ex_%s.py" % name.lower().replace("-", "_"))
        path.write_text(block)
        paths.append(str(path))
    assert len(paths) >= 4
    proc = _mypy(paths, str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrong_call_is_caught(tmp_path):
    # The stubs are what mypy reads: wrong types and unknown names are errors.
    (tmp_path / "wrong.py").write_text(
        "from stalloc import Stalloc, uninit\n"
        "h = Stalloc(16, 16)\n"
        "v = h.alloc('10')\n"
        "i: str = h.allocate_blocks(2)\n"
        "n: str = uninit(10, len)\n"
        "h.no_such_method()\n"
    )
    proc = _mypy(["wrong.py"], str(tmp_path))
    assert proc.returncode == 1
    for code in ("arg-type", "assignment", "attr-defined"):
        assert "[%s]" % code in proc.stdout, proc.stdout
    assert proc.stdout.count("error:") == 4, proc.stdout


def test_every_public_name_has_a_stub_and_the_package_is_marked_typed():
    with open(os.path.join(LIB, "__init__.pyi")) as f:
        stub = f.read()
    for name in stalloc.__all__:
        assert re.search(r"\b%s as %s\b" % (name, name), stub), name
    assert os.path.isfile(os.path.join(LIB, "py.typed"))
