# The viper kernels against the pure-Python reference: the same random calls, valid and
# invalid, on two heaps of the same shape; results and every byte must agree after each
# call. MicroPython with the native emitter only (viper exists nowhere else).

from stalloc import Stalloc
from stalloc._base import addressof, view_address

from _util import IS_MPY, Rng, SkipTest

# The documented layout (heap.py) and result code: private consts there, folded away on
# MicroPython, so the test names them itself.
TRAILER = 12
T_FAILED = 4
OOM = -1


def _twins():
    if not IS_MPY:
        raise SkipTest("viper kernels exist only on MicroPython")
    from stalloc import heap

    if not heap.ACCELERATED:
        raise SkipTest("no native emitter on this port, or the pure path requested")
    from stalloc import heap_native

    return heap.PURE, heap_native


def _run(pure, viper, seed, steps):
    rng = Rng(seed)
    L = rng.range(1, 80)
    B = 1 << rng.range(2, 5)
    a = Stalloc(L, B)  # driven through the pure kernel methods
    b = Stalloc(L, B)  # driven through the viper kernels, on its bytearray
    assert a._mem == b._mem
    for step in range(steps):
        op = rng.below(8)
        if op < 3:
            size = rng.range(-1, L + 2)
            align = rng.choice((1, 1, 2, 4, 8, 3, 0, 64))
            args = (size, align)
            ra = pure["_k_alloc"](a, *args)
            rb = viper.allocate(b._mem, b._vt, size, align, 0)
        elif op < 7:
            idx = rng.range(-1, L)
            old = rng.range(-1, 6)
            new = rng.range(-1, 8) if rng.below(2) else 0  # 0: a free
            mode = rng.below(3)
            args = (idx, old, new, mode)
            ra = pure["_k_resize"](a, *args)
            rb = viper.resize(b._mem, b._vt, *args)
        else:
            args = ()
            if rng.below(10) == 0:  # clear() is pure Python on both (five u16 writes)
                a.clear()
                b.clear()
            ra = rb = None
        assert ra == rb, "seed %d step %d op %d %r: pure %r, viper %r" % (
            seed,
            step,
            op,
            args,
            ra,
            rb,
        )
        assert a._mem == b._mem, "seed %d step %d op %d %r: heaps differ" % (
            seed,
            step,
            op,
            args,
        )


def test_viper_kernels_match_pure_kernels():
    pure, viper = _twins()
    for seed in range(40):
        _run(pure, viper, seed, 400)


def test_failed_counter_saturates_identically():
    pure, viper = _twins()
    for use_viper in (False, True):
        h = Stalloc(4, 4)
        u = h._w
        u[8 + T_FAILED] = 0xFFFE
        u[8 + T_FAILED + 1] = 0xFFFF
        for _ in range(3):
            r = viper.allocate(h._mem, h._vt, 5, 1, 0) if use_viper else pure["_k_alloc"](h, 5, 1)
            assert r == OOM
        assert (u[12], u[13]) == (0xFFFF, 0xFFFF), use_viper
        u[12] = 0xFFFF
        u[13] = 0x0001
        if use_viper:
            viper.allocate(h._mem, h._vt, 5, 1, 0)
        else:
            pure["_k_alloc"](h, 5, 1)
        assert (u[12], u[13]) == (0, 2)


def test_accelerator_is_in_use_unless_pure_requested():
    # Guards the test command itself: the "micropython" stage must exercise viper.
    if not IS_MPY:
        raise SkipTest("MicroPython only")
    from stalloc import heap

    try:
        exec("import micropython\n@micropython.viper\ndef f():\n    pass\n")
        emitter = True
    except SyntaxError:  # a port without the native emitter (the WebAssembly port)
        emitter = False
    from stalloc import _base, stack, sync

    want = emitter and not _base.PURE
    assert heap.ACCELERATED == want
    # every module with native twins loads them on the same terms (a failed load falls
    # back to the pure code without a word: only this shows it)
    assert (stack._native is not None) == want and (sync._native is not None) == want


def _byte_call(fn, h, *args):
    # The result, or the exception's type: the twins must agree on both.
    try:
        return fn(h, *args)
    except Exception as e:  # the type is what is compared
        return type(e)


def _slots(h):
    # Which block each pooled view is handed out at (0: free), as heap.py keeps them.
    vt = h._vt
    return [vt[4 + 3 * k] for k in range(vt[0])]


def test_native_byte_api_matches_the_pure_methods():
    # alloc/free/owns through the native twins (pooled views in viper, fresh ones past the
    # pool) and through heap.py's own methods, on two heaps: the same results and errors,
    # the same bytes, the same view table and fresh views, every view the same range.
    pure, _ = _twins()
    native = {name: getattr(Stalloc, name) for name in ("alloc", "free", "owns")}
    for seed in range(30):
        rng = Rng(seed)
        L = rng.range(1, 40)
        B = 1 << rng.range(2, 5)
        views = rng.range(0, 4)
        a = Stalloc(L, B, views)
        b = Stalloc(L, B, views)
        # Alignments are of addresses: past 16 bytes (where every runtime puts a heap) the
        # two heaps agree on what fits only if they lie alike.
        big = 1 << 16
        if addressof(a.memory) % big != addressof(b.memory) % big:
            big = 16
        held = []  # (view of a, view of b), live or freed
        for step in range(300):
            op = rng.below(11)
            if op == 10:  # clear() is heap.py's on both: every view retired
                a.clear()
                b.clear()
                ra = rb = None
            elif op < 5:
                nbytes = rng.choice((1, B, 3 * B + 1, L * B, L * B + 1, 0, -3, 1 << 30))
                align = rng.choice((1, 1, 4, 8, B, 3, 0, big))
                ra = _byte_call(pure["alloc"], a, nbytes, align)
                rb = _byte_call(native["alloc"], b, nbytes, align)
                if isinstance(ra, memoryview):
                    held.append((ra, rb))
            elif held:
                k = rng.below(len(held))
                va, vb = held[k]
                if op == 9:  # a copy of a view is never its heap's
                    va, vb = va[:], vb[:]
                name = "owns" if op == 8 else "free"
                ra = _byte_call(pure[name], a, va)
                rb = _byte_call(native[name], b, vb)
            else:
                ra = rb = None
            why = "seed %d step %d op %d" % (seed, step, op)
            if isinstance(ra, memoryview):
                assert isinstance(rb, memoryview) and len(ra) == len(rb), why
            else:
                assert ra == rb, "%s: pure %r, native %r" % (why, ra, rb)
            assert a._mem == b._mem and _slots(a) == _slots(b), why
            assert sorted(a._live) == sorted(b._live), why
            for va, vb in held:
                assert len(va) == len(vb), why
                if len(va):
                    assert view_address(va) - a._base == view_address(vb) - b._base, why
        assert a.stats().views_missed == b.stats().views_missed
