# Repointing memoryviews (MicroPython): a view the library made is moved to another range
# of the same buffer by rewriting two words of its object, so handing out a view
# allocates nothing. A memoryview is py/objarray.h's mp_obj_array_t, four machine words:
#
#     word  what
#     0     type
#     1     typecode (low 8 bits) | offset << 8    offset: items from `items`
#     2     len, in items
#     3     items: the first byte of the buffer the view was sliced from
#
# Nothing is assumed: probe() slices views of a known buffer, checks these words, moves
# one and checks what it then reads and writes, and only then sets OK. Where it fails
# (another layout; CPython never loads this) the library makes fresh views, as before.
# The words are written through uctypes arrays; repoint_native.py writes them with viper.

import uctypes

from ._base import load

# Everything is read and written as u32 items: reading a u64 item allocates an int. On
# a 64-bit port these are the low halves (little-endian; the probe fails elsewhere).
_WIDE = __import__("sys").maxsize > 1 << 32
_DESC = {"w": (uctypes.ARRAY | 0, uctypes.UINT32 | 8)}
_OFF = 2 if _WIDE else 1  # u32 item of word 1 (typecode | offset << 8)
_LEN = 4 if _WIDE else 2  # u32 item of word 2 (len; in a uctypes object, its address)
_ITEMS = 6 if _WIDE else 3  # u32 item of word 3 (items)
SMALL = __import__("sys").maxsize >> 1  # an id() above this would allocate a big int
LIMIT = 1 << 24  # offsets and lengths past this do not fit word 1's low 32 bits


def words(addr):
    """The u32 items of the four machine words at addr, readable and writable in place."""
    return uctypes.struct(addr, _DESC).w


class Pointer:
    """Moves views of one owner: move(view, off, n) makes `view` cover items off..off+n
    of the buffer it was sliced from. One per heap or stack (it is aimed per call, so two
    threads must not share one). Allocates nothing per move."""

    def __init__(self):
        self._o = words(id(self))  # aimed at a view by each move, then back here
        self._aim = words(id(self._o))  # over _o's own object: word 2 is its address

    def aimed(self, obj):
        # True if _o reads obj's words: uctypes keeps its address where move() writes.
        a = self._aim
        return a[_LEN] == id(obj) & 0xFFFFFFFF and (not _WIDE or a[5] == id(obj) >> 32)

    def move(self, view, off, n):
        a = self._aim
        if _WIDE:  # (0xFFFFFFFF is a big int on a 32-bit port: & would allocate)
            a[4] = id(view) & 0xFFFFFFFF
            a[5] = id(view) >> 32
        else:
            a[2] = id(view)
        o = self._o
        o[_OFF] = (o[_OFF] & 0xFF) | off << 8
        o[_LEN] = n
        # Aimed back here: an address kept in _o would keep the view, and the memory it
        # covers, alive (the GC takes any address for a reference).
        if _WIDE:
            a[4] = id(self) & 0xFFFFFFFF
            a[5] = id(self) >> 32
        else:
            a[2] = id(self)


def offset(view):
    """Where a byte view starts, from its buffer's start (its items pointer). From the
    addresses, not word 1: past LIMIT its low 32 bits do not hold the whole offset."""
    w = words(id(view))
    items = w[_ITEMS] | (w[_ITEMS + 1] << 32 if _WIDE else 0)
    return uctypes.addressof(view) - items


def probe(make=None):
    """True when views can be repointed here: the layout above holds, a Pointer aims
    where it should, and a moved view reads and writes exactly its new range. `make`
    (tests) slices the probe's views instead of memoryview(buf)[3:10]."""
    buf = bytearray(64)
    base = uctypes.addressof(buf)
    view = memoryview(buf)[3:10] if make is None else make(buf)
    w = words(id(view))
    if w[_OFF] >> 8 != 3 or w[_LEN] != 7 or id(view) > SMALL:
        return False
    if w[_ITEMS] != base & 0xFFFFFFFF or (_WIDE and (w[3] or w[5] or w[7] != base >> 32)):
        return False  # word 3 is not the buffer, or a high half is not 0
    tc = w[_OFF] & 0xFF
    p = Pointer()
    if not p.aimed(p):  # checked before move() writes through it
        return False
    p.move(view, 20, 5)
    if w[_OFF] != tc | 20 << 8 or w[_LEN] != 5:
        return False
    view[0] = 0x5A
    view[4] = 0xA5
    return (
        len(view) == 5
        and uctypes.addressof(view) == base + 20
        and buf[20] == 0x5A
        and buf[24] == 0xA5
        and buf[19] == buf[25] == 0
        and bytes(view) == bytes(buf[20:25])
    )


OK = probe()  # views may be repointed on this port
# Its native twin, loaded now (as an import, under the lock of the load() that brings
# this module in; _base.load() runs native loads unlocked, so never at run time).
_native = load("_repoint_native", True) if OK else None


def mover():
    """A move(view, off, n) for one owner: the viper twin (shared: it keeps no state), or
    a Pointer of its own."""
    return _native.move if _native else Pointer().move


def pool(h, views, top):
    """Give the Stalloc h its pool of `views` empty views of h.memory and their table,
    where views can be repointed here and every address is a small int (else h keeps
    fresh views). The table, u32 items (heap.table(); the native alloc() and free() read
    it too):

        item            what
        0               V, the pooled views (0: none)
        1               log2(B) | (log2(B) - 1) << 8
        2               the heap's trailer, as a u16 index
        3               the view's offset item | its length item << 8 (see the top)
        4 + 3k          slot k: its view's block + 1 (0: the view is free)
        4 + 3k + 1, 2   the address of view k, low and high u32
    """
    if not OK or top >= LIMIT:
        return
    made = [h.memory[0:0] for _ in range(views)]
    if max([id(v) for v in made]) > SMALL:
        return
    h._move = mover()
    h._vs = made
    h._vt = vt = load("heap").table(h, views)
    vt[3] = _OFF | _LEN << 8
    for k in range(views):
        vt[5 + 3 * k] = id(made[k]) & 0xFFFFFFFF
        if _WIDE:
            vt[6 + 3 * k] = id(made[k]) >> 32


_READY = True  # see _base.load()
