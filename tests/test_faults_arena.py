# The arena under fault injection (_faults.py): alloc, put and array (also when they add
# a block, also from a Stalloc), whole scopes, and the constructor either complete or
# raise MemoryError with the arena exactly as it was (bytes used, blocks, peak, views of
# the scope intact) and its allocator unchanged; and the same call then works.

from stalloc import AllocError, MemoryArena, Stalloc

from _faults import (
    Case,
    allocates_nothing,
    fails,
    heap_state,
    locked,
    repeats_without_growth,
    sweep,
)
from _util import IS_MPY, fill, raises, verify


def arena_state(arena):
    return (
        arena.used,
        arena.held,
        arena.blocks,
        arena.peak,
        [(b[1], b[2]) for b in arena._blocks],
        len(arena._handed),
        arena._open,
    )


class ArenaCase(Case):
    # An open scope holding one 40-byte allocation (a pattern), in a 256-byte block.
    views = 8
    heap = False

    def make(self):
        h = Stalloc(64, 32) if self.heap else None
        arena = MemoryArena(256, allocator=h, views=self.views)
        scope = arena.allocator()
        a = scope.__enter__()
        v = a.alloc(40)
        fill(v, 7)
        return [arena, scope, a, v, h]

    def state(self, s):
        return (arena_state(s[0]), heap_state(s[4]) if s[4] else None)

    def check(self, s):
        assert verify(s[3], 7), "a view of the scope lost its contents"

    def done(self, s, r):
        self.check(s)
        arena = s[0]
        s[1].__exit__(None, None, None)
        assert arena.used == 0 and not arena._open
        arena.release()
        if s[4]:
            assert s[4].is_empty()
            s[4].check()


class Alloc(ArenaCase):
    n = 100

    def op(self, s):
        return s[2].alloc(self.n)


class AllocNoPool(Alloc):
    views = 0


class AllocNewBlock(Alloc):
    n = 400  # no block holds it: a block is added


class AllocNewBlockFromHeap(AllocNewBlock):
    heap = True


class Put(ArenaCase):
    def op(self, s):
        return s[2].put("<HHf", 1, 2, 0.5)


class Array(ArenaCase):
    def op(self, s):
        return s[2].array("h", 20)


class ArrayNewBlock(ArenaCase):
    heap = True

    def op(self, s):
        return s[2].array("d", 100)


def test_arena_allocations_are_all_or_nothing():
    sweep(Alloc())
    for case in (AllocNoPool(), AllocNewBlock(), AllocNewBlockFromHeap(), Put(), Array()):
        fails(case)
    fails(ArrayNewBlock())


class Scope(Case):
    # A whole scope around one allocation that adds a block: enter, allocate, leave
    # (ending a scope allocates nothing). Afterwards the arena is as before.
    def make(self):
        return [MemoryArena(256, views=4)]

    def op(self, s):
        with s[0].allocator() as a:
            a.alloc(300)
        return None

    def state(self, s):
        return arena_state(s[0])

    def done(self, s, r):
        arena = s[0]
        assert arena.used == 0 and arena.peak == 300 and not arena._open
        with arena.allocator() as a:  # the blocks are kept: this allocates nothing new
            a.alloc(300)


def test_whole_scopes_are_all_or_nothing():
    fails(Scope())


class Construct(Case):
    def make(self):
        return [Stalloc(64, 32, 0)]

    def op(self, s):
        return MemoryArena(256, allocator=s[0], views=40)

    def state(self, s):
        return heap_state(s[0])

    def done(self, s, arena):
        with arena.allocator() as a:
            a.alloc(10)
        arena.release()
        assert s[0].is_empty()


def test_constructor_is_all_or_nothing():
    fails(Construct())


def test_bad_put_uses_nothing():
    # A value struct cannot pack is a TypeError (or on CPython, which checks ranges and
    # counts, a ValueError: never struct.error), and uses no arena bytes.
    arena = MemoryArena(256)
    with arena.allocator() as a:
        a.alloc(40)
        before = arena_state(arena)
        raises(TypeError, a.put, "<H", "x")
        raises(TypeError, a.put, "<f", "x")
        if not IS_MPY:
            raises(ValueError, a.put, "<H", 70000)
            raises(ValueError, a.put, "<HH", 1)
        assert arena_state(arena) == before


def test_repeated_failures_keep_nothing():
    repeats_without_growth(AllocNoPool(), 0)
    repeats_without_growth(AllocNewBlock(), 0)


def test_warm_scopes_allocate_nothing():
    # The other side of all or nothing: with pooled views, a scope and its alloc() calls
    # allocate nothing at all (MicroPython: with the GC heap locked, and not even a call
    # frame lent by the GC heap where it counts them), also after a refused call.
    if not IS_MPY:
        return
    s = [MemoryArena(1024, max_bytes=1024)]
    _scope(s)
    with s[0].allocator() as a:
        raises(AllocError, a.alloc, 2000)  # past max_bytes
    assert locked(_scope, s) and allocates_nothing(_scope, s)


def _scope(s):
    with s[0].allocator() as a:
        a.alloc(10)
        a.alloc(20, 8)
