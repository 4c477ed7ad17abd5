# The block heap's integer API: construction, Debug text, errors, and one named test per
# stalloc defect (S1-S8) this port fixes. Portable: pytest and tools/upytest.py.

from stalloc import AllocError, Stalloc, SyncStalloc, UnsafeStalloc

from _util import fails_cleanly, raises, rejects, room_for, snapshot


def test_new_heap_is_one_free_run():
    h = Stalloc(10, 8)
    assert h.blocks == 10 and h.block_size == 8
    assert h.free_runs() == [(0, 10)]
    assert h.is_empty() and not h.is_oom()
    h.check()


def test_footprint_is_fixed_and_exact():
    shapes = [(1, 4), (10, 8), (300, 16)]
    if room_for(65535 * 4):  # the largest block count (a 256 KiB heap: not on a small board)
        shapes.append((65535, 4))
    for L, B in shapes:
        h = Stalloc(L, B)
        assert h.footprint == L * B + 12
        assert len(snapshot(h)) == L * B + 12
        h.allocate_blocks(1)
        assert h.footprint == L * B + 12


def test_constructor_rejects_bad_geometry():
    for L in (0, -1, 65536):
        raises(ValueError, Stalloc, L, 8)
    for B in (0, 1, 2, 3, 6, 12, -4):
        raises(ValueError, Stalloc, 4, B)
    raises(TypeError, Stalloc, 4.0, 8)
    raises(TypeError, Stalloc, 4, "8")
    raises(TypeError, Stalloc, None, 8)


def test_geometry_errors_name_the_argument_and_its_range():
    # Stalloc(10, 3) and Stalloc(70000, 16) both said "need L <= 65535, B a power of 2 in
    # 4..2**29", naming neither argument.
    for args, name, allowed in (
        ((10, 3), "block_size", "power of two in 4..2**29"),
        ((10, 1 << 30), "block_size", "power of two in 4..2**29"),
        ((70000, 16), "blocks", "1..65535"),
        ((0, 16), "blocks", ">= 1"),
        ((10, 16, 70000), "views", "0..65535"),
    ):
        e = raises(ValueError, Stalloc, *args)
        assert name in str(e) and allowed in str(e), (args, e)
    e = raises(TypeError, Stalloc, 4, "8")
    assert "block_size" in str(e) and "str" in str(e), e
    e = raises(TypeError, SyncStalloc, 4.0, 8)
    assert "blocks" in str(e), e


def test_geometry_by_keyword_as_the_attributes_name_it():
    for h in (
        Stalloc(blocks=256, block_size=16),
        Stalloc(256, block_size=16, views=2),
        SyncStalloc(block_size=16, blocks=256),
    ):
        assert (h.blocks, h.block_size) == (256, 16), h
        h.free(h.alloc(20))


def test_repr_shows_the_geometry_and_the_use():
    h = Stalloc(256, 16)
    assert repr(h) == "Stalloc(256, 16, used=0/256 blocks)"
    h.allocate_blocks(3)
    assert repr(h) == "Stalloc(256, 16, used=3/256 blocks)"
    s = SyncStalloc(64, 32)
    s.alloc(40)
    assert repr(s) == "SyncStalloc(64, 32, used=2/64 blocks)"
    # a chain shows its members, the heap's repr among them
    assert "Stalloc(256, 16, used=3/256 blocks)" in repr(h.chain(s)), repr(h.chain(s))


def test_unknown_attribute_names_the_class_and_the_name():
    # was "AttributeError: foo"
    for h in (Stalloc(4, 8), SyncStalloc(4, 8)):
        e = raises(AttributeError, getattr, h, "foo")
        name = type(h).__name__
        assert str(e) == "'%s' object has no attribute 'foo'" % name, e
        assert not hasattr(h, "no_such_method")


def test_debug_text_matches_stalloc_byte_for_byte():
    h = Stalloc(10, 8)
    assert str(h) == "Stallocator with 10 blocks of 8 bytes each\n\tindex 0: 10 free blocks"
    a = h.allocate_blocks(3)
    b = h.allocate_blocks(1)
    h.allocate_blocks(5)
    h.deallocate_blocks(b, 1)
    assert str(h) == (
        "Stallocator with 10 blocks of 8 bytes each"
        "\n\tindex 3: 1 free block"
        "\n\tindex 9: 1 free block"
    )
    h.deallocate_blocks(a, 3)
    assert str(h) == (
        "Stallocator with 10 blocks of 8 bytes each"
        "\n\tindex 0: 4 free blocks"
        "\n\tindex 9: 1 free block"
    )
    h.allocate_blocks(4)
    h.allocate_blocks(1)
    assert str(h) == "Stallocator with 10 blocks of 8 bytes each\n\tNo free blocks (OOM)"
    assert (
        str(SyncStalloc(2, 4))
        == "Stallocator with 2 blocks of 4 bytes each\n\tindex 0: 2 free blocks"
    )
    assert (
        str(UnsafeStalloc(1, 4))
        == "Stallocator with 1 blocks of 4 bytes each\n\tindex 0: 1 free block"
    )


def test_first_fit_takes_lowest_index():
    h = Stalloc(16, 4)
    assert [h.allocate_blocks(2) for _ in range(4)] == [0, 2, 4, 6]
    h.deallocate_blocks(2, 2)
    h.deallocate_blocks(6, 2)
    assert h.allocate_blocks(1) == 2  # the first hole, not the best fit
    assert h.allocate_blocks(2) == 6
    assert h.allocate_blocks(1) == 3


def test_alignment_in_blocks():
    h = Stalloc(32, 4)
    assert h.allocate_blocks(1) == 0
    assert h.allocate_blocks(1, 4) == 4
    assert h.allocate_blocks(3, 8) == 8
    assert h.allocate_blocks(1, 2) == 2
    assert h.allocate_blocks(1, 16) == 16
    h2 = Stalloc(8, 4)
    h2.allocate_blocks(1)
    fails_cleanly(h2, h2.allocate_blocks, 1, 65536)  # only index 0 is a multiple
    fails_cleanly(h2, h2.allocate_blocks, 1, 1 << 40)


def test_free_coalesces_with_both_neighbours():
    h = Stalloc(9, 4)
    a, b, c = h.allocate_blocks(3), h.allocate_blocks(3), h.allocate_blocks(3)
    h.deallocate_blocks(a, 3)
    h.deallocate_blocks(c, 3)
    assert h.free_runs() == [(0, 3), (6, 3)]
    h.deallocate_blocks(b, 3)
    assert h.free_runs() == [(0, 9)]
    assert h.is_empty()
    h.check()


def test_allocation_too_large_fails_cleanly():
    h = Stalloc(8, 4)
    fails_cleanly(h, h.allocate_blocks, 9)
    fails_cleanly(h, h.allocate_blocks, 1 << 70)
    h.allocate_blocks(7)
    fails_cleanly(h, h.allocate_blocks, 2)
    h.allocate_blocks(1)
    assert h.is_oom()
    fails_cleanly(h, h.allocate_blocks, 1)
    assert h.stats().failed == 4


def test_bad_arguments_leave_heap_unchanged():
    h = Stalloc(16, 8)
    a = h.allocate_blocks(4)
    h.allocate_blocks(2)
    h.deallocate_blocks(a, 4)  # runs: [0,4) free, [4,6) used, [6,16) free
    for size in (0, -1):
        rejects(ValueError, h, h.allocate_blocks, size)
    for align in (0, 3, 6, -2):
        rejects(ValueError, h, h.allocate_blocks, 1, align)
    rejects(TypeError, h, h.allocate_blocks, 1.0)
    rejects(TypeError, h, h.allocate_blocks, 2.5)
    rejects(TypeError, h, h.allocate_blocks, "1")
    rejects(TypeError, h, h.allocate_blocks, 1, 2.0)
    rejects(TypeError, h, h.allocate_blocks, None)


def test_bad_frees_leave_heap_unchanged():
    h = Stalloc(16, 8)
    a = h.allocate_blocks(4)
    b = h.allocate_blocks(2)
    h.deallocate_blocks(a, 4)
    rejects(ValueError, h, h.deallocate_blocks, a, 4)  # double free
    rejects(ValueError, h, h.deallocate_blocks, 1, 2)  # inside a free run
    rejects(ValueError, h, h.deallocate_blocks, 3, 2)  # straddles free and used
    rejects(ValueError, h, h.deallocate_blocks, b, 3)  # runs into the free run behind
    rejects(ValueError, h, h.deallocate_blocks, 10, 1)  # never allocated
    rejects(ValueError, h, h.deallocate_blocks, -1, 1)  # out of range
    rejects(ValueError, h, h.deallocate_blocks, 16, 1)
    rejects(ValueError, h, h.deallocate_blocks, 15, 2)  # size past the end
    rejects(ValueError, h, h.deallocate_blocks, b, 0)
    rejects(ValueError, h, h.deallocate_blocks, b, -2)
    rejects(ValueError, h, h.deallocate_blocks, 1 << 40, 1)
    rejects(TypeError, h, h.deallocate_blocks, 4.0, 2)
    rejects(TypeError, h, h.deallocate_blocks, b, 2.0)
    h.deallocate_blocks(b, 2)
    assert h.is_empty()


def test_bad_resizes_leave_heap_unchanged():
    h = Stalloc(16, 8)
    a = h.allocate_blocks(4)
    rejects(ValueError, h, h.shrink_in_place, a, 4, 4)
    rejects(ValueError, h, h.shrink_in_place, a, 4, 5)
    rejects(ValueError, h, h.shrink_in_place, a, 4, 0)
    rejects(ValueError, h, h.shrink_in_place, a, 5, 2)  # claims a free block
    rejects(ValueError, h, h.shrink_in_place, 8, 2, 1)  # entirely free
    rejects(ValueError, h, h.shrink_in_place, 14, 4, 1)  # past the end
    rejects(ValueError, h, h.grow_in_place, a, 4, 4)
    rejects(ValueError, h, h.grow_in_place, a, 4, 3)
    rejects(ValueError, h, h.grow_in_place, a, 5, 6)  # claims a free block
    rejects(ValueError, h, h.grow_up_to, a, 4, 2)
    rejects(ValueError, h, h.grow_up_to, 6, 1, 2)  # free
    rejects(ValueError, h, h.grow_up_to, -1, 1, 2)
    rejects(TypeError, h, h.grow_up_to, a, 4, 6.0)
    rejects(TypeError, h, h.shrink_in_place, a, "4", 2)


def test_errors_name_the_argument_and_the_request():
    # A float size used to fail on a shift ("unsupported operand type(s) for >>"), and a
    # failed grow reported the size clamped to the heap ("to 17"), not the one asked for.
    h = Stalloc(16, 16)
    e = rejects(TypeError, h, h.alloc, 1.5)
    assert "nbytes" in str(e) and "float" in str(e), e
    e = rejects(TypeError, h, h.allocate_blocks, 2.5)
    assert "size" in str(e) and "float" in str(e), e
    i = h.allocate_blocks(2)
    e = fails_cleanly(h, h.grow_in_place, i, 2, 100)
    assert "100" in str(e) and "17" not in str(e), e
    h.deallocate_blocks(i, 2)


def test_shrink_and_grow_in_place():
    h = Stalloc(16, 4)
    a = h.allocate_blocks(4)
    b = h.allocate_blocks(4)
    h.shrink_in_place(a, 4, 1)
    assert h.free_runs() == [(1, 3), (8, 8)]
    h.grow_in_place(a, 1, 3)
    assert h.free_runs() == [(3, 1), (8, 8)]
    fails_cleanly(h, h.grow_in_place, a, 3, 5)  # only one block behind
    assert h.grow_up_to(a, 3, 10) == 4
    assert h.free_runs() == [(8, 8)]
    assert h.grow_up_to(a, 4, 6) == 4  # b is right behind: nothing to take
    assert h.grow_up_to(b, 4, 100) == 12
    assert h.is_oom()
    h.shrink_in_place(b, 12, 2)  # also clears the OOM state
    assert h.free_runs() == [(6, 10)]
    h.check()


def test_grow_in_place_merges_into_exact_run():
    h = Stalloc(8, 4)
    a = h.allocate_blocks(2)
    h.allocate_blocks(6)
    h.deallocate_blocks(2, 6)
    h.grow_in_place(a, 2, 8)
    assert h.is_oom() and h.free_runs() == []
    h.check()


def test_clear_frees_everything_and_keeps_history():
    h = Stalloc(8, 4)
    h.allocate_blocks(5)
    raises(AllocError, h.allocate_blocks, 4)
    h.clear()
    assert h.is_empty()
    s = h.stats()
    assert (s.used, s.peak_used, s.failed) == (0, 5, 1)
    assert h.allocate_blocks(8) == 0


def test_stats_report_shape_of_free_space():
    h = Stalloc(20, 4)
    ids = [h.allocate_blocks(2) for _ in range(10)]
    for i in ids[::2]:
        h.deallocate_blocks(i, 2)
    s = h.stats()
    assert (s.blocks, s.block_size, s.used, s.free) == (20, 4, 10, 10)
    assert (s.free_runs, s.largest_free_run, s.peak_used) == (5, 2, 20)
    assert s.footprint == 20 * 4 + 12
    assert "largest_free_run=2" in repr(s)


def test_check_detects_corruption():
    # Mutation test of the checker (o1heap's "invariant checker" test): corrupt one u16
    # field at a time and check() must notice; restore it and check() passes again.
    h = Stalloc(16, 8)
    h.allocate_blocks(2)
    b = h.allocate_blocks(2)
    h.allocate_blocks(2)
    h.deallocate_blocks(b, 2)
    h.check()
    w = h._w  # the heap's memory as u16 items
    run = b * 8 // 2  # u16 index of the free run's header: next, length
    tr = 16 * 8 // 2  # u16 index of the trailer: first, oom, used, peak, failed
    for off, val in (
        (run + 1, 0),  # run length 0
        (run + 1, 3),  # run overlaps the allocation behind it
        (run + 1, 15),  # run passes the end of the heap
        (run, 2),  # next points backwards
        (run, 16),  # next out of range
        (run, b),  # next points at itself (a cycle)
        (tr + 1, 0x12),  # bad OOM marker
        (tr + 1, 0xFFFF),  # OOM while runs are free
        (tr + 2, 9),  # used counter wrong
        (tr + 3, 1),  # peak below used
        (tr, 7),  # first run index wrong
    ):
        saved = w[off]
        w[off] = val
        raises(RuntimeError, h.check)
        w[off] = saved
        h.check()


def test_s1_exact_fit_of_last_run_is_not_oom():
    # stalloc S1: consuming the last run exactly set the OOM marker even though earlier
    # runs were free; they were then leaked for good.
    h = Stalloc(4, 4)
    a = h.allocate_blocks(1)
    h.allocate_blocks(1)
    c = h.allocate_blocks(2)
    h.deallocate_blocks(a, 1)
    h.deallocate_blocks(c, 2)
    assert h.free_runs() == [(0, 1), (2, 2)]
    assert h.allocate_blocks(2) == 2  # exact fit of the last run, block 0 still free
    assert not h.is_oom()
    assert h.allocate_blocks(1) == 0
    assert h.is_oom()
    h.deallocate_blocks(0, 1)
    h.deallocate_blocks(1, 1)
    h.deallocate_blocks(2, 2)
    assert h.is_empty()
    h.check()


def test_s2_aligned_fit_with_spare_front_keeps_front_blocks():
    # stalloc S2: an aligned request that used a run's tail exactly, skipping blocks in
    # front, unlinked the run and left a stale header: later allocations aliased.
    # The crate's reproduction: Stalloc<8,4>, a u32 box, then Vec<u64> of 3, then a box.
    h = Stalloc(8, 4)
    first = h.allocate_blocks(1)
    vec = h.allocate_blocks(6, 2)
    assert (first, vec) == (0, 2)
    assert h.free_runs() == [(1, 1)]
    second = h.allocate_blocks(1)
    assert second == 1 and second != first
    assert h.is_oom()
    h.check()


def test_s3_is_empty_needs_every_block_free():
    # stalloc S3: is_empty() was true whenever block 0 was free.
    h = Stalloc(4, 4)
    a = h.allocate_blocks(1)
    h.allocate_blocks(1)
    h.deallocate_blocks(a, 1)
    assert not h.is_empty()
    assert h.free_runs()[0] == (0, 1)


def test_s8_debug_size_is_what_footprint_says():
    # stalloc S8 (documentation): its size was documented as L*B + 4 but is L*B + B.
    # Here the footprint is documented, fixed and measured: L*B + 12.
    h = Stalloc(10, 8)
    assert h.footprint == 92 == len(snapshot(h))


def test_map_draws_used_and_free_blocks():
    h = Stalloc(10, 8)
    h.allocate_blocks(3)
    b = h.allocate_blocks(2)
    h.allocate_blocks(1)
    h.deallocate_blocks(b, 2)
    assert h.map() == "###..#...."  # one character per block
    assert h.map(width=5) == "#::.."  # pairs of blocks; ':' = partly used
    assert h.map(width=4) == "#:.."  # groups of 3, the last one short
    big = Stalloc(130, 4)
    big.allocate_blocks(65)
    assert big.map(width=64) == "#" * 21 + ":" + "." * 22  # groups of 3 blocks
    h.allocate_blocks(2)
    h.allocate_blocks(4)
    assert h.map() == "#" * 10
    raises(ValueError, h.map, 0)


def test_memory_gives_the_integer_api_its_blocks_without_allocating_views():
    h = Stalloc(8, 16)
    mem = h.memory
    assert len(mem) == 8 * 16 and h.memory is mem  # made once, the data region only
    i = h.allocate_blocks(2)
    mem[i * 16 : (i + 2) * 16] = bytes(range(32))
    j = h.allocate_blocks(1)
    mem[j * 16] = 0xAB
    assert bytes(mem[i * 16 : (i + 2) * 16]) == bytes(range(32)) and mem[j * 16] == 0xAB
    h.check()  # data in allocated blocks never touches the free list
    assert len(SyncStalloc(4, 8).memory) == 32
