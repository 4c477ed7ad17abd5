# Chains and System under fault injection (_faults.py): allocation falling back to the
# GC heap, a realloc that moves from one member to the other, frees, and System's own
# calls either complete or raise MemoryError with both ends of the chain exactly as they
# were; and the same call then works.

from stalloc import Stalloc, System

from _faults import Case, fails, heap_state, sweep
from _util import fill, verify


def system_state(sys_):
    # Its peak is a high-water mark: a moving realloc that failed held both for a moment.
    return (sys_.used, len(sys_._live))


class ChainCase(Case):
    # A 4 x 16-byte heap (no pool: every view fresh) before System(4096); a in the heap,
    # b in System, both holding patterns.
    def make(self):
        h = Stalloc(4, 16, 0)
        spill = System(4096)
        chain = h.chain(spill)
        a = chain.alloc(20)
        b = chain.alloc(100)
        fill(a, 1)
        fill(b, 2)
        return [chain, a, b, h, spill]

    def state(self, s):
        return (heap_state(s[3]), system_state(s[4]))

    def check(self, s):
        assert verify(s[1], 1) and verify(s[2], 2), "a live view lost its contents"

    def settle(self, s, views):
        chain = s[0]
        for v in views:
            chain.free(v)
        assert s[3].is_empty() and s[4].used == 0 and not s[4]._live
        s[3].check()


class AllocSpills(ChainCase):
    def op(self, s):
        return s[0].alloc(200)  # too big for the heap: System serves it

    def done(self, s, r):
        assert s[4].owns(r)
        self.check(s)
        self.settle(s, [r, s[1], s[2]])


class ReallocMovesOut(ChainCase):
    def op(self, s):
        return s[0].realloc(s[1], 300)  # from the heap to System

    def done(self, s, r):
        assert s[4].owns(r) and verify(r[:20], 1)
        self.settle(s, [r, s[2]])


class ReallocMovesIn(ChainCase):
    def op(self, s):
        return s[0].realloc(s[2], 30)  # shrinks in System: a move within System

    def done(self, s, r):
        assert len(r) == 30
        self.settle(s, [r, s[1]])


class Free(ChainCase):
    def op(self, s):
        return s[0].free(s[2])

    def done(self, s, r):
        self.settle(s, [s[1]])


def test_chain_calls_are_all_or_nothing():
    for case in (AllocSpills(), ReallocMovesOut(), ReallocMovesIn()):
        fails(case)
    sweep(Free())


class SystemAlloc(Case):
    def make(self):
        spill = System(4096)
        a = spill.alloc(50, 64)
        fill(a, 3)
        return [spill, a]

    def state(self, s):
        return system_state(s[0])

    def check(self, s):
        assert verify(s[1], 3)

    def op(self, s):
        return s[0].realloc(s[1], 500)

    def done(self, s, r):
        assert verify(r[:50], 3)
        s[0].free(r)
        assert s[0].used == 0 and not s[0]._live


def test_system_is_all_or_nothing():
    fails(SystemAlloc())
