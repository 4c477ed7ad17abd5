# Random operation sequences checked against the block model after every step, with a
# seeded generator so both runtimes run exactly the same sequences. (CPython also runs
# the hypothesis state machines in tests/cpython/.)

from stalloc import AllocError, Stalloc
from stalloc._base import addressof

from _model import BlockModel, assert_agrees
from _util import Rng, fill, rejects, verify

ALIGNS = (1, 1, 1, 2, 4, 8, 16)


def _integer_run(seed, steps):
    rng = Rng(seed)
    L = rng.range(1, 64)
    B = rng.choice((4, 8, 16))
    h = Stalloc(L, B)
    m = BlockModel(L)
    live = []  # [index, size]
    failures = 0
    freed = []  # ranges freed earlier, for double-free attempts
    for step in range(steps):
        op = rng.below(10)
        if op < 4 or not live:
            size = rng.range(1, L // 2 + 2)
            align = rng.choice(ALIGNS)
            want = m.first_fit(size, align)
            try:
                got = h.allocate_blocks(size, align)
            except AllocError:
                got = -1
                failures += 1
            assert got == want, "seed %d step %d: got %d, first fit is %d" % (
                seed,
                step,
                got,
                want,
            )
            if got >= 0:
                assert got % align == 0
                m.take(got, size, step)
                live.append([got, size])
        elif op < 7:
            i, size = live.pop(rng.below(len(live)))
            h.deallocate_blocks(i, size)
            m.give(i, size)
            freed.append((i, size))
        elif op == 7:
            k = rng.below(len(live))
            i, size = live[k]
            if size > 1:
                new = rng.range(1, size - 1)
                h.shrink_in_place(i, size, new)
                m.give(i + new, size - new)
                live[k][1] = new
        elif op == 8:
            k = rng.below(len(live))
            i, size = live[k]
            new = size + rng.range(1, 4)
            room = m.room_behind(i, size)
            if rng.below(2):
                try:
                    h.grow_in_place(i, size, new)
                    grew = new
                except AllocError:
                    grew = size
                    failures += 1
                assert (grew == new) == (room >= new - size)
            else:
                grew = h.grow_up_to(i, size, new)
                assert grew == size + min(new - size, room)
            if grew > size:
                m.take(i + size, grew - size, step)
                live[k][1] = grew
        else:
            # A bad free must be refused with the heap untouched: a range that
            # touches any free block (double free, never allocated).
            if freed:
                i, size = rng.choice(freed)
                if m.any_free(i, size):
                    rejects(ValueError, h, h.deallocate_blocks, i, size)
            if rng.below(20) == 0:
                h.clear()
                m = BlockModel(L)
                live = []
                freed = []
        assert_agrees(h, m)
    assert h.stats().failed == failures


def test_integer_api_matches_model():
    for seed in range(24):
        _integer_run(seed, 150)


def _byte_run(seed, steps):
    rng = Rng(seed)
    L = rng.range(2, 48)
    B = rng.choice((4, 8, 16))
    h = Stalloc(L, B)
    m = BlockModel(L)
    base = addressof(h._mem)
    live = []  # [view, seed]

    def blocks(n):
        return (n + B - 1) // B

    def index(view):
        return (addressof(view) - base) // B

    for step in range(steps):
        op = rng.below(6)
        if op < 3 or not live:
            n = rng.range(1, L * B // 3 + 1)
            align = rng.choice((1, 2, 4, 8, 16, 32, 64))
            want = m.first_fit(blocks(n), max(1, blocks(align)), base // B)
            try:
                v = h.alloc(n, align)
            except AllocError:
                assert want < 0, "seed %d step %d: spurious AllocError" % (seed, step)
                continue
            assert index(v) == want and len(v) == n
            assert addressof(v) % align == 0
            m.take(want, blocks(n), step)
            fill(v, step)
            live.append([v, step])
        elif op < 5:
            v, s = live.pop(rng.below(len(live)))
            assert verify(v, s), "seed %d: contents lost before free" % seed
            m.give(index(v), blocks(len(v)))
            h.free(v)
        else:
            k = rng.below(len(live))
            v, s = live[k]
            n = rng.range(1, L * B // 3 + 1)
            old_i, old_n = index(v), len(v)
            extra = blocks(n) - blocks(old_n)
            if extra <= 0 or m.room_behind(old_i, blocks(old_n)) >= extra:
                want = old_i  # shrinks, or grows into the free run behind it
            else:
                want = m.first_fit(blocks(n), 1)  # moves; the old blocks are still held
            try:
                w = h.realloc(v, n)
            except AllocError:
                assert want < 0, "seed %d step %d: spurious AllocError" % (seed, step)
                assert verify(v, s)
                continue
            keep = min(old_n, n)
            assert index(w) == want, "seed %d step %d: realloc to %d, expected %d" % (
                seed,
                step,
                index(w),
                want,
            )
            assert len(w) == n and verify(w[:keep], s)
            m.give(old_i, blocks(old_n))
            m.take(index(w), blocks(n), step)
            fill(w, step)
            live[k] = [w, step]
        assert_agrees(h, m)
        for v, s in live:
            assert verify(v, s), "seed %d step %d: a live view was overwritten" % (seed, step)


def test_byte_api_matches_model_and_keeps_contents():
    for seed in range(16):
        _byte_run(seed, 120)
