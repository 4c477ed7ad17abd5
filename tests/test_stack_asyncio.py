# Second stacks and asyncio tasks, with asyncio itself (CPython, and MicroPython's, frozen
# into the unix port): a `with` frame held across an await on a shared stack is refused
# the moment another task opens one above it, with the fix in the message; TaskStacks
# gives each task holding frames a stack of its own, from one budget fixed up front.

import stalloc
from stalloc import AllocError, Stack, Stalloc, TaskStacks

from _util import IS_MPY, SkipTest, fails_locked, raises


def _asyncio():
    # asyncio.run(), or SkipTest: the WebAssembly port's asyncio runs its tasks on the
    # JavaScript event loop, after the call that made them has returned (the same
    # interleaving, stepped by hand, is in test_faults_stack.py).
    try:
        import asyncio
    except ImportError:
        raise SkipTest("this port has no asyncio") from None
    if not hasattr(asyncio, "run"):
        raise SkipTest("this port's asyncio runs tasks only after the call returns")
    return asyncio


def _hold(asyncio, stack, n, awaits, log):
    # A task: a frame of n bytes held across `awaits` awaits, its bytes checked after.
    async def task():
        try:
            with stack.frame(n) as v:
                v[0] = n
                for _ in range(awaits):
                    await asyncio.sleep(0)
                assert v[0] == n
            log.append(n)
        except RuntimeError as e:
            log.append(str(e))

    return task()


def test_a_frame_held_across_await_on_a_shared_stack_is_refused_at_once():
    asyncio = _asyncio()
    st = Stack(256)
    log = []

    async def main():
        # a opens and awaits; b's frame would go above a's and end after it: refused
        # when b opens it, before anything is written; a then ends as usual.
        await asyncio.gather(_hold(asyncio, st, 16, 1, log), _hold(asyncio, st, 32, 2, log))

    asyncio.run(main())
    assert len(log) == 2 and log[1] == 16, log
    assert "TaskStacks" in log[0] and "await" in log[0], log[0]  # names the fix
    assert st.depth == 0 and st._top == 0
    with st.frame(64) as v:
        assert len(v) == 64


def test_the_module_functions_refuse_it_too_and_closure_frames_pass():
    asyncio = _asyncio()
    stalloc.set_default_stack(None)
    log = []

    def fill(view):
        view[0] = 7
        return view[0]

    async def holder():
        with stalloc.frame(64) as v:
            v[0] = 1
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            assert v[0] == 1
        log.append("held")

    async def other():
        # A closure form ends before any other task runs: allowed above a held frame.
        log.append(stalloc.uninit(32, fill))
        log.append(stalloc.alloca(16, fill))
        log.append(stalloc.alloca_zeroed(16, fill))
        log.append(stalloc.stackalloc(4, 7, lambda items: items[3]))
        log.append(stalloc.stackalloc_with_iter(range(5), len))
        try:
            with stalloc.frame(8):
                log.append("not refused")
        except RuntimeError as e:
            log.append("TaskStacks" in str(e))

    async def main():
        await asyncio.gather(holder(), other())

    asyncio.run(main())
    assert log == [7, 7, 7, 7, 5, True, "held"], log
    assert stalloc.default_stack().depth == 0


def test_task_stacks_give_each_task_its_own_within_the_budget():
    asyncio = _asyncio()
    pool = TaskStacks(4, 128)
    held = pool.held
    assert held == 4 * 128
    stalloc.set_default_stack(pool)
    try:
        log = []

        async def worker(k):
            # Nested frames and closure forms across awaits, each task's bytes its own.
            for _ in range(3):
                with stalloc.frame(48) as a:
                    a[0] = k
                    await asyncio.sleep(0)
                    with stalloc.frame(32) as b:
                        b[0] = k + 100
                        await asyncio.sleep(0)
                        assert stalloc.uninit(16, len) == 16
                        assert (a[0], b[0]) == (k, k + 100)
                    await asyncio.sleep(0)
                    assert a[0] == k
            log.append(k)

        async def main():
            await asyncio.gather(*[worker(k) for k in range(4)])

        asyncio.run(main())
        assert sorted(log) == [0, 1, 2, 3]
        assert pool.held == held  # nothing grew: the budget is what was made
        assert [st.depth for st in pool.stacks] == [0, 0, 0, 0]
        assert sum(st._chunk_allocs for st in pool.stacks) == 4  # one chunk each, ever
    finally:
        stalloc.set_default_stack(None)


def test_more_tasks_holding_frames_than_stacks_is_an_alloc_error():
    asyncio = _asyncio()
    pool = TaskStacks(2, 64)
    log = []

    async def worker(k):
        try:
            with pool.frame(16) as v:
                v[0] = k
                await asyncio.sleep(0)
                assert v[0] == k
            log.append(k)
        except AllocError as e:
            log.append(("refused", "TaskStacks(count)" in str(e)))

    async def main():
        await asyncio.gather(worker(0), worker(1), worker(2))
        # Once the first two have ended, a third task gets a stack again.
        await asyncio.gather(worker(3))

    asyncio.run(main())
    assert log == [("refused", True), 0, 1, 3], log
    assert [st.depth for st in pool.stacks] == [0, 0]


def test_closure_forms_run_when_every_task_stack_is_held():
    # Their frame ends before any other task runs: any stack will do, held or not.
    asyncio = _asyncio()
    pool = TaskStacks(2, 64, 256)  # room above a held frame (object slots count too)
    stalloc.set_default_stack(pool)
    log = []

    async def holder(k):
        with stalloc.frame(16) as v:
            v[0] = k
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            assert v[0] == k

    async def other():
        log.append(stalloc.uninit(8, len))
        log.append(stalloc.alloca_zeroed(8, lambda v: v[7]))
        log.append(stalloc.stackalloc_uninit(3, len))
        try:
            with stalloc.frame(8):
                log.append("a third frame held")
        except AllocError:
            log.append("refused")

    async def main():
        await asyncio.gather(holder(1), holder(2), other())

    try:
        asyncio.run(main())
    finally:
        stalloc.set_default_stack(None)
    assert log == [8, 0, 3, "refused"], log
    assert [st.depth for st in pool.stacks] == [0, 0]


def test_warm_task_frames_allocate_nothing():
    asyncio = _asyncio()
    if not IS_MPY:
        raise SkipTest("heap_lock() is MicroPython's")
    import micropython

    pool = TaskStacks(3, 128)
    stalloc.set_default_stack(pool)
    try:
        failed = []

        async def worker(k):
            box = [None, None]

            def enter():  # frame() and entering it, with the heap locked
                box[0] = stalloc.frame(64)
                box[1] = box[0].__enter__()

            def leave():
                box[0].__exit__(None, None, None)

            for r in range(5):
                if r < 2:  # the first rounds warm each task's stack up
                    enter()
                elif fails_locked(micropython, enter):
                    failed.append(("enter", k, r))
                    continue
                v = box[1]
                v[0] = k
                await asyncio.sleep_ms(0)
                assert v[0] == k
                if r < 2:
                    leave()
                elif fails_locked(micropython, leave):
                    failed.append(("leave", k, r))

        async def main():
            await asyncio.gather(*[worker(k) for k in range(3)])

        asyncio.run(main())
        assert failed == [], failed
        assert [st.depth for st in pool.stacks] == [0, 0, 0]
        # heap_lock() cannot see a call frame the GC heap lends (the VM then uses the C
        # stack): count every allocation where the port can, with the native code.
        if hasattr(micropython, "mem_total") and stalloc.stack.ACCELERATED:
            for _ in range(2):
                before = micropython.mem_total()
                with stalloc.frame(64) as v:
                    v[0] = 1
                grew = micropython.mem_total() - before
            assert grew == 0, "%d bytes for a warm frame" % grew
    finally:
        stalloc.set_default_stack(None)


def test_outside_any_task_the_pool_serves_plain_code():
    # No asyncio needed: every runtime, the WebAssembly port included.
    pool = TaskStacks(2, 64)
    stalloc.set_default_stack(pool)
    try:
        st = stalloc.default_stack()
        assert st in pool.stacks
        with stalloc.frame(32) as v:
            v[0] = 5
            assert st.depth == 1
            with stalloc.frame(16):
                assert st.depth == 2  # the same stack: code outside tasks is one "task"
        assert stalloc.uninit(8, len) == 8
        assert pool.stack() is st
    finally:
        stalloc.set_default_stack(None)


def test_bad_arguments_are_refused_and_change_nothing():
    for args, exc in (
        ((0, 64), ValueError),
        ((-1, 64), ValueError),
        ((2, -1), ValueError),
        (("2", 64), TypeError),
        ((2, 64, 32), ValueError),  # max_capacity below capacity
    ):
        assert raises(exc, TaskStacks, *args), args
    heap = Stalloc(16, 16, 0)  # 256 bytes: room for four 64-byte stacks, not five
    before = heap.stats()
    assert raises(AllocError, TaskStacks, 5, 64, None, heap)
    assert heap.is_empty() and heap.stats().failed == before.failed + 1
    pool = TaskStacks(2, 32, None, heap)
    assert not heap.is_empty()
    for st in pool.stacks:
        st.trim()
    assert heap.is_empty()
    assert raises(TypeError, stalloc.set_default_stack, "a stack")
