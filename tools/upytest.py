# Runs the portable test files under MicroPython: `micropython tools/upytest.py FILE...`
#
# Collects module-level functions named test*, calls each, and prints one closing line:
# "upytest: N passed, N failed, N skipped". Exits 1 when anything failed or nothing ran.
# A test skips itself by raising an exception class named SkipTest (tests/_util.py).
# Options: -k SUBSTRING runs only tests whose name contains it; -v names every test.
# STALLOC_PURE=1 in the environment makes stalloc run its pure-Python code where native
# twins could run (stalloc._base.PURE), the reference path.
# Module search path: the directories of the given files, plus MICROPYPATH as usual.
# Files may be .py or .mpy (tools/deploy.py compiles them for a board).
#
# Each file runs alone: the modules it imported (its own, the helpers, stalloc's) are
# dropped from sys.modules before the next file, so a small board holds one file's code at
# a time and no file depends on what an earlier one imported.

import gc
import sys
import time


def _dirname(path):
    i = path.rfind("/")
    return path[:i] if i > 0 else "."


def _modname(path):
    name = path[path.rfind("/") + 1 :]
    for suffix in (".py", ".mpy"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _pure_requested():
    # STALLOC_PURE=1 runs the pure-Python reference code where native twins could run.
    try:
        from os import getenv
    except ImportError:  # a board or port without an environment
        return False
    return getenv("STALLOC_PURE") not in (None, "", "0")


def run(files, pattern=None, verbose=False):
    passed = failed = skipped = 0
    pure = _pure_requested()
    before = set(sys.modules)
    for path in files:
        mod = fn = None  # the previous file's module and test: nothing may keep them
        for loaded in [k for k in sys.modules if k not in before]:
            del sys.modules[loaded]
        gc.collect()
        if pure:  # before the file imports anything of stalloc's
            __import__("stalloc._base")
            sys.modules["stalloc._base"].PURE = True
        if verbose and hasattr(gc, "mem_free"):
            print("---- %s (%d bytes free)" % (path, gc.mem_free()))
        d = _dirname(path)
        if d not in sys.path:
            sys.path.insert(0, d)
        name = _modname(path)
        try:
            mod = __import__(name)
        except Exception as e:
            print("ERROR importing %s:" % path)
            sys.print_exception(e)
            failed += 1
            continue
        tests = sorted(k for k in dir(mod) if k.startswith("test"))
        for tname in tests:
            fn = getattr(mod, tname)
            if not callable(fn) or (pattern and pattern not in tname):
                continue
            gc.collect()
            t0 = time.ticks_ms()
            try:
                fn()
            except Exception as e:
                if type(e).__name__ == "SkipTest":
                    skipped += 1
                    if verbose:
                        print("SKIP %s::%s (%s)" % (name, tname, e))
                    continue
                failed += 1
                print("FAIL %s::%s" % (name, tname))
                sys.print_exception(e)
                continue
            passed += 1
            if verbose:
                print("ok   %s::%s (%d ms)" % (name, tname, time.ticks_diff(time.ticks_ms(), t0)))
    return passed, failed, skipped


def main(argv):
    pattern = None
    verbose = False
    files = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-k":
            i += 1
            pattern = argv[i]
        elif a == "-v":
            verbose = True
        else:
            files.append(a)
        i += 1
    passed, failed, skipped = run(files, pattern, verbose)
    print("upytest: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
