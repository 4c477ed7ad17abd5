# Native twin of _repoint.Pointer.move, for MicroPython with the native emitter: viper
# writes a view's offset and length words directly (the pure move aims two uctypes
# arrays). The words are the u32 halves of _repoint's layout: words 1 and 2 on a 32-bit
# port, the low halves 2 and 4 on a little-endian 64-bit one. Checked on import against
# _repoint's probe: anything else raises ImportError and the pure move runs.

import micropython

from ._repoint import _LEN, _OFF, _WIDE, OK, words


@micropython.viper
def _move32(view, off: int, n: int):
    p = ptr32(id(view))
    p[1] = (p[1] & 0xFF) | (off << 8)
    p[2] = n


@micropython.viper
def _move64(view, off: int, n: int):
    p = ptr32(id(view))
    p[2] = (p[2] & 0xFF) | (off << 8)
    p[4] = n


move = _move64 if _WIDE else _move32


def _check():
    buf = bytearray(64)
    view = memoryview(buf)[3:10]
    w = words(id(view))
    tc = w[_OFF] & 0xFF
    move(view, 20, 5)
    view[0] = 0x5A
    return OK and w[_OFF] == tc | 20 << 8 and w[_LEN] == 5 and buf[20] == 0x5A


if not _check():
    raise ImportError("stalloc: views cannot be repointed natively here")

_READY = True  # see _base.load()
