# The second stack (stack.py): the seeds' examples, growth and reuse, exceptions at
# every point, stale views, the ceiling, typed frames and the stack vec. Portable.

import gc

from stalloc import (
    AllocError,
    Stack,
    Stalloc,
    System,
    buffer,
    buffered,
    default_stack,
    frame,
    stack_vec,
    uninit,
    uninit_slice,
    with_stack_vec,
)

from _util import IS_MPY, fill, gc_measures, raises, room_for, verify


def repeat(value, n):
    for _ in range(n):
        yield value


# -- the seeds' own examples -------------------------------------------------------------


def test_seed_buffer_example():
    n = 1000 if room_for(16384) else 250  # (the seed's 1000 objects: fewer on a small board)

    def check(items):
        assert len(items) == n
        assert items[19] == 19
        return "ran"

    assert buffer(range(n), check) == "ran"
    default_stack().trim()  # its chunk goes: a small board's later tests need the room


def test_seed_owned_stack_example():
    stack = Stack()
    assert stack.buffer(repeat(5, 100), lambda items: (len(items), sum(items))) == (100, 500)


def test_seed_uninit_slice_and_large_value():
    def write(view):
        view[0] = 7
        view[-1] = 9
        return len(view)

    assert uninit_slice(1000, write) == 1000
    # A "huge value" off the call stack: 32 KiB in one frame (8 KiB on a small board),
    # within the default stack's 64 KiB ceiling.
    n = 32768 if room_for(32768) else 8192
    assert uninit(n, lambda v: len(v)) == n
    default_stack().trim()


# -- frames ------------------------------------------------------------------------------


def test_frames_nest_and_keep_contents():
    stack = Stack(64)
    with stack.frame(40) as a:
        fill(a, 1)
        with stack.frame(100) as b:  # does not fit: a second chunk
            fill(b, 2)
            with stack.frame(10) as c:
                fill(c, 3)
                assert stack.depth == 3
            assert verify(b, 2)
        assert verify(a, 1)
    assert stack.depth == 0
    assert stack.held == stack.capacity  # the first chunk went back with its last frame


def test_typed_frames_on_both_runtimes():
    stack = Stack()
    for tc, value in (
        ("B", 200),
        ("b", -5),
        ("h", -300),
        ("H", 60000),
        ("i", -70000),
        ("f", 1.5),
        ("d", -2.25),
    ):
        with stack.frame(10, tc) as v:
            assert len(v) == 10
            v[0] = value
            v[9] = value
            assert v[0] == value and v[-1] == value
            assert list(v[9:10]) == [value]
            assert len(list(iter(v))) == 10


def test_object_frames_drop_references_when_the_scope_ends():
    stack = Stack()
    token = ["payload"]
    with stack.buffered([token, token, 3]) as items:
        assert len(items) == 3 and items[0] is token and items[1:] == [token, 3]
        base = items._base
    assert stack._slots[base : base + 3] == [None, None, None]
    with stack.frame(4, "O") as slots:
        assert slots.tolist() == [None] * 4
        slots[2] = token
    assert token not in stack._slots


def test_zero_length_frames():
    stack = Stack()
    with stack.frame(0) as v:
        assert len(v) == 0
    with stack.frame(0, "d") as t:
        assert len(t) == 0
    assert stack.buffer([], len) == 0
    assert stack.depth == 0


def test_views_are_dead_after_their_frame():
    stack = Stack()
    with stack.frame(3, "h") as typed:
        pass
    raises(ValueError, len, typed)
    with stack.buffered("abc") as items:
        pass
    raises(ValueError, items.__getitem__, 0)
    with stack.frame(8) as raw:
        pass
    if not IS_MPY:  # MicroPython cannot release a memoryview (documented)
        raises(ValueError, raw.__getitem__, 0)


def test_exceptions_anywhere_restore_the_stack():
    stack = Stack(32)
    held = stack.held

    def boom(*_):
        raise KeyError("boom")

    def bad_items():
        yield 1
        yield 2
        raise KeyError("iterator")

    for call in (
        lambda: stack.buffer(range(10), boom),  # in fn
        lambda: stack.buffer(bad_items(), len),  # in the iterable
        lambda: stack.buffer(bad_items(), len, "i"),  # typed, in the iterable
        lambda: stack.uninit(100, boom),  # after growing
        lambda: stack.uninit_slice(5, boom, "O"),
        lambda: stack.with_stack_vec(boom),
    ):
        with stack.frame(8) as outer:
            fill(outer, 4)
            raises(KeyError, call)
            assert stack.depth == 1
            assert verify(outer, 4)
        assert stack.depth == 0 and stack._nslots == 0
        assert all(s is None for s in stack._slots)
        assert stack._old == []  # no chunk kept for frames that are gone
    assert stack.held >= held


def test_frames_must_end_in_lifo_order():
    stack = Stack()
    outer = stack.frame(8)
    outer.__enter__()
    inner = stack.frame(8)
    inner.__enter__()
    raises(RuntimeError, outer.__exit__, None, None, None)  # refused: marked ended
    assert stack.depth == 2
    inner.__exit__(None, None, None)  # and goes with the frame above it
    assert stack.depth == 0
    raises(RuntimeError, outer.__exit__, None, None, None)  # it has ended already


def test_iterable_may_use_the_stack_itself():
    stack = Stack(16)

    def nested(n):
        for k in range(n):
            # each item needs its own frame on the same stack, and ends it
            yield stack.buffer(range(k + 1), lambda items: sum(items))

    assert stack.buffer(nested(20), lambda items: list(items)) == [
        k * (k + 1) // 2 for k in range(20)
    ]
    typed = stack.buffer(nested(30), lambda items: items.tolist(), "i")
    assert typed == [k * (k + 1) // 2 for k in range(30)]
    assert stack.depth == 0


# -- growth, reuse, ceiling --------------------------------------------------------------


def _workload(stack):
    with stack.frame(300) as a:
        fill(a, 1)
        stack.buffer(range(50), len)
        with stack.frame(2000, "B") as b:
            b[0] = 1
            stack.with_stack_vec(lambda v: v.extend(range(100)), "d")
        assert verify(a, 1)


def test_steady_workload_saturates_at_one_chunk():
    stack = Stack(64)
    for _ in range(3):
        _workload(stack)
    allocs, held = stack._chunk_allocs, stack.held
    assert stack._old == []
    for _ in range(50):
        _workload(stack)
    assert (stack._chunk_allocs, stack.held) == (allocs, held)


def test_saturated_stack_stops_taking_memory():
    # The GC heap itself: after warm-up, the workload leaves no growing footprint.
    stack = Stack(64)
    for _ in range(5):
        _workload(stack)
    if IS_MPY:
        gc_measures()
        gc.collect()
        before = gc.mem_free()
        for _ in range(200):
            _workload(stack)
        gc.collect()
        assert before - gc.mem_free() < 512, before - gc.mem_free()
    else:
        import tracemalloc

        tracemalloc.start()
        try:
            for _ in range(20):
                _workload(stack)
            gc.collect()
            first, _ = tracemalloc.get_traced_memory()
            for _ in range(200):
                _workload(stack)
            gc.collect()
            second, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert second - first < 2048, second - first


def test_max_capacity_is_a_hard_ceiling():
    stack = Stack(64, max_capacity=256)
    with stack.frame(200) as a:  # replaces the empty 64-byte chunk
        assert len(a) == 200
        raises(AllocError, stack.frame(100).__enter__)  # 200 held + 100 > 256
        assert stack.depth == 1 and stack.held <= 256
    raises(AllocError, stack.uninit, 300, len)
    assert stack.held <= 256
    small = Stack(16, max_capacity=64)
    raises(AllocError, small.buffer, range(100), len)  # object slots count too
    assert small.depth == 0 and small._nslots == 0


def test_counts_are_checked_never_wrapped():
    # second-stack SS1: a huge count wrapped to a tiny buffer with a huge slice.
    stack = Stack(64, max_capacity=4096)
    raises(ValueError, stack.frame, -1)
    raises(TypeError, stack.frame, 2.5)
    raises(ValueError, stack.frame, 3, "x")
    raises(AllocError, stack.frame((1 << 61) // 8, "d").__enter__)
    raises(AllocError, uninit_slice, 1 << 62, len, "Q")  # the default stack: no ceiling
    assert stack.depth == 0 and default_stack().depth == 0


def test_stack_inside_a_fixed_heap():
    heap = Stalloc(64, 64)  # 4 KiB
    stack = Stack(256, allocator=heap)
    assert heap.owns(stack._chunk)
    with stack.frame(1000) as big:
        assert heap.owns(stack._chunk) and len(big) == 1000
    raises(AllocError, stack.uninit, 5000, len)  # the heap itself is the limit
    stack.trim()
    assert heap.is_empty()
    with stack.frame(10):  # usable again after trim
        pass
    capped = Stack(64, allocator=System(limit=100))
    raises(AllocError, capped.uninit, 500, len)


def test_trim_needs_no_open_frames():
    stack = Stack()
    with stack.frame(8):
        raises(RuntimeError, stack.trim)
    stack.trim()
    assert stack.held == 0


# -- the stack vec -------------------------------------------------------------------------


def test_stack_vec_push_pop_extend_index():
    def body(v):
        v.extend(range(10))
        v.push(10)
        assert len(v) == 11 and v[0] == 0 and v[-1] == 10
        assert v.pop() == 10 and len(v) == 10
        v[3] = 33
        return list(v)

    assert with_stack_vec(body) == [0, 1, 2, 33, 4, 5, 6, 7, 8, 9]
    assert with_stack_vec(body, "h") == [0, 1, 2, 33, 4, 5, 6, 7, 8, 9]


def test_stack_vec_grows_across_chunks_and_keeps_items():
    stack = Stack(32)
    with stack.frame(20) as below:
        fill(below, 6)
        with stack.vec("d") as v:
            for k in range(500):
                v.push(k * 0.5)
            assert len(v) == 500 and v[499] == 249.5 and v[0] == 0.0
        assert verify(below, 6)


def test_stack_vec_refuses_to_grow_below_another_frame():
    # second_stack2's assert_inv: a vec used inside a newer scope cannot push or pop.
    with stack_vec() as v:
        v.push(1)
        with frame(4):
            raises(RuntimeError, v.push, 2)
            raises(RuntimeError, v.pop)
            assert len(v) == 1 and v[0] == 1  # reading is fine
        v.push(2)
        assert v.tolist() == [1, 2]
    raises(ValueError, len, v)  # ended with its scope


def test_stack_vec_moves_out_of_an_old_chunk():
    stack = Stack(64)
    with stack.vec("i") as v:
        v.extend(range(5))
        with stack.frame(500):  # grows the stack: v's chunk becomes an old one
            pass
        v.extend(range(5, 100))  # v must move into the current chunk to grow
        assert v.tolist() == list(range(100))
    assert stack.depth == 0 and stack._old == []


def test_pop_empty_vec():
    with stack_vec() as v:
        raises(IndexError, v.pop)


def test_module_context_forms():
    with frame(16) as raw:
        assert len(raw) == 16
    with buffered(range(5)) as items:
        assert items.tolist() == [0, 1, 2, 3, 4]
    with stack_vec("B") as v:
        v.extend(b"abc")
        assert bytes(v.tolist()) == b"abc"


def test_zero_byte_frame_survives_growth_that_frees_the_empty_chunk():
    stack = Stack(64)
    with stack.frame(0):
        with stack.frame(500):  # the empty 64-byte chunk is given back for a bigger one
            pass
        stack.uninit(0, len)
    assert stack.depth == 0 and stack._old == []


def test_ended_frames_keep_no_chunk_or_view_alive():
    # Records of ended frames are reused; a chunk referenced from one could never be
    # collected on MicroPython.
    stack = Stack(64)
    with stack.frame(40):
        with stack.frame(500):  # the first chunk becomes old, then is retired
            stack.buffer(range(10), len)
    for rec in stack._recs:  # every record: all their frames have ended
        assert rec[0] is None and rec[1] is None and rec[7] is None
