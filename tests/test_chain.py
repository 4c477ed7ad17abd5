# System (the GC heap with a ceiling) and AllocChain. Portable.

from stalloc import AllocChain, AllocError, Stalloc, SyncStalloc, System
from stalloc._base import addressof

from _util import fill, raises, verify


def test_system_accounts_and_enforces_its_limit():
    s = System(100)
    a = s.alloc(60)
    assert len(a) == 60 and bytes(a) == bytes(60)  # fresh memory is zeroed
    raises(AllocError, s.alloc, 41)
    assert (s.used, s.peak, s.failed) == (60, 60, 1)
    b = s.alloc(40)
    assert s.used == 100
    s.free(a)
    s.free(b)
    assert (s.used, s.peak) == (0, 100)
    assert s.owns(a) is False


def test_system_without_limit_and_bad_arguments():
    s = System()
    v = s.alloc(1000)
    s.free(v)
    raises(ValueError, s.alloc, 0)
    raises(ValueError, s.alloc, 8, 12)
    raises(TypeError, s.alloc, 8.0)
    raises(ValueError, System, -1)
    raises(TypeError, System, 1.5)
    raises(ValueError, s.free, memoryview(bytearray(4)))
    w = s.alloc(4)
    raises(ValueError, s.free, w[0:4])
    s.free(w)
    assert s.used == 0


def test_system_alignment_is_absolute_and_counts_padding():
    s = System(10000)
    for align in (1, 2, 8, 16, 64, 256):
        v = s.alloc(10, align)
        assert len(v) == 10 and addressof(v) % align == 0
        s.free(v)
    v = s.alloc(10, 64)
    assert s.used == 10 + 63  # padding is held, so it counts against the limit
    s.free(v)


def test_system_realloc_copies_and_respects_limit():
    s = System(50)
    v = s.alloc(20)
    fill(v, 4)
    w = s.realloc(v, 25)
    assert verify(w[:20], 4) and s.used == 25
    raises(AllocError, s.realloc, w, 30)  # 25 held + 30 new > 50
    assert s.owns(w) and verify(w[:20], 4)
    x = s.realloc(w, 5)
    assert verify(x, 4) and s.used == 5


def test_chain_falls_back_and_routes_frees():
    heap = Stalloc(4, 8)
    sys_ = System(1000)
    chain = heap.chain(sys_)
    assert isinstance(chain, AllocChain)
    views = [chain.alloc(8) for _ in range(6)]
    assert [heap.owns(v) for v in views] == [True] * 4 + [False] * 2
    assert sys_.used == 16
    for v in views:
        assert chain.owns(v)
        chain.free(v)
    assert heap.is_empty() and sys_.used == 0
    raises(ValueError, chain.free, memoryview(bytearray(8)))


def test_chain_does_not_fall_back_on_bad_arguments():
    sys_ = System()
    chain = Stalloc(4, 8).chain(sys_)
    raises(ValueError, chain.alloc, 8, 3)
    raises(ValueError, chain.alloc, 0)
    assert sys_.used == 0 and sys_.failed == 0


def test_chain_realloc_moves_between_members():
    heap = Stalloc(4, 8)
    sys_ = System(1000)
    chain = heap.chain(sys_)
    v = chain.alloc(16)
    fill(v, 11)
    w = chain.realloc(v, 100)  # does not fit the heap: moves to System
    assert sys_.owns(w) and verify(w[:16], 11) and heap.is_empty()
    x = chain.realloc(w, 8)  # System reallocs within itself
    assert sys_.owns(x) and verify(x, 11)
    chain.free(x)
    assert sys_.used == 0


def test_chain_realloc_falls_back_to_primary_when_fallback_is_full():
    heap = Stalloc(8, 8)
    sys_ = System(40)
    chain = heap.chain(sys_)
    filler = chain.alloc(64)  # the heap is full
    v = chain.alloc(40)  # System is full too
    fill(v, 3)
    chain.free(filler)
    w = chain.realloc(v, 48)  # System cannot hold 40 + 48: the heap takes it
    assert heap.owns(w) and verify(w[:40], 3) and sys_.used == 0


def test_chain_realloc_asks_each_member_once():
    heap = Stalloc(4, 8)
    chain = heap.chain(System(64))
    v = chain.alloc(16)
    chain.alloc(8)
    w = chain.realloc(v, 40)  # the heap cannot grow or move it: one failed request
    assert not heap.owns(w) and heap.stats().failed == 1


def test_chain_full_everywhere_raises_and_changes_nothing():
    heap = Stalloc(2, 8)
    sys_ = System(8)
    chain = heap.chain(sys_)
    v = chain.alloc(16)
    w = chain.alloc(8)
    raises(AllocError, chain.alloc, 1)
    fill(v, 1)
    raises(AllocError, chain.realloc, v, 24)
    assert heap.owns(v) and verify(v, 1) and sys_.owns(w)


def test_s8_chains_of_three_and_more_work():
    # stalloc S8: its documented three-allocator chain could be built but not used.
    a, b, c = Stalloc(2, 8), SyncStalloc(2, 8), System(64)
    chain = a.chain(b).chain(c)
    assert chain.members() == [a, b, c]
    views = [chain.alloc(8) for _ in range(6)]
    owners = [[m.owns(v) for m in (a, b, c)].index(True) for v in views]
    assert owners == [0, 0, 1, 1, 2, 2]
    fill(views[0], 5)
    moved = chain.realloc(views[0], 24)  # too big for a and b: ends in c
    assert c.owns(moved) and verify(moved[:8], 5)
    for v in views[1:] + [moved]:
        chain.free(v)
    assert a.is_empty() and b.is_empty() and c.used == 0
    four = AllocChain(Stalloc(1, 8), chain)
    assert len(four.members()) == 4
    assert "AllocChain" in repr(four)


def test_chain_scoped():
    heap = Stalloc(2, 8)
    chain = heap.chain(System())
    with chain.scoped(100) as v:
        assert len(v) == 100 and not heap.owns(v)
    with chain.scoped(8) as v:
        assert heap.owns(v)
    assert heap.is_empty()


def test_chain_rejects_members_without_the_protocol():
    raises(TypeError, AllocChain, Stalloc(1, 8), object())
    raises(TypeError, AllocChain, 42, System())


def test_system_turns_runtime_refusals_into_allocerror():
    s = System()
    raises(AllocError, s.alloc, 1 << 62)  # OverflowError from bytearray() on both runtimes
    raises(AllocError, s.alloc, 1 << 40)  # MemoryError from the runtime
    assert s.failed == 2 and s.used == 0


def test_chain_realloc_to_a_huge_size_falls_back_and_fails_cleanly():
    h = Stalloc(16, 16)
    chain = h.chain(System(limit=4096))
    v = chain.alloc(20)
    raises(AllocError, chain.realloc, v, 2**64 + 3)
    assert h.owns(v)
    w = chain.realloc(v, 1000)  # past the heap: System takes it
    assert chain.fallback.owns(w) and len(w) == 1000


def test_system_limit_takes_bools_as_ints_on_both_runtimes():
    s = System(limit=True)
    assert s.alloc(1) is not None
    raises(AllocError, s.alloc, 1)
    assert System(limit=False).limit == 0
