# CPython only: make `stalloc` (lib/) and the shared test helpers (tests/) importable
# exactly as tools/upytest.py does under MicroPython.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(os.path.dirname(_here), "lib"), _here):
    if _p not in sys.path:
        sys.path.insert(0, _p)
