# docs/micropython.md's zero-GC recipe (hard IRQ -> micropython.schedule -> main loop,
# readinto() into views made once) runs as the docs show it, and on MicroPython its
# run-time half allocates nothing: the handler, the scheduled callback and the main loop's
# poll each run under micropython.heap_lock(). Also what the docs promise of a locked
# heap: a refusal is a plain MemoryError, not AllocError. Portable: pytest on CPython,
# tools/upytest.py on MicroPython. The recipe is read from the docs (skipped on a board,
# which gets the tests without the repository).

import io

from stalloc import AllocError

from _util import IS_MPY, SkipTest, fails_locked

if IS_MPY:
    import micropython


def _here():
    f = __file__
    cut = max(f.rfind("/"), f.rfind("\\"))
    return f[:cut] if cut >= 0 else "."


def _recipe():
    try:
        with open(_here() + "/../docs/micropython.md") as f:
            text = f.read()
    except OSError:
        raise SkipTest("the docs are not here (a board)")
    start = text.index("```python\n# Zero-GC recipe") + len("```python\n")
    code = text[start : text.index("```", start)]
    scope = {"__name__": "recipe"}
    exec(code, scope)  # runs the example itself, its assert included
    return scope


def _locked(fn):
    # fn() with the GC heap locked on MicroPython (True if it needed the heap); a plain
    # call on CPython
    if IS_MPY:
        return fails_locked(micropython, fn)
    fn()
    return False


def test_recipe_loop_allocates_nothing_once_started():
    g = _recipe()
    rx = g["rx"]
    data = bytes(range(100, 200))
    rx.dev = io.BytesIO(data)  # made before the locked calls, as a board's UART is
    handler = rx.irq_cb
    on_data = rx.on_data_cb
    out = bytearray(8)  # poll() results, low byte; -1 -> 255
    sums = [0, 0]

    def interrupt():
        handler(None)

    def scheduled():
        on_data(0)

    def main_loop():
        for k in range(len(out)):
            t = rx.poll()
            out[k] = t & 0xFF
            if t >= 0:
                sums[0] += t

    assert not _locked(scheduled)  # one read of SIZE bytes into a kept view
    assert not _locked(interrupt)  # queues the next read (CPython: runs it at once)
    for _ in range(3):  # MicroPython runs the queued callback at a jump: here
        pass
    assert not _locked(main_loop)
    assert sums[0] == sum(data) and rx.dropped == 0, (sums, rx.dropped, list(out))
    assert list(out[2:]) == [255] * 6  # two full buffers (64 + 36 bytes), then none


def test_locked_heap_refusals_are_plain_memory_errors():
    # The docs: with the GC heap locked a refusal is the runtime's MemoryError, not
    # AllocError (MicroPython cannot build one); unlocked it is AllocError.
    g = _recipe()
    heap = g["heap"]  # its 4 pooled views are the recipe's kept buffers: the pool is empty
    caught = bytearray(2)

    def past_the_pool():
        try:
            heap.alloc(16)
        except AllocError:
            caught[0] = 1
        except MemoryError:
            caught[0] = 2

    def out_of_blocks():
        try:
            heap.allocate_blocks(1000)
        except AllocError:
            caught[1] = 1
        except MemoryError:
            caught[1] = 2

    if IS_MPY:
        micropython.heap_lock()
        try:
            past_the_pool()
            out_of_blocks()
        finally:
            micropython.heap_unlock()
        assert list(caught) == [2, 2], list(caught)
    out_of_blocks()
    assert caught[1] == 1
