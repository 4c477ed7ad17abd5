# What the stack's fault-injection files share (test_faults_stack.py, _stack_heap.py,
# _alloca.py): the stack's state as the harness compares it, the frames' functions, the
# warm stack with an outer frame open that every case starts from, and the cases the
# others build on. Its own file: a small board runs one test file at a time, and the
# three together would not fit one.

from stalloc import Stack

from _faults import Case
from _util import fill, verify


def stack_state(st):
    return (
        st.depth,
        st.held,
        st.capacity,
        id(st._chunk),
        st._top,
        [(id(c), top) for c, top in st._old],
        st._nslots,
        len(st._slots),
        [id(st._recs[d][0]) for d in range(st.depth)],
    )


def touch(view):
    # What the frames' functions do: use the view, and allocate nothing (the calls are
    # under test, not the function: on CPython even len() of 600 makes an int).
    view[0] = 1
    return True


def touch_items(items):
    items[0] = 1
    return True


class StackCase(Case):
    # A stack whose 256-byte chunk is warm at depths 0..2, with an outer 64-byte frame
    # open (filled with a pattern), so that a frame lands at depth 1.
    outer = 64
    allocator = None

    def stack(self):
        return Stack(256, allocator=self.allocator)

    def make(self):
        st = self.stack()
        for _ in range(2):
            with st.frame(16), st.frame(16), st.frame(16):
                pass
        f = st.frame(self.outer)
        v = f.__enter__()
        fill(v, 5)
        return [st, f, v]

    def state(self, s):
        return stack_state(s[0])

    def check(self, s):
        assert verify(s[2], 5), "the open frame lost its contents"

    def done(self, s, r):
        st = s[0]
        assert st.depth == 1
        self.check(s)
        s[1].__exit__(None, None, None)
        # An empty chunk a growth kept for its undo may wait in _old (CPython: the call
        # that gives it back could not be made): the next growth, trim() or this does.
        assert not [top for _, top in st._old if top]
        st._settle()
        assert st.depth == 0 and st._nslots == 0 and not st._old
        assert not [f for f in st._mgrs if f._busy], "a frame manager left busy"


class Uninit(StackCase):
    n = 100  # fits the chunk: a warm depth, nothing to allocate

    def op(self, s):
        return s[0].uninit(self.n, touch)


class UninitGrows(Uninit):
    n = 600  # a new chunk, with the outer frame left in the old one


class Push(StackCase):
    # One push onto a vec whose frame fills its chunk: it moves to a new one.
    typecode = "i"
    n = 48

    def make(self):
        s = StackCase.make(self)
        scope = s[0].vec(self.typecode)
        vec = scope.__enter__()
        for k in range(self.n):
            vec.push(k)
        return s + [scope, vec]

    def op(self, s):
        return s[4].push(7)

    def check(self, s):
        StackCase.check(self, s)
        vec = s[4]
        assert len(vec) == self.n and vec[self.n - 1] == self.n - 1

    def done(self, s, r):
        vec = s[4]
        assert len(vec) == self.n + 1 and vec[self.n] == 7 and vec[self.n - 1] == self.n - 1
        s[3].__exit__(None, None, None)
        s[4] = [0] * (self.n - 1) + [self.n - 1]  # what check() expects of the ended vec
        StackCase.done(self, s, r)
