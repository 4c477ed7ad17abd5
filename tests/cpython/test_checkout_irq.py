# IrqStalloc from a checkout, the documented way: ports/micropython before lib on the path,
# then `from stalloc.irq import IrqStalloc` as on a board (ports/micropython/stalloc/
# __init__.py makes that directory the core package plus irq.py).
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
PATH = os.pathsep.join(["ports/micropython", "lib"])
CODE = (
    "from stalloc.irq import IrqStalloc\n"
    "from stalloc import Stalloc, SyncStalloc, irq\n"
    "import stalloc.heap\n"
    "h = IrqStalloc(8, 16, (lambda: 0, lambda s: None))\n"
    "h.free(h.alloc(20))\n"
    "assert irq.IrqStalloc is IrqStalloc and SyncStalloc(4, 8).blocks == 4\n"
    "print('IRQ', type(h).__name__, h.is_empty(), Stalloc(4, 8).blocks)\n"
)


def _run(cmd, env_key):
    env = dict(os.environ, **{env_key: PATH})
    env.pop("STALLOC_PURE", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["IRQ", "IrqStalloc", "True", "4"]


def test_irq_imports_from_a_checkout_on_micropython():
    if not os.path.exists(MICROPYTHON):
        pytest.fail("micropython is missing from the virtual environment")
    _run([MICROPYTHON, "-c", CODE], "MICROPYPATH")


def test_irq_imports_from_a_checkout_on_cpython():
    _run([sys.executable, "-c", CODE], "PYTHONPATH")
