# The stackalloc family (_alloca.py): the crate's semantics on the thread's second stack,
# with values dropped at scope end also on exceptions (where the crate leaked, SA4).

from stalloc import (
    alloca,
    alloca_zeroed,
    default_stack,
    stackalloc,
    stackalloc_uninit,
    stackalloc_with,
    stackalloc_with_iter,
)

from _util import raises


def test_alloca_with_buffer():
    # The crate's `with_alloca`: write and sum 128 bytes.
    def body(buf):
        for k in range(128):
            buf[k] = k
        return sum(buf)

    assert alloca(128, body) == sum(range(128))


def test_alloca_zeroed_is_zero_even_after_dirty_frames():
    def dirty(buf):
        buf[0:1000] = b"\xff" * 1000

    alloca(1000, dirty)
    assert alloca_zeroed(1000, lambda buf: bytes(buf)) == bytes(1000)
    assert alloca_zeroed(0, len) == 0


def test_stackalloc_fills_with_a_value():
    # The crate's README: stackalloc(5, "str", ...) gives ["str"; 5].
    assert stackalloc(5, "str", lambda s: s[:]) == ["str"] * 5
    assert stackalloc(4, 2.5, lambda s: s.tolist(), "d") == [2.5] * 4


def test_stackalloc_with_calls_the_factory_each_time():
    made = []

    def factory():
        made.append(1)
        return ["string"] * 10

    assert stackalloc_with(5, factory, lambda s: s[0][0]) == "string"
    assert len(made) == 5
    assert stackalloc_with(3, lambda: 7, lambda s: list(s), "i") == [7, 7, 7]


def test_stackalloc_uninit_and_with_iter():
    assert stackalloc_uninit(3, lambda s: s[:]) == [None, None, None]
    assert stackalloc_uninit(6, len, "f") == 6

    def count_from(n):  # the crate's unknown_size_iter: an endless iterator, capped
        while True:
            yield n
            n += 1

    assert stackalloc_with_iter(count_from(10), lambda s: s[:], limit=10) == list(range(10, 20))
    assert stackalloc_with_iter(range(3), lambda s: s[:], limit=10) == [0, 1, 2]  # fewer
    assert stackalloc_with_iter(range(5), lambda s: s.tolist(), "h") == [0, 1, 2, 3, 4]
    assert stackalloc_with_iter(count_from(0), len, limit=0) == 0


def test_values_are_dropped_when_the_callback_raises():
    stack = default_stack()
    token = ["held by the frame"]

    def boom(items):
        raise KeyError("callback failed")

    raises(KeyError, stackalloc, 10, token, boom)
    raises(KeyError, stackalloc_with, 3, lambda: token, boom)
    raises(KeyError, stackalloc_with_iter, [token, token], boom)
    for s in stack._slots:
        assert s is not token  # the crate leaked these (SA4)
    assert stack.depth == 0


def test_bad_counts():
    raises(ValueError, alloca, -1, len)
    raises(TypeError, alloca, 1.5, len)
    raises(ValueError, stackalloc, -3, 0, len)
    raises(ValueError, stackalloc_with_iter, range(3), len, None, -1)
    raises(ValueError, stackalloc, 3, 0, len, "z")
