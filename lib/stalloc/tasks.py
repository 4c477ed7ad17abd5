"""Second stacks for asyncio tasks: each task holding frames has a stack of its own.

Tasks of one thread share its default stack, and a `with` frame held across an await
by two of them cannot end in LIFO order (stack.py refuses the second one at once). A
TaskStacks is a fixed set of stacks, made at construction from one budget: a task
gets one when it opens a frame and keeps it while its frames are open, so up to
`count` tasks hold frames across awaits at the same time. Installed as the thread's
default (set_default_stack), it is what the module functions (frame, uninit, alloca,
...) use: inside a task, that task's stack; outside any task, one of them like a task.

The stacks are chosen by a scan (no dict, no allocation): cost O(count) per call.
"""

from ._base import AllocError
from ._check import check_count
from .stack import Stack, _task


class TaskStacks:
    """`count` stacks of `capacity` bytes, for up to `count` asyncio tasks holding frames.

    The budget is fixed now: count * capacity bytes of chunks (from `allocator`, e.g. a
    Stalloc, or the GC heap), never more (max_capacity None: the stacks do not grow;
    larger: each grows up to it, from the allocator, and count * max_capacity bounds it).
    A `with` frame opened by a task when all stacks hold frames of other tasks raises
    AllocError (nothing changes); a closure form then runs on any of them (its frame ends
    before another task runs). ValueError / TypeError for bad arguments. Warm, allocates
    nothing (with the native code; see docs/api.md, asyncio). One TaskStacks serves the
    tasks of one thread (one event loop).
    """

    _pool = True  # for set_default_stack()

    def __init__(self, count, capacity, max_capacity=None, allocator=None):
        check_count(count, "count", 1)
        check_count(capacity, "capacity")
        if max_capacity is None:
            max_capacity = capacity
        stacks = [None] * count  # containers first: a stack made is never dropped
        tasks = [None] * count  # the task each stack serves (None: no task)
        i = 0
        try:
            while i < count:
                stacks[i] = Stack(capacity, max_capacity, allocator)
                i += 1
            self.stacks = tuple(stacks)
            self._tasks = tasks
        except BaseException:
            for st in stacks:
                if st is not None:
                    try:
                        st._drop_current()  # the allocator gets its chunk back
                    except MemoryError:  # (CPython locating it): the allocator keeps it
                        pass
            raise

    def stack(self):
        """The current asyncio task's stack (outside any task, the one for no task).

        The task's stack while it holds frames; otherwise any stack with no frame open,
        now the task's. AllocError when every stack holds frames of other tasks.
        """
        return self._pick(False)

    def _pick(self, anyone):
        # anyone: for a closure form, whose frame ends before any other task runs, any
        # stack will do when none is free. (Few locals: a bytecode frame over 11 words
        # comes from the GC heap on every call.)
        t = _task()
        tasks = self._tasks
        stacks = self.stacks
        free = -1
        i = len(stacks)
        while i:
            i -= 1
            if stacks[i].depth:
                if tasks[i] is t:
                    return stacks[i]
            else:
                tasks[i] = None  # idle: a finished task is not kept alive by it
                free = i
        if free < 0:
            return self._full(anyone)
        tasks[free] = t
        return stacks[free]

    def _full(self, anyone):
        if anyone:
            return self.stacks[0]
        raise AllocError(
            "TaskStacks: all %d stacks hold frames of other tasks (more tasks hold"
            " frames at once than TaskStacks(count) allows)" % len(self.stacks)
        )

    def _scratch(self):
        return self._pick(True)

    # The Stack methods the module functions use, on the current task's stack (the
    # closure forms on any stack when every one holds frames of other tasks).

    def frame(self, n, typecode=None):
        """Stack.frame on the current task's stack."""
        return self.stack().frame(n, typecode)

    def buffered(self, iterable, typecode=None):
        """Stack.buffered on the current task's stack."""
        return self.stack().buffered(iterable, typecode)

    def vec(self, typecode=None):
        """Stack.vec on the current task's stack."""
        return self.stack().vec(typecode)

    def buffer(self, iterable, fn, typecode=None):
        """Stack.buffer on the current task's stack."""
        return self._pick(True).buffer(iterable, fn, typecode)

    def uninit(self, nbytes, fn):
        """Stack.uninit on the current task's stack."""
        return self._pick(True).uninit(nbytes, fn)

    def uninit_slice(self, n, fn, typecode="B"):
        """Stack.uninit_slice on the current task's stack."""
        return self._pick(True).uninit_slice(n, fn, typecode)

    def with_stack_vec(self, fn, typecode=None):
        """Stack.with_stack_vec on the current task's stack."""
        return self._pick(True).with_stack_vec(fn, typecode)

    @property
    def held(self):
        """Bytes held by all the stacks (chunks, plus object slots at a word each)."""
        return sum(st.held for st in self.stacks)


_READY = True  # see _base.load()
