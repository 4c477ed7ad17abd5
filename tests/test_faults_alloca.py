# The alloca family and the thread's default stack under fault injection (_faults.py): as
# the Stack's frames in test_faults_stack.py, each call completes or raises MemoryError with
# the stack exactly as it was, and the same call then works.

from stalloc import (
    AllocError,
    alloca,
    alloca_zeroed,
    default_stack,
    set_default_stack,
    stackalloc,
    stackalloc_uninit,
    stackalloc_with,
    stackalloc_with_iter,
)

from _faults import fails, sweep
from _stack_cases import StackCase, touch, touch_items
from _util import raises


class Alloca(StackCase):
    # The alloca family on this thread's default stack (a fresh one per case).
    def make(self):
        s = StackCase.make(self)
        set_default_stack(s[0])
        return s

    def done(self, s, r):
        StackCase.done(self, s, r)
        set_default_stack(None)


class AllocaBytes(Alloca):
    def op(self, s):
        return alloca(600, touch)


class AllocaZeroed(Alloca):
    def op(self, s):
        return alloca_zeroed(100, touch)


class Stackalloc(Alloca):
    def op(self, s):
        return stackalloc(4, 1, touch_items)


class StackallocUninit(Alloca):
    def op(self, s):
        return stackalloc_uninit(20, touch_items, "h")


class StackallocWith(Alloca):
    def op(self, s):
        return stackalloc_with(4, int, touch_items)


class StackallocWithIter(Alloca):
    def op(self, s):
        return stackalloc_with_iter(range(10), touch_items, None, 6)


def test_the_alloca_family_is_all_or_nothing():
    sweep(AllocaZeroed())
    for case in (AllocaBytes(), Stackalloc(), StackallocUninit(), StackallocWith()):
        fails(case)
    fails(StackallocWithIter())


def test_the_default_stack_is_bounded():
    # A fresh default stack has a ceiling (stack.DEFAULT_MAX_CAPACITY) and holds no more.
    from stalloc import stack as mod

    set_default_stack(None)
    try:
        st = default_stack()
        assert st._max == mod.DEFAULT_MAX_CAPACITY
        raises(AllocError, st.uninit, mod.DEFAULT_MAX_CAPACITY + 1, len)
        assert st.held <= mod.DEFAULT_MAX_CAPACITY and st.depth == 0
    finally:
        set_default_stack(None)
