# Address arithmetic, in one place: what the runtime gives (an id(), a buffer's address)
# turned into plain non-negative addresses, and the pieces the view words are written in.
# Pure functions, tested over the boundaries on every runtime (tests/test_address.py).
#
# MicroPython's id(obj) is the object's address as a small int when it fits one, so on a
# port of W-bit words (py/obj.c, mp_obj_id):
#
#     address                  id()
#     [0, 2**(W-2))            the address
#     [2**(W-2), 2**(W-1))     address - 2**(W-1): negative (ESP32-C6 SRAM, 0x4080_0000)
#     [2**(W-1), 2**W)         the address, as a big int (allocated per call)
#
# CPython's id() is the address. Nothing here allocates for a small int argument.


def from_id(i, top):
    """The address MicroPython's id() `i` names; top = 2**(W-1) (sys.maxsize + 1)."""
    return i + top if i < 0 else i


def halves(a):
    """An address as its (low, high) u32 halves, the way the tables keep it."""
    return a & 0xFFFFFFFF, a >> 32


def pad(a, align):
    """Bytes from address a to the next multiple of align (a power of two)."""
    return -a & (align - 1)


_READY = True  # see _base.load()
