# CPython only: make `stalloc` (lib/) and the shared test helpers (tests/) importable
# exactly as tools/upytest.py does under MicroPython, and the host tools (tools/) by their
# plain names, as the tools import one another.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)
for _p in (os.path.join(_root, "tools"), os.path.join(_root, "lib"), _here):
    if _p not in sys.path:
        sys.path.insert(0, _p)
