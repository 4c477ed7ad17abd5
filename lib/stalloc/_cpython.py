# The CPython side of _base.py, in a module of its own so that a board never loads its
# code. Views are located and released through ctypes.

import sys
from ctypes import addressof as _addressof
from ctypes import c_char

_from_buffer = c_char.from_buffer


def addressof(buf):
    """Address of the first byte of a writable buffer of at least one byte."""
    return _addressof(_from_buffer(buf))


def view_address(view):
    """Address of a memoryview's first byte, or -1 for anything else. Never raises."""
    try:
        return _addressof(_from_buffer(view)) if type(view) is memoryview else -1
    except (TypeError, ValueError):  # read-only, empty or released
        return -1


def at(raw, org, n):
    """n bytes of raw from org (a view of them; raw itself when that is all of it)."""
    return raw if len(raw) == n else memoryview(raw)[org : org + n]


def u16_view(buf):
    """buf's bytes as u16 items (native byte order), sharing its memory."""
    return memoryview(buf).cast("H")


def release(view):
    # A released view raises ValueError on any use: a view kept past free() cannot
    # reach memory that now belongs to someone else. One still exported (a slice or
    # cast of it is alive) cannot be released, and stays usable as on MicroPython.
    try:
        view.release()
    except BufferError:
        pass


def current_task():
    """The running asyncio task, or None (asyncio is not imported from here)."""
    aio = sys.modules.get("asyncio")
    if aio is None:
        return None
    try:
        return aio.current_task()
    except RuntimeError:  # no running event loop
        return None


def document(cls, source):
    # help(SyncStalloc): cls's public methods get the docstrings of source's, the lock
    # added. Here, not in sync.py: MicroPython keeps a module's strings as long as the module.
    from inspect import cleandoc

    note = (
        "\n\nSyncStalloc: the same under the heap's lock, released also when the call "
        "raises;\nRuntimeError if this thread holds it already (inside acquire_locked())."
    )
    for name in list(cls.__dict__):
        doc = getattr(getattr(source, name, None), "__doc__", None)
        if name[0] != "_" and doc:
            cls.__dict__[name].__doc__ = cleandoc(doc) + note


_READY = True  # see _base.load()
