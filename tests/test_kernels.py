# The viper kernels against the pure-Python reference: the same random calls, valid
# and invalid, on two copies of a heap; results and every byte must agree after each
# call. MicroPython only (viper does not exist on CPython).

from stalloc import _kernel as pure
from stalloc._compat import u16_view

from _util import IS_MPY, Rng, SkipTest


def _viper():
    if not IS_MPY:
        raise SkipTest("viper kernels exist only on MicroPython")
    try:
        from stalloc import _viper
    except (ImportError, AttributeError):  # MicroPython: a missing name in `from`
        raise SkipTest("this MicroPython has no native emitter")
    return _viper


def _run(viper, seed, steps):
    rng = Rng(seed)
    L = rng.range(1, 80)
    shift = rng.range(2, 5)
    s1 = shift - 1
    tr = (L << shift) >> 1
    a = bytearray((L << shift) + pure.TRAILER)  # pure kernels, through a u16 view
    b = bytearray(len(a))  # viper kernels, on the bytearray itself
    wa = u16_view(a)
    pure.reset(wa, tr, s1)
    viper.reset(b, tr, s1)
    assert a == b
    for step in range(steps):
        op = rng.below(8)
        if op < 3:
            size = rng.range(-1, L + 2)
            align = rng.choice((1, 1, 2, 4, 8, 3, 0, 64))
            args = (size, align)
            ra = pure.allocate(wa, tr, s1, *args)
            rb = viper.allocate(b, tr, s1, *args)
        elif op < 6:
            idx = rng.range(-1, L)
            size = rng.range(-1, 6)
            lo = idx - rng.below(3) if rng.below(4) == 0 else idx
            args = (lo, idx, size)
            ra = pure.release(wa, tr, s1, *args)
            rb = viper.release(b, tr, s1, *args)
        elif op < 7:
            idx = rng.range(-1, L)
            old = rng.range(0, 5)
            new = old + rng.range(-1, 6)
            mode = rng.below(3)
            args = (idx, old, new, mode)
            ra = pure.grow(wa, tr, s1, *args)
            rb = viper.grow(b, tr, s1, *args)
        else:
            args = ()
            if rng.below(10) == 0:
                pure.reset(wa, tr, s1)
                viper.reset(b, tr, s1)
            ra = rb = None
        assert ra == rb, "seed %d step %d op %d %r: pure %r, viper %r" % (
            seed,
            step,
            op,
            args,
            ra,
            rb,
        )
        assert a == b, "seed %d step %d op %d %r: heaps differ" % (seed, step, op, args)


def test_viper_kernels_match_pure_kernels():
    viper = _viper()
    for seed in range(40):
        _run(viper, seed, 400)


def test_failed_counter_saturates_identically():
    viper = _viper()
    for kernels, mem in ((pure, None), (viper, None)):
        buf = bytearray(4 * 4 + pure.TRAILER)
        w = u16_view(buf) if kernels is pure else buf
        kernels.reset(w, 8, 1)
        u = u16_view(buf)
        u[8 + pure.T_FAILED] = 0xFFFE
        u[8 + pure.T_FAILED + 1] = 0xFFFF
        for _ in range(3):
            assert kernels.allocate(w, 8, 1, 5, 1) == pure.OOM
        assert (u[12], u[13]) == (0xFFFF, 0xFFFF), (kernels, mem)
        u[12] = 0xFFFF
        u[13] = 0x0001
        kernels.allocate(w, 8, 1, 5, 1)
        assert (u[12], u[13]) == (0, 2)


def test_accelerator_is_in_use_unless_pure_requested():
    # Guards the test command itself: the "micropython" stage must exercise viper.
    if not IS_MPY:
        raise SkipTest("MicroPython only")
    from stalloc import heap
    from stalloc._compat import _pure_requested

    try:
        exec("import micropython\n@micropython.viper\ndef f():\n    pass\n")
        emitter = True
    except SyntaxError:  # a port without the native emitter (the WebAssembly port)
        emitter = False
    assert heap.ACCELERATED == (emitter and not _pure_requested())
