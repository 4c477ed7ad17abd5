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
#
# Addresses: the GC heap may lie anywhere a 32-bit port puts RAM, where id() is negative or
# a big int (_base.from_id). Addresses become Python ints only when a view or an owner is
# made; a move never makes one: it stores the view in a one-item list (the owner's box)
# and copies the pointer the list holds, u16 by u16, to where it writes. The words are
# written as u16 items through uctypes arrays; _repoint_native.py writes them with viper.

import uctypes

from ._base import from_id, halves, load

_WIDE = __import__("sys").maxsize > 1 << 32
_TOP = __import__("sys").maxsize + 1  # from_id(): 2**(W-1)
_HALF = {"h": (uctypes.ARRAY | 0, uctypes.UINT16 | 16)}  # four machine words as u16 items
_DESC = {"w": (uctypes.ARRAY | 0, uctypes.UINT32 | 8)}  # ... as u32 items (made views only)
# Little-endian u32 items of the words (the probe fails elsewhere); the native code and the
# tables use these (stack_native's and heap_native's state tables).
_OFF = 2 if _WIDE else 1  # word 1 (typecode | offset << 8), its low half
_LEN = 4 if _WIDE else 2  # word 2 (len; in a uctypes object, its address)
_ITEMS = 6 if _WIDE else 3  # word 3 (items)
LIMIT = 1 << 24  # offsets and lengths stop here: a 32-bit port keeps 24 bits of offset


def address(obj):
    """obj's address (a new int, big past 2**30 on a 32-bit port: not at run time)."""
    return from_id(id(obj), _TOP)


def words(addr):
    """The u32 items of the four machine words at addr, readable and writable in place."""
    return uctypes.struct(addr, _DESC).w


def _halfwords(addr):
    return uctypes.struct(addr, _HALF).h


def _word(addr, k):
    # Machine word k at addr, as an int.
    w = words(addr)
    return w[2 * k] | w[2 * k + 1] << 32 if _WIDE else w[k]


class Pointer:
    """Moves views of one owner: move(view, off, n) makes `view` cover items off..off+n
    of the buffer it was sliced from (off, n < LIMIT). One per heap, stack or arena (two
    threads must not share one: the box is its scratch). Allocates nothing per move, at
    any address."""

    def __init__(self):
        self._box = box = [None]  # move() puts the view here, then reads where it points
        self._slot = _halfwords(_word(address(box), 3))  # the list's items: box[0]
        self._o = _halfwords(address(self))  # aimed at a view by each move, then at 0
        self._aim = _halfwords(address(self._o))  # over _o's object: word 2, its address

    # move() is written out per word size, with few names: a bytecode frame of more than
    # 11 words comes from the GC heap on every call. u16 items of the four words: word 1
    # (typecode, then the offset) from 2 (32-bit) or 4, word 2 (len; in _o's object, the
    # address it reads) from 4 or 8.
    if _WIDE:

        def move(self, view, off, n):
            a = self._aim
            s = self._slot
            self._box[0] = view  # the list now holds its address: copied, no int made
            a[8] = s[0]
            a[9] = s[1]
            a[10] = s[2]
            a[11] = s[3]
            self._box[0] = None
            s = self._o
            s[4] = (s[4] & 0xFF) | (off & 0xFF) << 8
            s[5] = off >> 8
            s[8] = n & 0xFFFF
            s[9] = n >> 16
            # Aimed at 0: an address kept in _o would keep the view, and the memory it
            # covers, alive (the GC takes any address for a reference).
            a[8] = a[9] = a[10] = a[11] = 0

    else:

        def move(self, view, off, n):
            a = self._aim
            s = self._slot
            self._box[0] = view
            a[4] = s[0]
            a[5] = s[1]
            self._box[0] = None
            s = self._o
            s[2] = (s[2] & 0xFF) | (off & 0xFF) << 8
            s[3] = off >> 8
            s[4] = n & 0xFFFF
            s[5] = n >> 16
            a[4] = a[5] = 0


def offset(view):
    """Where a byte view starts, from its buffer's start (its items pointer). From the
    addresses, not word 1: past LIMIT its low 32 bits do not hold the whole offset."""
    return uctypes.addressof(view) - _word(address(view), 3)


def probe(make=None):
    """True when views can be repointed here: the layout above holds, a Pointer aims
    where it should, and a moved view reads and writes exactly its new range. `make`
    (tests) slices the probe's views instead of memoryview(buf)[3:10]."""
    buf = bytearray(64)
    base = uctypes.addressof(buf)
    view = memoryview(buf)[3:10] if make is None else make(buf)
    w = words(address(view))
    if w[_OFF] >> 8 != 3 or w[_LEN] != 7 or _word(address(view), 3) != base:
        return False
    if _WIDE and (w[3] or w[5]):
        return False  # a high half is not 0
    tc = w[_OFF] & 0xFF
    p = Pointer()
    aim = words(address(p._o))  # where uctypes keeps _o's address (move() writes there)
    if aim[_LEN] != address(p) & 0xFFFFFFFF:
        return False  # checked before move() writes through it
    p.move(view, 20, 5)
    if w[_OFF] != tc | 20 << 8 or w[_LEN] != 5 or aim[_LEN]:
        return False  # not moved, or _o not aimed back at 0
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
    """A move(view, off, n) for one owner: of the viper twin's Pointer, or a pure one."""
    return _native.Pointer().move if _native else Pointer().move


def pool(h, views, top):
    """Give the Stalloc h its pool of `views` empty views of h.memory and their table,
    where views can be repointed here (else h keeps fresh views). The table, u32 items
    (heap.table(); the native alloc() and free() read it too):

        item            what
        0               V, the pooled views (0: none)
        1               log2(B) | (log2(B) - 1) << 8 | the region's block index << 16
                        (its address / B, mod 2**14: the byte API aligns addresses)
        2               the heap's trailer, as a u16 index
        3               the view's offset item | its length item << 8 (see the top)
        4 + 3k          slot k: its view's block + 1 (0: the view is free)
        4 + 3k + 1, 2   the address of view k, low and high u32
    """
    if not OK or top >= LIMIT:
        return
    made = [memoryview(h._mem)[0:0] for _ in range(views)]  # offsets from the region's start
    vt = load("heap").table(h, views)
    vt[3] = _OFF | _LEN << 8
    for k in range(views):
        vt[5 + 3 * k], vt[6 + 3 * k] = halves(address(made[k]))
    h._move = mover()
    h._vs = made
    h._vt = vt


_READY = True  # see _base.load()
