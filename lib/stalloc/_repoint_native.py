# Native twin of _repoint.Pointer.move, for MicroPython with the native emitter: viper
# reads the view's address from the owner's box and writes its offset and length words
# directly (the pure move aims uctypes arrays). The words are the u32 halves of
# _repoint's layout: words 1 and 2 on a 32-bit port, the low halves 2 and 4 on a
# little-endian 64-bit one. Checked on import against _repoint's probe: anything else
# raises ImportError and the pure move runs.

import micropython

from ._repoint import _LEN, _OFF, _WIDE, OK, _halfwords, _word, address, words


class Pointer:
    def __init__(self):
        self._box = box = [None]
        self._slot = _halfwords(_word(address(box), 3))  # box[0]; ptr32() of it: no int made

    if _WIDE:

        @micropython.viper
        def move(self, view, off: int, n: int):
            b = self._box
            b[0] = view  # its address, read below as two u32
            s = ptr32(self._slot)
            p = ptr32(int(s[0]) | (int(s[1]) << 32))
            b[0] = None
            p[2] = (p[2] & 0xFF) | (off << 8)
            p[4] = n

    else:

        @micropython.viper
        def move(self, view, off: int, n: int):
            b = self._box
            b[0] = view  # its address, read below as a u32
            p = ptr32(ptr32(self._slot)[0])
            b[0] = None
            p[1] = (p[1] & 0xFF) | (off << 8)
            p[2] = n


def _check():
    buf = bytearray(64)
    view = memoryview(buf)[3:10]
    w = words(address(view))
    tc = w[_OFF] & 0xFF
    Pointer().move(view, 20, 5)
    view[0] = 0x5A
    return OK and w[_OFF] == tc | 20 << 8 and w[_LEN] == 5 and buf[20] == 0x5A


if not _check():
    raise ImportError("stalloc: views cannot be repointed natively here")

_READY = True  # see _base.load()
