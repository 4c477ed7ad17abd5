# A randomized soak of the second stack, after second-stack's own: random nesting of
# every kind of frame, random sizes, contents verified after the inner scopes return,
# every object slot released exactly when its scope ends. And one default stack per
# thread. Portable; the same seeds on both runtimes.

import gc
import time

from stalloc import AllocError, Stack, default_stack, set_default_stack

from _util import Rng, fill, room_for, threads, verify

TYPECODES = ("B", "h", "i", "f", "d")


class Token:
    # An item whose slot must be cleared exactly when its frame ends.
    def __init__(self, n):
        self.n = n


def _slots_hold(stack, token):
    for s in stack._slots:
        if s is token:
            return True
    return False


def _soak(stack, rng, depth, budget):
    if depth == 0 or budget[0] <= 0:
        return
    budget[0] -= 1
    kind = rng.below(5)
    seed = rng.next() & 0xFF
    if kind == 0:  # raw bytes, checked after the inner scopes
        n = rng.range(0, 700)
        with stack.frame(n) as view:
            fill(view, seed)
            _soak(stack, rng, depth - 1, budget)
            assert verify(view, seed), "bytes overwritten by an inner frame"
    elif kind == 1:  # typed numbers
        tc = rng.choice(TYPECODES)
        n = rng.range(0, 120)
        with stack.frame(n, tc) as view:
            for k in range(n):
                view[k] = (seed + k) % 100
            _soak(stack, rng, depth - 1, budget)
            for k in range(n):
                assert view[k] == (seed + k) % 100, "typed items overwritten"
    elif kind == 2:  # objects from an iterable that itself uses the stack
        n = rng.range(0, 40)

        def items():
            for k in range(n):
                if rng.below(8) == 0:
                    _soak(stack, rng, depth - 1, budget)
                yield Token(k)

        with stack.buffered(items()) as objs:
            tokens = list(objs)
            _soak(stack, rng, depth - 1, budget)
            assert [t.n for t in objs] == list(range(n))
        for t in tokens:
            assert not _slots_hold(stack, t), "object slot not released at scope end"
    elif kind == 3:  # a typed vec growing around nested frames
        tc = rng.choice(TYPECODES)
        with stack.vec(tc) as v:
            n = rng.range(0, 200)
            for k in range(n):
                v.push(k % 100)
                if rng.below(40) == 0:
                    _soak(stack, rng, depth - 1, budget)
            assert v.tolist() == [k % 100 for k in range(n)]
    else:  # an exception from deep inside must unwind everything above
        before = stack.depth
        try:
            with stack.frame(rng.range(1, 300)):
                _soak(stack, rng, depth - 1, budget)
                raise KeyError("unwind")
        except KeyError:
            pass
        assert stack.depth == before


def test_random_nesting_soak():
    for seed in range(12):
        rng = Rng(seed)
        stack = Stack(rng.range(16, 256))
        for _ in range(6):
            _soak(stack, rng, 8, [40])
            assert stack.depth == 0 and stack._nslots == 0
            assert stack._old == [], "a chunk outlived every frame in it"
            assert all(s is None for s in stack._slots)


def test_soak_with_a_ceiling_fails_cleanly():
    rng = Rng(99)
    stack = Stack(64, max_capacity=2048)
    failures = 0
    for _ in range(40):
        try:
            _soak(stack, rng, 8, [40])
        except AllocError:
            failures += 1
        assert stack.depth == 0 and stack._nslots == 0
        assert stack.held <= 2048
    assert failures > 0  # the ceiling was reached, and every time it unwound cleanly


def test_each_thread_has_its_own_default_stack():
    _thread = threads()
    # Three stacks grow at once in one GC heap: shallower on a small board, where a
    # 2 KiB chunk for the third thread once found no room (128 KiB virtual board).
    depth = 6 if room_for(96 * 1024) else 2
    gc.collect()
    results = {}
    guard = _thread.allocate_lock()
    done = [0]

    def worker(k):
        try:
            stack = default_stack()
            rng = Rng(500 + k)
            for _ in range(5):
                _soak(stack, rng, depth, [30])
            total = stack.buffer(range(k * 10), lambda items: sum(items))
            with guard:
                results[k] = (stack, total, stack.depth)  # kept alive: ids stay unique
            set_default_stack(None)
        except Exception as e:
            with guard:
                results[k] = repr(e)
        with guard:
            done[0] += 1

    for k in range(3):
        _thread.start_new_thread(worker, (k,))
    deadline = time.time() + 60
    while done[0] < 3:
        assert time.time() < deadline, "threads did not finish"
        time.sleep(0.01)
    assert sorted(results) == [0, 1, 2], results
    stacks = []
    for k, r in results.items():
        assert not isinstance(r, str), r
        stack, total, depth = r
        assert total == sum(range(k * 10)) and depth == 0
        stacks.append(stack)
    assert stacks[0] is not stacks[1] and stacks[1] is not stacks[2]
    assert stacks[0] is not stacks[2]  # three threads, three stacks
    assert default_stack() not in stacks
