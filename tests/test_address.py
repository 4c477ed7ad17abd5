# Address arithmetic (_base.from_id, halves) over the boundaries a board's memory map can
# put the GC heap at, on every runtime: what MicroPython's id() gives there (modelled as
# py/obj.c makes it), turned back into the address; the u32 halves the tables keep. Then
# the real thing where views are repointed: the address of objects here, a view's words
# found and moved through it, and the reach of a 32-bit port's views.

import sys

from stalloc import MemoryArena, Stack, Stalloc
from stalloc._base import from_id, halves

from _util import IS_MPY, SkipTest, micropython_only, raises

WIDE = sys.maxsize > 1 << 32
EDGES32 = (0, 16, 1 << 24, (1 << 30) - 16, 1 << 30, (1 << 31) - 16, 1 << 31, (1 << 32) - 16)
EDGES64 = EDGES32 + ((1 << 62) - 16, 1 << 62, (1 << 63) - 16)


def mp_id(address, bits):
    # MicroPython's id() of an object at `address` on a port of `bits`-bit words: a small
    # int (bits - 1 bits, signed) when the address is below 2**(bits-1), else a big int.
    if address >= 1 << (bits - 1):
        return address
    small = address & ((1 << (bits - 1)) - 1)
    return small - (1 << (bits - 1)) if small >> (bits - 2) else small


def test_an_id_names_its_address_wherever_ram_lies():
    for bits, edges in ((32, EDGES32), (64, EDGES64)):
        top = 1 << (bits - 1)
        for a in edges:
            i = mp_id(a, bits)
            assert from_id(i, top) == a, (bits, hex(a), i)
            if (1 << (bits - 2)) <= a < top:
                assert i < 0  # ESP32-C6 SRAM at 0x4080_0000 on a 32-bit port
    assert mp_id(0x40800000, 32) == 0x40800000 - (1 << 31)
    assert from_id(-1065353216, 1 << 31) == 0x40800000


def test_halves_at_the_edges():
    for a in EDGES64:
        lo, hi = halves(a)
        assert 0 <= lo <= 0xFFFFFFFF and lo | hi << 32 == a
    assert halves((1 << 32) - 16) == ((1 << 32) - 16, 0)
    assert halves(1 << 62) == (0, 1 << 30)


def test_the_address_of_objects_here_is_what_the_runtime_reads_at_it():
    micropython_only()
    import uctypes

    from stalloc import _repoint

    buf = bytearray(64)
    view = memoryview(buf)[5:9]
    a = _repoint.address(view)
    assert a >= 0 and (a < 1 << 32 or WIDE)
    # Word 3 of a view is its buffer, at any address (negative id() or not).
    assert _repoint._word(a, 3) == uctypes.addressof(buf)
    assert _repoint.offset(view) == 5
    _repoint.mover()(view, 40, 3)
    view[0] = 7
    assert buf[40] == 7 and len(view) == 3 and _repoint.offset(view) == 40


def test_a_32_bit_port_refuses_what_its_views_cannot_reach():
    # A 32-bit MicroPython's memoryview keeps 24 bits of offset: a heap, a stack chunk or
    # an arena block past 16 MiB could not be sliced. Refused before anything is allocated.
    if not IS_MPY or WIDE:
        raise SkipTest("only a 32-bit MicroPython's views stop at 16 MiB")
    raises(ValueError, Stalloc, 2, 1 << 23)  # 16 MiB exactly: the last view would not fit
    raises(ValueError, Stalloc, 65535, 512)
    raises(ValueError, Stack, 1 << 24)
    raises(ValueError, MemoryArena, 1 << 24)
    from stalloc import AllocError

    stack = Stack(64)
    raises(AllocError, stack.uninit, 1 << 24, len)
    assert (stack.depth, stack.held, stack.capacity) == (0, 64, 64)
    arena = MemoryArena(64)
    with arena.allocator() as a:
        raises(AllocError, a.alloc, 1 << 24)
        assert arena.blocks == 1 and arena.used == 0
