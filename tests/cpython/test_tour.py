# examples/tour.py, the usage tour, runs on both runtimes as the README says.
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def _run(cmd, env_key):
    env = dict(os.environ, **{env_key: os.path.join(ROOT, "lib")})
    env.pop("STALLOC_PURE", None)
    out = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "Stallocator with 32 blocks of 16 bytes each" in out
    assert "4 x 100 bytes landed in: heap, heap, System, System" in out
    assert out.rstrip().endswith("is_empty() = True")
    return out


def test_demo_runs_on_cpython():
    assert "on CPython" in _run([sys.executable, "examples/tour.py"], "PYTHONPATH")


def test_demo_runs_on_micropython():
    if not os.path.exists(MICROPYTHON):
        pytest.fail("micropython is missing from the virtual environment")
    out = _run([MICROPYTHON, "-X", "heapsize=256k", "examples/tour.py"], "MICROPYPATH")
    assert "on MicroPython" in out and "viper kernels" in out
