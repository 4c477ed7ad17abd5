# Hypothesis state machines for the block heap (CPython only): random operation
# sequences, checked step by step against BlockModel (tests/_model.py), the one-owner-
# per-block specification. The integer API must pick exactly the model's first fit,
# fail exactly when the model has no fit, and refuse bad arguments without changing a
# byte; the byte API must hand out views that never overlap, keep their contents, are
# aligned as asked and are placed where the model says.

import random

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from stalloc import Stalloc, System
from stalloc._base import addressof

from _model import BlockModel, assert_agrees
from _util import fails_cleanly, rejects, snapshot

BLOCK_ALIGNS = (1, 2, 4, 8, 16, 64)  # integer API: alignment in blocks
# Byte API: alignment in bytes. It is of addresses: past 16 what fits depends on where the
# heap lies, which differs when Hypothesis replays a run (test_byte_api and the seeded
# test_heap_model cover larger ones); CPython puts every heap on a multiple of 16.
BYTE_ALIGNS = (1, 2, 4, 8, 16)
BAD_ALIGNS = (0, -1, -2, 3, 5, 6, 7, 12, 24, 100, 65535, (1 << 40) + 1)

# Clearing throws away all state the machine has built up: keep it rare.
RARELY = st.integers(0, 7).map(lambda v: v == 7)


def aligns(values):
    # 1 half the time: large alignments fail often in small heaps.
    return st.one_of(st.just(1), st.sampled_from(values))


def ceil_div(a, b):
    return -(-a // b)


def pattern(seed, n):
    """n bytes that depend on seed: every allocation gets its own."""
    return random.Random(seed).randbytes(n)


def is_released(view):
    """True iff using the memoryview raises ValueError (it was released)."""
    try:
        len(view)
    except ValueError:
        return True
    return False


# -- integer API -------------------------------------------------------------------------


class IntegerHeapMachine(RuleBasedStateMachine):
    """allocate/deallocate/shrink/grow/clear and rejected calls, against BlockModel."""

    def __init__(self):
        super().__init__()
        self.live = []  # (index, size, align, tag) per live allocation
        self.freed = []  # (index, size) of ranges freed earlier, newest last

    @initialize(L=st.integers(1, 96), B=st.sampled_from((4, 8, 16, 32)))
    def make_heap(self, L, B):
        self.L = L
        self.B = B
        self.heap = Stalloc(L, B)
        self.model = BlockModel(L)
        self.failures = 0  # AllocErrors seen
        self.peak = 0  # highest model use seen
        self.tags = 0

    # -- helpers -------------------------------------------------------------------------

    def _tag(self):
        self.tags += 1
        return self.tags

    def _note_use(self):
        self.peak = max(self.peak, self.model.used())

    def _fails(self, fn, *args):
        fails_cleanly(self.heap, fn, *args)
        self.failures += 1

    def _pick(self, data, where=None):
        """Draw the position in self.live of an allocation satisfying `where`."""
        ks = [k for k, a in enumerate(self.live) if where is None or where(*a)]
        return data.draw(st.sampled_from(ks), label="live[k]")

    def _forget(self, i, size):
        self.freed.append((i, size))
        del self.freed[:-32]

    def _sizes(self, top):
        # Mostly small, so that the heap fills up and fragments; sometimes anything.
        return st.one_of(
            st.integers(1, min(3, top)),
            st.integers(1, max(1, self.L // 4)),
            st.integers(1, top),
        )

    def _partly_free_candidates(self):
        return [r for r in self.freed if self.model.any_free(*r)]

    def _has_room_behind(self, i, size, align, tag):
        return self.model.room_behind(i, size) > 0

    def _has_room_in_front(self, i, size, align, tag):
        return i > 0 and self.model.owner[i - 1] is None

    # -- operations ----------------------------------------------------------------------

    @rule(data=st.data(), align=aligns(BLOCK_ALIGNS))
    def allocate(self, data, align):
        self._allocate(data.draw(self._sizes(self.L + 2), label="size"), align)

    @rule(size=st.integers(1, 3))
    def allocate_small(self, size):
        # A second allocating rule: allocations outnumber frees, so the heap fills up.
        self._allocate(size, 1)

    def _allocate(self, size, align):
        want = self.model.first_fit(size, align)
        if want < 0:
            event("allocate_blocks: AllocError")
            self._fails(self.heap.allocate_blocks, size, align)
            return
        event("allocate_blocks: fits")
        got = (
            self.heap.allocate_blocks(size, align)
            if align > 1
            else self.heap.allocate_blocks(size)
        )
        assert got == want, "allocate_blocks(%d, %d) -> %d, first fit is %d" % (
            size,
            align,
            got,
            want,
        )
        tag = self._tag()
        self.model.take(got, size, tag)
        self.live.append((got, size, align, tag))
        self._note_use()

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def deallocate(self, data):
        i, size, _, _ = self.live.pop(self._pick(data))
        self.heap.deallocate_blocks(i, size)
        self.model.give(i, size)
        self._forget(i, size)

    @precondition(lambda self: any(a[1] > 1 for a in self.live))
    @rule(data=st.data())
    def shrink_in_place(self, data):
        k = self._pick(data, lambda i, size, align, tag: size > 1)
        i, size, align, tag = self.live[k]
        new = data.draw(st.integers(1, size - 1), label="new_size")
        self.heap.shrink_in_place(i, size, new)
        self.model.give(i + new, size - new)
        self.live[k] = (i, new, align, tag)
        self._forget(i + new, size - new)

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def grow_in_place(self, data):
        k = self._pick(data)
        i, size, align, tag = self.live[k]
        extra = data.draw(self._sizes(self.L + 2), label="extra")
        if self.model.room_behind(i, size) < extra:
            event("grow_in_place: AllocError")
            self._fails(self.heap.grow_in_place, i, size, size + extra)
            return
        event("grow_in_place: grown")
        assert self.heap.grow_in_place(i, size, size + extra) is None
        self.model.take(i + size, extra, tag)
        self.live[k] = (i, size + extra, align, tag)
        self._note_use()

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def grow_up_to(self, data):
        k = self._pick(data)
        i, size, align, tag = self.live[k]
        extra = data.draw(self._sizes(self.L + 2), label="extra")
        take = min(extra, self.model.room_behind(i, size))
        event("grow_up_to: " + ("nothing" if not take else "all" if take == extra else "part"))
        before = snapshot(self.heap)
        got = self.heap.grow_up_to(i, size, size + extra)
        assert got == size + take, "grow_up_to(%d, %d, %d) -> %d, expected %d" % (
            i,
            size,
            size + extra,
            got,
            size + take,
        )
        if not take:
            assert snapshot(self.heap) == before, "a grow_up_to that took nothing changed it"
            return
        self.model.take(i + size, take, tag)
        self.live[k] = (i, size + take, align, tag)
        self._note_use()

    @rule(really=RARELY)
    def clear(self, really):
        if not really:
            return
        event("clear")
        self.heap.clear()
        for i, size, _, _ in self.live:
            self.model.give(i, size)
            self._forget(i, size)
        self.live = []

    # -- rejected calls: ValueError / TypeError, not one byte changed ------------------------
    # Two rules pick one kind of bad call each, so that most steps still change the heap.

    def _bad_ranges(self):
        kinds = ["index_out_of_range", "size_past_the_end"]
        if self._partly_free_candidates():
            kinds.append("double_free")
        if self.model.free_runs():
            kinds.append("free_inside_free_run")
        if any(self._has_room_behind(*a) for a in self.live):
            kinds.append("free_past_the_end_of_an_allocation")
        if any(self._has_room_in_front(*a) for a in self.live):
            kinds.append("free_from_before_an_allocation")
        return kinds

    @rule(data=st.data())
    def bad_range(self, data):
        kind = data.draw(st.sampled_from(self._bad_ranges()), label="kind")
        getattr(self, "_" + kind)(data)

    @rule(
        data=st.data(),
        kind=st.sampled_from(("size_not_positive", "bad_align", "float_sizes")),
    )
    def bad_argument(self, data, kind):
        getattr(self, "_" + kind)(data)

    def _double_free(self, data):
        i, size = data.draw(st.sampled_from(self._partly_free_candidates()), label="freed")
        rejects(ValueError, self.heap, self.heap.deallocate_blocks, i, size)

    def _free_inside_free_run(self, data):
        start, n = data.draw(st.sampled_from(self.model.free_runs()), label="run")
        i = data.draw(st.integers(start, start + n - 1), label="index")
        size = data.draw(st.integers(1, start + n - i), label="size")
        h = self.heap
        rejects(ValueError, h, h.deallocate_blocks, i, size)
        if size > 1:
            rejects(ValueError, h, h.shrink_in_place, i, size, 1)
        rejects(ValueError, h, h.grow_in_place, i, size, size + 1)
        rejects(ValueError, h, h.grow_up_to, i, size, size + 1)

    def _free_past_the_end_of_an_allocation(self, data):
        # A range that starts inside a live allocation and runs into the free run behind.
        i, size, _, _ = self.live[self._pick(data, self._has_room_behind)]
        room = self.model.room_behind(i, size)
        lo = data.draw(st.integers(i, i + size - 1), label="index")
        hi = data.draw(st.integers(i + size + 1, i + size + room), label="end")
        h = self.heap
        rejects(ValueError, h, h.deallocate_blocks, lo, hi - lo)
        # The resizes check the claimed range the same way.
        claimed = hi - i
        new = data.draw(st.integers(1, claimed - 1), label="new_size")
        rejects(ValueError, h, h.shrink_in_place, i, claimed, new)
        rejects(ValueError, h, h.grow_in_place, i, claimed, claimed + 1)
        rejects(ValueError, h, h.grow_up_to, i, claimed, claimed + 1)

    def _free_from_before_an_allocation(self, data):
        # A range that starts in the free run in front of a live allocation and runs into it.
        i, size, _, _ = self.live[self._pick(data, self._has_room_in_front)]
        front = i
        while front > 0 and self.model.owner[front - 1] is None:
            front -= 1
        lo = data.draw(st.integers(front, i - 1), label="index")
        hi = data.draw(st.integers(i + 1, i + size), label="end")
        h = self.heap
        rejects(ValueError, h, h.deallocate_blocks, lo, hi - lo)
        # Resizes of the claimed range: a shrink to lo + new >= i gives back only
        # allocated blocks, so only the free blocks it keeps can refuse it.
        claimed = hi - lo
        new = data.draw(st.integers(1, claimed - 1), label="new_size")
        rejects(ValueError, h, h.shrink_in_place, lo, claimed, new)
        rejects(ValueError, h, h.grow_in_place, lo, claimed, claimed + 1)
        rejects(ValueError, h, h.grow_up_to, lo, claimed, claimed + 1)

    def _index_out_of_range(self, data):
        L = self.L
        i = data.draw(
            st.one_of(
                st.integers(-100, -1),
                st.integers(L, L + 100),
                st.sampled_from((-(1 << 40), 1 << 16, 1 << 40)),
            ),
            label="index",
        )
        size = data.draw(st.integers(1, 3), label="size")
        h = self.heap
        rejects(ValueError, h, h.deallocate_blocks, i, size)
        rejects(ValueError, h, h.shrink_in_place, i, size + 1, size)
        rejects(ValueError, h, h.grow_in_place, i, size, size + 1)
        rejects(ValueError, h, h.grow_up_to, i, size, size + 1)

    def _size_past_the_end(self, data):
        L = self.L
        i = data.draw(st.integers(0, L - 1), label="index")
        size = data.draw(
            st.one_of(st.integers(L - i + 1, L - i + 100), st.sampled_from((1 << 16, 1 << 40))),
            label="size",
        )
        h = self.heap
        rejects(ValueError, h, h.deallocate_blocks, i, size)
        rejects(ValueError, h, h.shrink_in_place, i, size, 1)
        rejects(ValueError, h, h.grow_in_place, i, size, size + 1)
        rejects(ValueError, h, h.grow_up_to, i, size, size + 1)

    def _size_not_positive(self, data):
        size = data.draw(st.sampled_from((0, -1, -2, -100, -(1 << 40))), label="size")
        h = self.heap
        rejects(ValueError, h, h.allocate_blocks, size)
        rejects(ValueError, h, h.allocate_blocks, size, 4)
        i = data.draw(st.integers(0, self.L - 1), label="index")
        rejects(ValueError, h, h.deallocate_blocks, i, size)
        if self.live:
            i, n, _, _ = self.live[self._pick(data)]
            rejects(ValueError, h, h.deallocate_blocks, i, size)
            rejects(ValueError, h, h.shrink_in_place, i, n, size)
            rejects(ValueError, h, h.shrink_in_place, i, n, n)  # not smaller
            rejects(ValueError, h, h.grow_in_place, i, n, n)  # not larger
            rejects(ValueError, h, h.grow_up_to, i, n, max(size, 1))
            rejects(ValueError, h, h.grow_up_to, i, n, size)

    def _bad_align(self, data):
        align = data.draw(st.sampled_from(BAD_ALIGNS), label="align")
        size = data.draw(self._sizes(self.L + 2), label="size")
        rejects(ValueError, self.heap, self.heap.allocate_blocks, size, align)

    def _float_sizes(self, data):
        x = data.draw(st.sampled_from((0.0, 1.0, 2.0, 2.5, -1.0, float("inf"))), label="x")
        h = self.heap
        rejects(TypeError, h, h.allocate_blocks, x)
        rejects(TypeError, h, h.allocate_blocks, 1, x)
        i = data.draw(st.integers(0, self.L - 1), label="index")
        rejects(TypeError, h, h.deallocate_blocks, i, x)
        rejects(TypeError, h, h.deallocate_blocks, float(i), 1)
        if self.live:
            i, n, _, _ = self.live[self._pick(data)]
            rejects(TypeError, h, h.deallocate_blocks, i, float(n))
            rejects(TypeError, h, h.deallocate_blocks, float(i), n)
            rejects(TypeError, h, h.shrink_in_place, i, n, x)
            rejects(TypeError, h, h.shrink_in_place, i, float(n), 1)
            rejects(TypeError, h, h.grow_in_place, i, n, x + n + 1)
            rejects(TypeError, h, h.grow_up_to, i, n, x + n + 1)
            rejects(TypeError, h, h.grow_up_to, float(i), n, n + 1)

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def agrees_with_model(self):
        assert_agrees(self.heap, self.model)
        s = self.heap.stats()
        pad = max(self.B - 16, 0)  # the region starts on a multiple of B (64-bit CPython)
        assert (s.blocks, s.block_size, s.footprint) == (
            self.L,
            self.B,
            self.L * self.B + 12 + pad,
        )
        assert s.peak_used >= s.used
        assert s.peak_used == self.peak, "peak %d, expected %d" % (s.peak_used, self.peak)
        assert s.failed == self.failures, "failed %d, saw %d" % (s.failed, self.failures)
        assert s.live_views == 0

    @invariant()
    def allocations_are_disjoint_in_bounds_and_aligned(self):
        end = 0
        for i, size, align, tag in sorted(self.live):
            assert i >= end, "allocations overlap at block %d" % i
            assert 0 <= i and i + size <= self.L
            assert i % align == 0, "block %d not aligned to %d" % (i, align)
            assert self.model.owner[i : i + size] == [tag] * size
            end = i + size
        assert self.model.used() == sum(a[1] for a in self.live)


# -- byte API ----------------------------------------------------------------------------


class Live:
    """One live view and what the machine knows about it."""

    def __init__(self, view, nbytes, align, index, seed):
        self.view = view
        self.nbytes = nbytes
        self.align = align
        self.index = index
        self.seed = seed
        self.data = pattern(seed, nbytes)
        view[:] = self.data

    def __repr__(self):
        return "Live(nbytes=%d, align=%d, index=%d)" % (self.nbytes, self.align, self.index)


class ByteHeapMachine(RuleBasedStateMachine):
    """alloc/free/realloc/clear and rejected frees, against BlockModel and fill patterns."""

    def __init__(self):
        super().__init__()
        self.live = []  # Live per view handed out and not freed
        self.dead = []  # views freed, replaced by realloc, or cleared (newest last)

    @initialize(L=st.integers(1, 64), B=st.sampled_from((4, 8, 16)))
    def make_heap(self, L, B):
        self.L = L
        self.B = B
        self.heap = Stalloc(L, B)
        self.model = BlockModel(L)
        self.failures = 0
        self.peak = 0
        self.seeds = 0

    # -- helpers -------------------------------------------------------------------------

    def _seed(self):
        self.seeds += 1
        return self.seeds

    def _blocks(self, nbytes):
        return ceil_div(nbytes, self.B)

    def _offset(self, view):
        return addressof(view) - self.heap._base

    def _bias(self):
        # The heap's first block's index in memory: the byte API aligns addresses.
        return addressof(self.heap.memory) // self.B

    def _index(self, view):
        return self._offset(view) >> self.heap._shift

    def _nbytes(self):
        # Mostly small, so that the heap fills up and fragments; sometimes anything.
        top = self.L * self.B + self.B
        return st.one_of(
            st.integers(1, 2 * self.B),
            st.integers(1, max(1, top // 4)),
            st.integers(1, top),
        )

    def _pick(self, data):
        return data.draw(st.sampled_from(range(len(self.live))), label="live[k]")

    def _bury(self, view):
        assert is_released(view), "a dead view is still usable"
        self.dead.append(view)
        del self.dead[:-16]

    def _note_use(self):
        self.peak = max(self.peak, self.model.used())

    # -- operations ----------------------------------------------------------------------

    @rule(data=st.data(), align=aligns(BYTE_ALIGNS))
    def alloc(self, data, align):
        self._alloc(data.draw(self._nbytes(), label="nbytes"), align)

    @rule(nbytes=st.integers(1, 24))
    def alloc_small(self, nbytes):
        # A second allocating rule: allocations outnumber frees, so the heap fills up.
        self._alloc(nbytes, 1)

    def _alloc(self, nbytes, align):
        n = self._blocks(nbytes)
        want = self.model.first_fit(n, ceil_div(align, self.B), self._bias())
        h = self.heap
        event("alloc: " + ("AllocError" if want < 0 else "fits"))
        if want < 0:
            fails_cleanly(h, h.alloc, nbytes, align)
            self.failures += 1
            return
        view = h.alloc(nbytes, align) if align > 1 else h.alloc(nbytes)
        i = self._index(view)
        assert i == want, "alloc(%d, %d) at block %d, first fit is %d" % (nbytes, align, i, want)
        assert len(view) == nbytes
        seed = self._seed()
        self.model.take(i, n, seed)
        self.live.append(Live(view, nbytes, align, i, seed))
        self._note_use()

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def free(self, data):
        a = self.live.pop(self._pick(data))
        self.heap.free(a.view)
        self.model.give(a.index, self._blocks(a.nbytes))
        self._bury(a.view)

    @precondition(lambda self: self.live)
    @rule(data=st.data(), align=aligns(BYTE_ALIGNS))
    def realloc(self, data, align):
        k = self._pick(data)
        a = self.live[k]
        nbytes = data.draw(self._nbytes(), label="nbytes")
        old = self._blocks(a.nbytes)
        new = min(self._blocks(nbytes), self.L + 1)
        ablocks = ceil_div(align, self.B)
        i = a.index
        h = self.heap
        stays = (i + self._bias()) % ablocks == 0 and (
            new <= old or self.model.room_behind(i, old) >= new - old
        )
        want = i if stays else self.model.first_fit(new, ablocks, self._bias())
        event("realloc: " + ("in place" if stays else "moves" if want >= 0 else "AllocError"))
        if want < 0:
            fails_cleanly(h, h.realloc, a.view, nbytes, align)
            self.failures += 1
            return  # the old view is still live: the invariant checks it
        view = h.realloc(a.view, nbytes, align)
        got = self._index(view)
        assert got == want, "realloc of %r to (%d, %d) went to block %d, expected %d" % (
            a,
            nbytes,
            align,
            got,
            want,
        )
        assert len(view) == nbytes
        keep = min(a.nbytes, nbytes)
        assert bytes(view)[:keep] == a.data[:keep], "realloc lost the contents"
        seed = self._seed()
        if stays:
            self.model.give(i, old)
            self.model.take(i, new, seed)
        else:
            # A move holds both allocations for a moment: that counts for the peak.
            self.model.take(want, new, seed)
            self._note_use()
            self.model.give(i, old)
        assert view is not a.view
        self._bury(a.view)
        self.live[k] = Live(view, nbytes, align, want, seed)
        self._note_use()

    @rule(really=RARELY)
    def clear(self, really):
        if not really:
            return
        event("clear")
        self.heap.clear()
        for a in self.live:
            self.model.give(a.index, self._blocks(a.nbytes))
            self._bury(a.view)
        self.live = []

    # -- rejected calls: ValueError / TypeError, not one byte changed ------------------------

    @rule(data=st.data())
    def bad_call(self, data):
        kinds = ["foreign_view", "bad_arguments"]
        if self.live:
            kinds.append("reslice")
        if self.dead:
            kinds.append("dead_view")
        getattr(self, "_" + data.draw(st.sampled_from(kinds), label="kind"))(data)

    def _foreign_view(self, data):
        nbytes = data.draw(st.integers(1, 64), label="nbytes")
        kind = data.draw(st.sampled_from(("bytearray", "System", "Stalloc")), label="owner")
        if kind == "bytearray":
            view = memoryview(bytearray(nbytes))
        elif kind == "System":
            view = System().alloc(nbytes)
        else:
            # Another heap of the same geometry: the same block index as our views.
            view = Stalloc(self.L, self.B).alloc(min(nbytes, self.L * self.B))
        h = self.heap
        rejects(ValueError, h, h.free, view)
        rejects(ValueError, h, h.realloc, view, nbytes)
        assert not h.owns(view)

    def _reslice(self, data):
        a = self.live[self._pick(data)]
        copy = a.view[0 : len(a.view)]
        h = self.heap
        rejects(ValueError, h, h.free, copy)
        rejects(ValueError, h, h.realloc, copy, 1)
        rejects(ValueError, h, h.free, a.view[:])
        assert not h.owns(copy)
        assert h.owns(a.view)

    def _dead_view(self, data):
        # By position: a released memoryview cannot even be hashed.
        view = self.dead[data.draw(st.integers(0, len(self.dead) - 1), label="dead[k]")]
        h = self.heap
        rejects(ValueError, h, h.free, view)
        rejects(ValueError, h, h.realloc, view, 1)
        assert not h.owns(view)

    def _bad_arguments(self, data):
        nbytes = data.draw(
            st.sampled_from((0, -1, -(1 << 40), 1.0, 2.5, "8", None)), label="nbytes"
        )
        align = data.draw(st.sampled_from(BAD_ALIGNS + (2.0,)), label="align")
        bad_size = ValueError if isinstance(nbytes, int) else TypeError
        bad_align = ValueError if isinstance(align, int) else TypeError
        h = self.heap
        rejects(bad_size, h, h.alloc, nbytes)
        rejects(bad_align, h, h.alloc, 1, align)
        if self.live:
            a = self.live[self._pick(data)]
            rejects(bad_size, h, h.realloc, a.view, nbytes)
            rejects(bad_align, h, h.realloc, a.view, 1, align)

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def views_hold_their_contents_and_place(self):
        h = self.heap
        assert_agrees(h, self.model)  # includes h.check()
        for a in self.live:
            view = a.view
            assert len(view) == a.nbytes
            assert bytes(view) == a.data, "the contents of %r changed" % a
            off = self._offset(view)
            assert self._index(view) == a.index
            assert off == a.index * self.B
            # The byte API aligns addresses (the region starts on a multiple of B).
            assert addressof(view) % a.align == 0, "%r at offset %d" % (a, off)
            assert addressof(h.memory) % self.B == 0
            assert h.owns(view)
            n = self._blocks(a.nbytes)
            assert self.model.owner[a.index : a.index + n] == [a.seed] * n
        s = h.stats()
        assert s.used == sum(self._blocks(a.nbytes) for a in self.live)
        assert s.live_views == len(self.live)
        assert s.peak_used >= s.used
        assert s.peak_used == self.peak
        assert s.failed == self.failures
        for view in self.dead:
            assert not h.owns(view)


# Budgeted for a slow 2-core machine: the whole file in well under 40 seconds.
# About 100 steps per run: enough to fill and fragment the largest heaps.
IntegerHeapMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=100, deadline=None
)
ByteHeapMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=100, deadline=None
)

TestIntegerHeap = IntegerHeapMachine.TestCase
TestByteHeap = ByteHeapMachine.TestCase
