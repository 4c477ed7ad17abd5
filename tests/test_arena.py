# MemoryArena (arena.py): light_arena's tests, reuse without growth, the ceiling, and
# the one-allocator-at-a-time rule. Portable.

from stalloc import AllocError, MemoryArena, Stalloc
from stalloc._base import addressof

from _util import IS_MPY, raises


def test_basic_usage():
    arena = MemoryArena(1024)
    with arena.allocator() as a:
        buf = a.alloc(100)
        buf[:3] = b"abc"
        rec = a.put("<hhf", -1, 2, 0.5)
        assert bytes(rec) == b"\xff\xff\x02\x00\x00\x00\x00?"
        xs = a.array("f", 16)
        xs[3] = 1.25
        assert xs[3] == 1.25 and len(xs) == 16
        assert bytes(buf[:3]) == b"abc"
    assert arena.used == 0 and arena.blocks == 1


def test_buffer_reuse():
    # light_arena: two sequential allocator scopes return the same address.
    arena = MemoryArena(4096)
    addrs = []
    for _ in range(2):
        with arena.allocator() as a:
            addrs.append(addressof(a.alloc(64)))
    assert addrs[0] == addrs[1]


def test_fat_alignment():
    # light_arena: a 256-aligned struct, twice: aligned and 256 apart.
    arena = MemoryArena(4096)
    with arena.allocator() as a:
        a.alloc(3)
        x = a.alloc(256, 256)
        y = a.alloc(256, 256)
        assert addressof(x) % 256 == 0 and addressof(y) - addressof(x) == 256


def test_dynamic_slices_are_contiguous():
    arena = MemoryArena(4096)
    with arena.allocator() as a:
        s1 = a.alloc(40)
        s2 = a.alloc(40)
        assert addressof(s2) == addressof(s1) + 40


def test_oversized_request_adds_a_block():
    # light_arena's memory_arena test: a request larger than a block gets its own.
    arena = MemoryArena(1024)
    with arena.allocator() as a:
        big = a.alloc(5000)
        assert len(big) == 5000 and arena.blocks == 2
        small = a.alloc(10)  # first fit goes back to the first block
        assert addressof(small) - addressof(arena._blocks[0][0]) < 1024
    held = arena.held
    for _ in range(20):  # a steady workload: no new blocks
        with arena.allocator() as a:
            a.alloc(5000)
            a.alloc(500)
    assert arena.held == held and arena.blocks == 2


def test_one_allocator_at_a_time():
    arena = MemoryArena(256)
    with arena.allocator() as a:
        raises(RuntimeError, arena.allocator().__enter__)
        a.alloc(10)
    with arena.allocator() as b:  # after the first one ended: fine
        b.alloc(10)
    raises(ValueError, b.alloc, 10)  # the allocator died with its scope


def test_views_die_with_the_scope_on_cpython():
    arena = MemoryArena(256)
    with arena.allocator() as a:
        v = a.alloc(8)
    if not IS_MPY:
        raises(ValueError, v.__getitem__, 0)


def test_ceiling_and_reset_on_exceptions():
    arena = MemoryArena(1024, max_bytes=2048)
    try:
        with arena.allocator() as a:
            a.alloc(1000)
            a.alloc(1000)  # a second block: 2048 held
            raises(AllocError, a.alloc, 1000)  # a third would pass max_bytes
            raise KeyError("the frame failed")
    except KeyError:
        pass
    assert arena.used == 0 and arena.held == 2048
    with arena.allocator() as a:  # the arena is usable after the exception
        a.alloc(1000)
    assert arena.peak == 2000


def test_blocks_from_a_fixed_heap():
    heap = Stalloc(32, 64)
    arena = MemoryArena(512, allocator=heap)
    with arena.allocator() as a:
        a.alloc(1000)
        raises(AllocError, a.alloc, 2000)
    arena.release()
    assert heap.is_empty() and arena.blocks == 0
    with arena.allocator() as a:  # adds a block again
        a.alloc(10)


def test_bad_arguments():
    raises(ValueError, MemoryArena, 0)
    raises(ValueError, MemoryArena, 100, 50)
    raises(ValueError, MemoryArena, 100, None, None, -1)  # views
    raises(TypeError, MemoryArena, 100, None, None, 2.0)
    arena = MemoryArena(64)
    with arena.allocator() as a:
        raises(ValueError, a.alloc, -1)
        raises(ValueError, a.array, "f", -1)
        raises(ValueError, a.alloc, 4, 3)
        raises(ValueError, a.array, "z", 4)


def test_zero_size_values_use_no_bytes():
    # alloc(0) and put("") raised ValueError ("nbytes must be >= 1"); light_arena stores
    # zero-sized values, and the second stack takes zero-byte frames.
    arena = MemoryArena(64)
    with arena.allocator() as a:
        a.alloc(64)  # the block is full: a zero-size value must not add one
        empty = [a.alloc(0), a.alloc(0, 256), a.put(""), a.put("<"), a.array("f", 0)]
        for v in empty:
            assert len(v) == 0, v
        assert bytes(empty[0]) == b"" and arena.used == 64 and arena.blocks == 1
        if not IS_MPY:  # the values are still checked (MicroPython ignores extra ones)
            raises(ValueError, a.put, "", 1)
    assert arena.used == 0 and arena.blocks == 1


def test_allocator_outside_with_says_how_to_use_it():
    # was "AttributeError: '_Scope' object has no attribute 'alloc'"
    arena = MemoryArena(64)
    a = arena.allocator()
    for call in (lambda: a.alloc(10), lambda: a.put("<h", 1), lambda: a.array("f", 2)):
        e = raises(ValueError, call)
        assert "with arena.allocator() as a:" in str(e), e
    with arena.allocator() as b:
        assert b is a  # one allocator object, also its own context manager
        b.alloc(10)
    e = raises(ValueError, a.alloc, 10)
    assert "with arena.allocator() as a:" in str(e), e
    assert arena.used == 0 and arena.blocks == 1
