# Frames of one stack held across an await by two asyncio tasks, with asyncio itself
# (CPython, and MicroPython's, frozen into the unix and WebAssembly ports): the first
# task to end its frame is refused (LIFO), and the stack recovers once both have ended.

from stalloc import Stack

from _util import SkipTest


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


def test_frames_held_across_await_recover_when_both_tasks_end():
    asyncio = _asyncio()
    st = Stack(256)
    refused = []

    async def hold(n, awaits):
        try:
            with st.frame(n) as v:
                v[0] = n
                for _ in range(awaits):
                    await asyncio.sleep(0)
        except RuntimeError as e:
            refused.append((n, "asyncio" in str(e)))

    async def main():
        # a opens, then b above it; a resumes first and ends: refused; then b ends.
        await asyncio.gather(hold(16, 1), hold(32, 2))

    asyncio.run(main())
    assert refused == [(16, True)], refused  # the message names the way out
    assert st.depth == 0 and st._top == 0
    with st.frame(64) as v:
        assert len(v) == 64
