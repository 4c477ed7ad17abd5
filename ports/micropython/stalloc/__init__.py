# A checkout's glue, never installed (a board gets irq.py inside the core package). With
# this directory before lib on the path (MICROPYPATH=ports/micropython:lib), `import
# stalloc` finds it first: it becomes the core package (lib/stalloc/__init__.py runs here)
# and adds irq.py, so `from stalloc.irq import IrqStalloc` works as on a board. CPython
# searches both directories. MicroPython searches one per package (__path__ is a string):
# irq.py loads here, at once, after stalloc.sync (its one import from the core).
import sys

_port = __path__ if isinstance(__path__, str) else __path__[0]
_src = ""
for _dir in sys.path:
    _core = _dir + "/stalloc"
    try:
        with open(_core + "/__init__.py") as _f:
            _src = _f.read()
    except OSError:
        continue
    if "\n_NAMES = " in _src:  # the core's, not this file
        break
    _src = ""
if not _src:
    raise ImportError("stalloc: put lib on the path after ports/micropython")
exec(_src)
if isinstance(__path__, str):
    __path__ = _core
    __import__("stalloc.sync")
    __path__ = _port
    try:
        __import__("stalloc.irq")
    finally:
        __path__ = _core
else:
    __path__.append(_core)
del _port, _src, _dir, _core, _f
