# The first use of a lazily loaded feature under fault injection (_faults.py): the
# import runs out of memory at every point in turn. MicroPython leaves a module whose
# import failed in sys.modules, half made; the library must not be broken by it: the
# call raises MemoryError, and the same call works once memory is back.

import sys

from stalloc import Stack, Stalloc

from _faults import Case, forget, heap_state, sweep


def no_half_modules():
    half = [
        name
        for name, m in sys.modules.items()
        if name.startswith("stalloc.") and not hasattr(m, "_READY")
    ]
    assert not half, "modules left half made: %s" % half


class Cold(Case):
    module = None

    def cold(self):
        forget(self.module)

    def make(self):
        h = Stalloc(16, 16, 0)
        v = h.alloc(20)
        return [h, v]

    def state(self, s):
        return heap_state(s[0])

    def check(self, s):
        no_half_modules()

    def done(self, s, r):
        no_half_modules()
        s[0].check()


class Realloc(Cold):
    module = "_slow"

    def op(self, s):
        return s[0].realloc(s[1], 40)


class Stats(Cold):
    module = "diag"

    def op(self, s):
        return s[0].stats()


class Scoped(Cold):
    module = "_scope"

    def op(self, s):
        with s[0].scoped(10):
            pass


class Chain(Cold):
    module = "chain"

    def op(self, s):
        return s[0].chain(s[0])


class Typed(Cold):
    module = "_stackx"

    def make(self):
        return [Stack(256)]

    def state(self, s):
        return (s[0].depth, s[0].held)

    def op(self, s):
        return s[0].uninit_slice(4, len, "h")

    def done(self, s, r):
        no_half_modules()
        assert r == 4 and s[0].depth == 0


def test_a_failed_first_use_recovers():
    for case in (Realloc(), Stats(), Scoped(), Chain(), Typed()):
        sweep(case)
