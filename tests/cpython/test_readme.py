# The README's usage examples must run as written, on both runtimes.
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def _example(tmp_path):
    text = open(os.path.join(ROOT, "README.md")).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2, "README's python examples are missing"
    path = tmp_path / "readme_example.py"
    path.write_text("\n".join(blocks))  # every example, in order, as one program
    return str(path)


def test_readme_example_runs_on_cpython(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib"))
    out = subprocess.run(
        [sys.executable, _example(tmp_path)], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "Stallocator with 256 blocks of 16 bytes each" in out


def test_readme_example_runs_on_micropython(tmp_path):
    env = dict(os.environ, MICROPYPATH=os.path.join(ROOT, "lib"))
    out = subprocess.run(
        [MICROPYTHON, _example(tmp_path)], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "Stallocator with 256 blocks of 16 bytes each" in out
