# Stack chunks from another allocator under fault injection (_faults.py), as the stack's
# own cases in test_faults_stack.py: from a Stalloc (growth, a vec's push, the
# constructor), the heap part of the state; and an allocator whose free() fails. Its own
# file: a small board runs one test file at a time.

import stalloc
from stalloc import Stack, Stalloc, System

from _faults import Case, fails, heap_state, sweep
from _stack_cases import Push, UninitGrows, stack_state, touch


def _heap(case):
    # The case's heap, made once and cleared for each subject: a small board's GC heap,
    # cut up by the sweep's ballast, may have no 1 KiB hole left late in a sweep. (Small:
    # state() copies it.)
    if case.allocator is None:
        case.allocator = Stalloc(64, 16)
    case.allocator.clear()
    return case.allocator


class FromHeap(UninitGrows):
    # Chunks from a Stalloc: the heap is part of the state.
    def stack(self):
        return Stack(256, allocator=_heap(self))

    def make(self):
        s = UninitGrows.make(self)
        return s + [s[0]._alloc]

    def state(self, s):
        return (stack_state(s[0]), heap_state(s[3]))

    def done(self, s, r):
        UninitGrows.done(self, s, r)
        s[0].trim()
        assert s[3].is_empty()
        s[3].check()


class FromHeapAlone(FromHeap):
    outer = 0


class PushFromHeap(Push):
    def stack(self):
        return Stack(256, allocator=_heap(self))

    def state(self, s):
        return (stack_state(s[0]), heap_state(s[0]._alloc))


def test_chunks_from_a_heap_are_all_or_nothing():
    for case in (FromHeap(), FromHeapAlone(), PushFromHeap()):
        s = case.make()  # once first: what it loads on first use is not made under ballast
        case.done(s, case.op(s))  # (there it would cut a small board's heap up for good)
        s = None
        sweep(case)


class Construct(Case):
    # Stack(capacity, allocator=heap): the heap keeps nothing of a failed constructor.
    def make(self):
        return [Stalloc(32, 32, 0)]

    def op(self, s):
        return Stack(256, allocator=s[0])

    def state(self, s):
        return heap_state(s[0])

    def done(self, s, st):
        assert st.uninit(100, touch)
        st.trim()
        assert s[0].is_empty()


class ConstructTasks(Construct):
    # TaskStacks(count, capacity, allocator=heap): every chunk back when one cannot be had.
    def op(self, s):
        return stalloc.TaskStacks(3, 128, None, s[0])  # loaded here: a small board's RAM

    def done(self, s, pool):
        for st in pool.stacks:
            assert st.uninit(100, touch)
            st.trim()
        assert s[0].is_empty()


def test_constructor_is_all_or_nothing():
    fails(Construct())
    case = ConstructTasks()
    s = case.make()
    case.done(s, case.op(s))  # tasks.py loaded once first, not under ballast
    fails(case)


class Flaky:
    # An allocator whose free() runs out of memory when told to (CPython locating a
    # view can): ending a frame must not fail for it.
    def __init__(self):
        self.inner = System()
        self.fail = 0

    def alloc(self, nbytes, align=1):
        return self.inner.alloc(nbytes, align)

    def free(self, view):
        if self.fail:
            self.fail -= 1
            raise MemoryError("no room to free")
        self.inner.free(view)


def test_a_chunk_the_allocator_cannot_take_back_does_not_break_the_stack():
    flaky = Flaky()
    st = Stack(64, allocator=flaky)
    f1, f2, f3 = st.frame(48), st.frame(100), st.frame(300)
    for f in (f1, f2, f3):
        f.__enter__()  # three chunks: 64, 128, 300 bytes
    assert len(st._old) == 2
    f3.__exit__(None, None, None)
    flaky.fail = 1
    f2.__exit__(None, None, None)  # its chunk is let go (the allocator keeps it)
    f1.__exit__(None, None, None)
    assert st.depth == 0 and not st._old and st.held == st.capacity
    assert flaky.inner.used == st.capacity + 128  # the one chunk not taken back
    assert st.uninit(200, len) == 200
