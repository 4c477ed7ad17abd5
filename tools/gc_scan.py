# What a Stalloc's bytearray costs every collection on MicroPython (docs/micropython.md):
# the collector reads every word of every live block as a possible heap address, a
# bytearray's bytes included (py/gc.c, gc_mark_subtree). Prints whether an address held in
# a Stalloc's bytes keeps a dropped object alive, then gc.collect() times at the same live
# data with each extra below (medians; +us and us/KiB against "none").
#
#   MICROPYPATH=lib micropython -X heapsize=256k tools/gc_scan.py [ROUNDS]
#
# 32-bit, on the WebAssembly port, whose gc.collect() only asks for a collection at the end
# of the current top-level call: write the same run as steps, then run them:
#   MICROPYPATH=lib micropython tools/gc_scan.py --steps gc_scan.json [ROUNDS]
#   node tools/wasm/upy.mjs --heap 262144 --path lib --copy lib --path tools \
#       --copy tools/gc_scan.py --steps gc_scan.json
import gc
import struct
import sys
import time

from stalloc import Stalloc

W = 8 if sys.maxsize > 1 << 32 else 4  # bytes a word (id() is an address on MicroPython)
FMT = "<Q" if W == 8 else "<I"
N = 31  # collections a round and configuration (the median is taken)
LIVE = [bytearray(8) for _ in range(256)]  # the live data every configuration shares
try:
    from js import performance  # WebAssembly: ticks_us() counts milliseconds there
except ImportError:
    performance = None


def addresses(h):  # every word of the Stalloc: the address of a live object
    for i in range(len(h.memory) // W):
        struct.pack_into(FMT, h.memory, i * W, id(LIVE[i % len(LIVE)]))
    return h


CONFIGS = (
    ("none", lambda: None),
    ("Stalloc(4096, 16), zeros", lambda: Stalloc(4096, 16)),
    ("Stalloc(4096, 16), addresses", lambda: addresses(Stalloc(4096, 16))),
    ("bytearray(65536)", lambda: bytearray(65536)),
    ("lists [i] (other live data)", lambda: [[i] for i in range(8192 // W)]),
)
got = [[] for _ in CONFIGS]  # per configuration: (KiB, median us) each round
_x, _t, _ts, _idle = [None], [0, 0], [], []  # extra data; start, bytes; times; steps' cost
_h, _f = Stalloc(64, 16), [0, 0, 0]  # the retention example's, and gc.mem_free() readings


def med(xs):
    return sorted(xs)[len(xs) // 2] if xs else 0


def tick(into=None):  # start a time, or end it into a list
    t = int(performance.now() * 1000) if performance else time.ticks_us()
    if into is None:
        _t[0] = t
    else:
        into.append((t - _t[0]) & 0x3FFFFFFF)  # ticks_us() wraps at 2**30


def setup(i):
    _ts[:], _idle[:], _t[1] = (), (), gc.mem_alloc()
    _x[0] = CONFIGS[i][1]()


def done(i):
    got[i].append(((gc.mem_alloc() - _t[1]) / 1024, med(_ts) - med(_idle)))


def table(rounds):
    heap = "%d KiB" % ((gc.mem_free() + gc.mem_alloc()) // 1024) if W == 8 else "growing"
    print(
        "gc_scan: %s %d-bit, heap %s, median of %d rounds x %d collections"
        % (sys.implementation.name, W * 8, heap, rounds, N)
    )
    print("%-30s %6s %8s %7s %7s" % ("extra live data", "KiB", "collect", "+us", "us/KiB"))
    base, base_kib = med([us for _, us in got[0]]), med([k for k, _ in got[0]])
    for i, (name, _) in enumerate(CONFIGS):
        rows = got[i]
        kib, us = med([k for k, _ in rows]) - base_kib, med([us for _, us in rows])
        per = "%7.2f" % ((us - base) / kib) if kib > 1 else "%7s" % "-"
        print("%-30s %6.1f %6dus %7d %s" % (name, kib, us, us - base, per))


def retain(k):  # 0: drop two 4 KiB objects, one's address in the Stalloc; 1: zero it
    _f[k] = gc.mem_free()
    if k == 0:
        struct.pack_into(FMT, _h.memory, 0, id([bytearray(4096)]))
        [bytearray(4096)]  # the control: its address is nowhere
    elif k == 1:
        struct.pack_into(FMT, _h.memory, 0, 0)
    else:
        held, freed, left = _f[0] - _f[1], _f[2] - _f[1], _f[0] - _f[2]
        print("retention: held %d B, freed when zeroed %d B, left %d B" % (held, freed, left))
    gc.collect()


def steps(rounds):  # the run as top-level calls; a collection runs at the end of each
    yield from ("gc.collect()", "retain(0)", "retain(1)", "retain(2)")
    for _ in range(rounds):
        for i in range(len(CONFIGS)):
            yield from ("_x[0] = None; gc.collect()", "setup(%d)" % i)
            yield from ("tick()", "tick(_idle)") * N  # a step's own cost, then with a collection
            yield from ("tick(); gc.collect()", "tick(_ts)") * N
            yield "done(%d)" % i
    yield "table(%d)" % rounds


if __name__ == "__main__":
    args = sys.argv[1:]
    rounds = int(args[-1]) if args and args[-1].isdigit() else 5
    if args[:1] == ["--steps"]:  # the module's names, its _ones too, for the steps
        with open(args[1], "w") as f:
            f.write('["import gc_scan; globals().update(gc_scan.__dict__); gc.collect()"')
            f.write("".join(', "%s"' % step for step in steps(rounds)) + "]")
    else:  # the same steps here, each collection at once
        for step in steps(rounds):
            exec(step, globals())
