# The second stack under fault injection (_faults.py): every kind of frame, growth to a
# new chunk (also with a frame open below) and stack vecs either complete or raise
# MemoryError with the stack exactly as it was (depth, top, bytes held, the current chunk,
# older chunks, slots, the open frames' owners) and its open frames intact; and the same
# call then works. Chunks from a Stalloc and the constructor: test_faults_stack_heap.py;
# the alloca family and the default stack: test_faults_alloca.py (one file at a time fits
# a small board).

from stalloc import (
    AllocError,
    Stack,
)

from _faults import (
    allocates_nothing,
    fails,
    locked,
    repeats_without_growth,
    sweep,
)
from _stack_cases import Push, StackCase, Uninit, UninitGrows, stack_state, touch, touch_items
from _util import IS_MPY, raises, warm_stack


class UninitGrowsAlone(UninitGrows):
    outer = 0  # the empty chunk is given back for the new one


class SliceObjects(StackCase):
    def op(self, s):
        return s[0].uninit_slice(4, touch_items, "O")


class SliceTyped(StackCase):
    def op(self, s):
        return s[0].uninit_slice(40, touch_items, "h")


class SliceTypedGrows(StackCase):
    def op(self, s):
        return s[0].uninit_slice(300, touch_items, "i")


class FrameBytes(StackCase):
    n = 600

    def op(self, s):
        with s[0].frame(self.n) as v:
            return touch(v)


class FrameObjects(StackCase):
    def op(self, s):
        with s[0].frame(4, "O") as v:
            return touch_items(v)


class FrameTyped(StackCase):
    def op(self, s):
        with s[0].frame(100, "h") as v:
            return touch_items(v)


class Buffer(StackCase):
    typecode = None

    def op(self, s):
        return s[0].buffer(range(20), touch_items, self.typecode)


class BufferTyped(Buffer):
    typecode = "h"


class BufferTypedGrows(Buffer):
    typecode = "q"

    def op(self, s):
        return s[0].buffer(range(40), touch_items, self.typecode)


class VecEnter(StackCase):
    # with_stack_vec(): its scope and vec made, entered, ended.
    def op(self, s):
        return s[0].with_stack_vec(touch_vec, "h")


def touch_vec(vec):
    return vec is not None


class PushObjects(Push):
    typecode = None
    n = 4  # the slot list grows by one for the push


def test_byte_frames_are_all_or_nothing():
    for case in (Uninit(), FrameBytes()):
        sweep(case)
    fails(UninitGrows())
    fails(UninitGrowsAlone())


def test_object_and_typed_frames_are_all_or_nothing():
    for case in (SliceObjects(), FrameObjects(), SliceTyped(), FrameTyped()):
        fails(case)
    fails(SliceTypedGrows())


def test_buffers_and_vecs_are_all_or_nothing():
    for case in (Buffer(), BufferTyped(), BufferTypedGrows(), Push(), PushObjects()):
        fails(case)
    fails(VecEnter())


def test_a_refused_frame_leaves_its_manager_free():
    # A frame refused (no room under the ceiling) must not keep its depth's frame
    # manager: the next frame at that depth reuses it, allocating nothing.
    st = Stack(64, max_capacity=128)
    with st.frame(16):
        pass
    mgrs = len(st._mgrs)
    for _ in range(3):
        try:
            with st.frame(1000):
                pass
        except AllocError:
            pass
    assert len(st._mgrs) == mgrs and not st._mgrs[0]._busy
    with st.frame(16) as v:
        assert len(v) == 16


def test_a_refusal_past_the_ceiling_changes_nothing():
    # The empty chunk is not given back for a request the ceiling refuses anyway.
    st = Stack(64, max_capacity=256)
    before = stack_state(st)
    raises(AllocError, st.uninit, 300, len)
    assert stack_state(st) == before
    assert st.uninit(256, len) == 256  # the empty chunk's room counts: this fits


def test_repeated_failures_keep_nothing():
    repeats_without_growth(FrameObjects(), 0)
    repeats_without_growth(UninitGrows(), 2)


def test_frames_ended_out_of_order_are_popped_with_the_frames_above():
    # Two asyncio tasks holding frames of one stack across an await end them in the
    # order they resume: the first exit is refused (not LIFO), and once the frame above
    # ends, the refused one is gone too: the stack recovers.
    st = Stack(256)
    fa = st.frame(16)
    fa.__enter__()
    fb = st.frame(32, "O")
    fb.__enter__()
    raises(RuntimeError, fa.__exit__, None, None, None)
    assert st.depth == 2  # b is still open above a
    fb.__exit__(None, None, None)
    assert st.depth == 0 and st._top == 0 and st._nslots == 0
    assert not [f for f in st._mgrs if f._busy]
    with st.frame(16) as v:  # and works as before
        assert len(v) == 16


def test_warm_frames_run_with_the_heap_locked():
    # The other side of all or nothing: once warm, byte frames allocate nothing at all
    # (MicroPython: they run with the GC heap locked; with the native emitter not even a
    # call frame is lent), also after a frame the stack refused.
    if not IS_MPY:
        return
    from stalloc import stack as stack_module

    case = FrameBytes()
    case.n = 100
    s = case.make()
    raises(AllocError, s[0].uninit, 1 << 30, len)  # more than the GC heap holds
    for _ in range(2):
        case.op(s)
    assert locked(case.op, s) and locked(Uninit().op, s)
    if stack_module.ACCELERATED:
        assert allocates_nothing(case.op, s) and allocates_nothing(Uninit().op, s)
    case.done(s, None)


def test_frames_ended_out_of_order_with_fast_frames_three_deep_and_across_chunks():
    from stalloc import stack as stack_module

    st = Stack(1024)
    warm_stack(st, 3)
    # A frame below ended from inside a closure (a fast frame on the native path).
    outer = st.frame(16)
    outer.__enter__()

    def ends_outer(v):
        raises(RuntimeError, outer.__exit__, None, None, None)  # not on top: ended
        return len(v)

    assert st.uninit(64, ends_outer) == 64
    assert st.depth == 0 and st._top == 0
    # Three deep, ended bottom first: each refused, all gone with the top one.
    fa, fb, fc = st.frame(8), st.frame(8, "O"), st.frame(8, "h")
    for f in (fa, fb, fc):
        f.__enter__()
    raises(RuntimeError, fa.__exit__, None, None, None)
    raises(RuntimeError, fb.__exit__, None, None, None)
    assert st.depth == 3
    fc.__exit__(None, None, None)
    assert st.depth == 0 and st._nslots == 0 and st._top == 0
    # A refused frame in an older chunk: it goes with the frame that grew the stack.
    fa, fb = st.frame(100), st.frame(2000)
    fa.__enter__()
    fb.__enter__()
    assert len(st._old) == 1
    raises(RuntimeError, fa.__exit__, None, None, None)
    fb.__exit__(None, None, None)
    assert st.depth == 0 and not st._old
    assert st.held == st.capacity + len(st._slots) * stack_module._WORD
    assert st.uninit(64, len) == 64
