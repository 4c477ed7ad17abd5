# stalloc.noalloc(fn, *args): it passes a call that allocates nothing (the library's own
# zero-GC paths, a plain function), names where a call allocates (a slice, a float, a
# tuple), lets the call's own exceptions through, and always leaves the heap unlocked.
# MicroPython: the unix ports say which line allocated, the WebAssembly port cannot. CPython
# has no heap to lock: a clear RuntimeError.

import sys

from stalloc import AllocatedError, AllocError, Stack, Stalloc, noalloc

from _util import IS_MPY, SkipTest, raises

WASM = sys.platform == "webassembly"


def _mpy():
    if not IS_MPY:
        raise SkipTest("noalloc() checks MicroPython's GC heap")


def add(a, b):
    return a + b


def takes_a_slice(buf):
    return len(buf[1:3])  # a bytearray slice: a new object


def makes_a_float(x):
    return x * 0.5


def makes_a_tuple(a, b):
    return len((a, b, [a]))


def _message(fn, *args):
    try:
        noalloc(fn, *args)
    except AllocatedError as e:
        return str(e)
    raise AssertionError("noalloc(%s) found nothing" % fn.__name__)


def _unlocked():
    return bytearray(100)  # raises MemoryError if noalloc left the heap locked


def test_a_call_that_allocates_nothing_passes_and_returns_its_result():
    _mpy()
    assert noalloc(add, 2, 3) == 5
    from stalloc import heap as heap_module

    if heap_module.ACCELERATED:  # the pure path's calls borrow frames of the GC heap
        heap = Stalloc(16, 16)

        def pair(n):  # noalloc() calls it three times: it leaves the heap as it found it
            i = heap.allocate_blocks(n)
            heap.deallocate_blocks(i, n)
            return i

        assert noalloc(pair, 2) == 0  # the integer API, as documented
        assert noalloc(Stack(256).uninit, 64, len) == 64  # a warm byte frame
    _unlocked()


def test_an_allocation_is_named_with_its_line():
    _mpy()
    for fn, args in (
        (takes_a_slice, (bytearray(8),)),
        (makes_a_float, (3,)),
        (makes_a_tuple, (1, 2)),
    ):
        text = _message(fn, *args)
        assert text.startswith(fn.__name__ + " allocates"), text
        if WASM:
            assert "keeps no traceback" in text, text
        else:  # the file, a line, and the function the allocation is in
            assert "test_noalloc" in text and "line " in text, text
            assert text.endswith("in " + fn.__name__), text
        _unlocked()


def test_the_calls_own_exceptions_pass_through_with_the_heap_unlocked():
    _mpy()
    heap = Stalloc(4, 16)
    heap.allocate_blocks(4)
    raises(AllocError, noalloc, heap.allocate_blocks, 1)  # its allocator's answer
    _unlocked()
    raises(TypeError, noalloc, add, 1, None)  # the warm-up call raises it, unlocked
    _unlocked()
    raises(TypeError, noalloc, add, 1, 2, 3, 4, 5)  # more arguments than it passes
    _unlocked()


def test_cpython_refuses_to_pretend():
    if IS_MPY:
        raise SkipTest("CPython only")
    raises(RuntimeError, noalloc, add, 1, 2)
