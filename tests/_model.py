# The block heap's specification as the simplest possible program: one owner per block.
#
# Shared by the seeded model tests (both runtimes) and the hypothesis state machine
# (CPython). Nothing here knows about free lists, headers or coalescing: if the heap and
# this model agree on which blocks are free after every step, the free list is right.


class BlockModel:
    def __init__(self, L):
        self.L = L
        self.owner = [None] * L

    def first_fit(self, size, align, bias=0):
        """Lowest index i with size free blocks where i + bias is a multiple of align (bias:
        the heap's first block's index in memory, for the byte API's address alignment),
        or -1."""
        owner = self.owner
        i = -bias % align
        while i + size <= self.L:
            k = 0
            while k < size and owner[i + k] is None:
                k += 1
            if k == size:
                return i
            i += align
        return -1

    def take(self, i, size, tag):
        for k in range(i, i + size):
            assert self.owner[k] is None, "model: block %d already owned" % k
            self.owner[k] = tag

    def give(self, i, size):
        for k in range(i, i + size):
            assert self.owner[k] is not None, "model: block %d already free" % k
            self.owner[k] = None

    def room_behind(self, i, size):
        """Free blocks directly after [i, i + size)."""
        k = i + size
        while k < self.L and self.owner[k] is None:
            k += 1
        return k - (i + size)

    def any_free(self, i, size):
        for k in range(i, i + size):
            if self.owner[k] is None:
                return True
        return False

    def used(self):
        n = 0
        for o in self.owner:
            if o is not None:
                n += 1
        return n

    def free_runs(self):
        runs = []
        i = 0
        while i < self.L:
            if self.owner[i] is None:
                j = i
                while j < self.L and self.owner[j] is None:
                    j += 1
                runs.append((i, j - i))
                i = j
            else:
                i += 1
        return runs

    def debug_text(self, B):
        text = "Stallocator with %d blocks of %d bytes each" % (self.L, B)
        runs = self.free_runs()
        if not runs:
            return text + "\n\tNo free blocks (OOM)"
        for i, n in runs:
            text += "\n\tindex %d: %d free block%s" % (i, n, "" if n == 1 else "s")
        return text


def assert_agrees(heap, model):
    """The heap and the model agree on everything observable; the heap's invariants hold."""
    heap.check()
    runs = model.free_runs()
    assert heap.free_runs() == runs, "free runs %r, model %r" % (heap.free_runs(), runs)
    s = heap.stats()
    assert s.used == model.used(), "used %d, model %d" % (s.used, model.used())
    assert heap.is_oom() == (not runs), "is_oom %r with free runs %r" % (heap.is_oom(), runs)
    assert heap.is_empty() == (runs == [(0, model.L)]), "is_empty %r, runs %r" % (
        heap.is_empty(),
        runs,
    )
    largest = 0
    for _, n in runs:
        largest = max(largest, n)
    assert s.largest_free_run == largest
    assert s.free_runs == len(runs)
    assert str(heap) == model.debug_text(heap.block_size)
