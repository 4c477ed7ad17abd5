"""A board without the free GC heap to compile stalloc from .py sources: the import fails
with a MemoryError that says what to do, and the .mpy build imports in the same heap.

The unix port (64-bit) with a ballast leaving 40 KiB free: `from stalloc import Stalloc`
needs about 78 KiB free from .py (compiling heap.py) and about 24 KiB from .mpy
(`tools/footprint.py --peak`).
"""

import os
import subprocess
import sys

import pytest

import build  # tools/build.py (tests/conftest.py puts tools/ on sys.path)
import footprint  # tools/footprint.py

FREE = 40 * 1024
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")

pytestmark = pytest.mark.skipif(not os.path.exists(MICROPYTHON), reason="no unix port")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("advice")
    out = {}
    for kind in ("py", "mpy"):
        out[kind] = str(tmp / kind)
        build.build(build.load_board("unix"), out[kind], py=kind == "py", log=lambda *a: None)
    return out


def _run(root, code):
    return _run_at(root, code, FREE)


def _run_at(root, code, free):
    env = {k: v for k, v in os.environ.items() if k not in ("MICROPYPATH", "STALLOC_PURE")}
    env["MICROPYPATH"] = ".frozen"
    proc = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=%d" % footprint.PEAK_HEAP, "-c"]
        + [footprint.PEAK_TRY % (free, code)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.stdout + proc.stderr


def test_py_sources_fail_saying_what_to_do_and_the_mpy_fits(builds):
    code = "from stalloc import Stalloc\nStalloc(16, 16)"
    out = _run(builds["py"], code)
    assert out.startswith("FAILED"), out
    free = int(out.split()[1])
    assert FREE - 1024 < free <= FREE + 1024, out  # the ballast left what was asked
    assert "to compile stalloc.heap from its .py source" in out, out
    assert "install the prebuilt .mpy for this board's arch" in out, out
    assert "ROMFS" in out and "freeze" in out and "docs/boards.md" in out, out
    assert "KiB of free GC heap" in out, out
    assert _run(builds["mpy"], code).startswith("PASSED"), "the .mpy does not fit"


def test_the_package_stays_usable_after_the_advice(builds):
    # The failed import left nothing half made: with the ballast gone it imports.
    code = (
        "try:\n    from stalloc import Stalloc\nexcept MemoryError:\n    pass\n"
        "del _b\nimport gc\ngc.collect()\nfrom stalloc import Stalloc\nStalloc(16, 16).check()"
    )
    out = _run(builds["py"], code)
    assert out.startswith("PASSED"), out


def test_native_code_that_does_not_fit_leaves_the_pure_code_running(builds):
    # From .mpy, with less and less free heap: the second stack's machine code stops
    # fitting before its bytecode does. In between, the import works on the pure code
    # (ACCELERATED False) instead of raising; below, a MemoryError; above, native code.
    code = (
        "from stalloc import Stalloc, uninit\nimport stalloc\n"
        "print('R', uninit(64, len), Stalloc(16, 16).alloc(20) is not None,"
        " stalloc.stack.ACCELERATED)"
    )
    seen = []
    for kib in range(40, 81, 2):
        out = _run_at(builds["mpy"], code, kib * 1024)
        if out.startswith("FAILED"):
            seen.append("failed")
        else:
            assert out.startswith("R 64 True ") and "PASSED" in out, out
            seen.append("native" if "R 64 True True" in out else "pure")
    assert "pure" in seen, seen  # the fallback ran at some level
    assert seen[-1] == "native", seen  # and with room the native code loads
    assert seen.index("pure") < seen.index("native"), seen
