"""`mpremote mip install` from the local package.json onto a fresh virtual board, then use.

The board is tools/vboard.py's: the MicroPython unix port behind a pty, with a LittleFS2
filesystem at "/" that never touches the host tree. `mpremote mip install --target=/lib
./package.json`, run from the repository root, reads package.json and copies every
"urls" source to its destination under /lib; then the board imports the package from
those .py files (compiling them itself, viper and native code included) and runs a smoke
test: a Stalloc, the integer and byte APIs, AllocError, str(heap), check(), and
ACCELERATED is True (the board compiled lib/stalloc/heap_native.py with its native emitter).

Heap size: the install itself needs little (mpremote writes the files in chunks), but
the board compiles each module it imports from .py. The smoke test imports what
`from stalloc import Stalloc` and a heap load (the package imports modules on first use:
_base, heap, heap_native, _repoint, _repoint_native); the test prints gc.mem_free()
before and after (64-bit unix port). When the package still imported every module, the import
kept ~57 KB and needed at least 172k; 192k stays, so that a small growth of the library
does not turn this into a memory test (boards/unix/board.json keeps the import figures).
"""

import hashlib
import json
import os
import re
import sys

import pytest

from stalloc import AllocError, Stalloc

import vboard  # tools/vboard.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ptys")

HEAPSIZE = "192k"  # measured minimum: 172k (see the module docstring)
TARGET = "/lib"

with open(os.path.join(ROOT, "package.json")) as _f:
    PACKAGE = json.load(_f)
# destination on the board (relative to TARGET) -> source file in this repository
FILES = dict(PACKAGE["urls"])

# The same operations run on CPython below, to compare str(heap) byte for byte.
OPS = """\
heap = Stalloc(64, 16)
i = heap.allocate_blocks(4, align=2)
v = heap.alloc(100)
v[:5] = b"hello"
j = heap.allocate_blocks(3)
heap.deallocate_blocks(i, 4)
"""

SMOKE = (
    """\
import gc
gc.collect()
free_before = gc.mem_free()
import stalloc
from stalloc import AllocError, Stalloc
from stalloc.heap import ACCELERATED
gc.collect()
print("MEM", free_before, gc.mem_free(), gc.mem_alloc())
print("FILE", stalloc.__file__, stalloc.__version__)
"""
    + OPS
    + """\
print("STR-START")
print(str(heap))
print("STR-END")
print("BYTES", bytes(v[:5]), len(v))
try:
    heap.alloc(10**6)
    print("ALLOCERROR", "not raised")
except AllocError:
    print("ALLOCERROR", "raised")
heap.free(v)
heap.deallocate_blocks(j, 3)
heap.check()
print("EMPTY", heap.is_empty())
print("ACCELERATED", ACCELERATED)
"""
)

HASHES = """\
import binascii, hashlib, os
for name in sorted(os.listdir(%r)):
    with open(%r + "/" + name, "rb") as f:
        data = f.read()
    print("SHA", name, binascii.hexlify(hashlib.sha256(data).digest()).decode())
    data = None
"""


def _fields(text, key):
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(key + " ")]


def test_mip_install_from_local_package_json_then_import_and_use_on_the_board():
    with vboard.VirtualBoard(HEAPSIZE) as board:
        installed = board.mpremote(
            "mip", "install", "--target=" + TARGET, "./package.json", cwd=ROOT
        )
        listing = board.mpremote("ls", ":" + TARGET + "/stalloc").stdout
        top = board.mpremote("ls", ":" + TARGET).stdout
        hashes = board.mpremote("exec", HASHES % ((TARGET + "/stalloc",) * 2)).stdout
        smoke = board.mpremote("exec", SMOKE).stdout
    print("\n--- mip install ---\n" + installed.stdout + "--- smoke test ---\n" + smoke)

    # What mip says it installed, and what `ls` shows, is exactly package.json's list.
    said = re.findall(r"^Installing: (\S+)$", installed.stdout, re.M)
    assert said == [TARGET + "/" + dest for dest in FILES], installed.stdout
    assert installed.stdout.rstrip().endswith("Done"), installed.stdout
    names = [line.split()[-1] for line in listing.splitlines()[1:]]  # line 0 echoes the command
    expected = sorted(dest.split("/", 1)[1] for dest in FILES)
    assert {dest.split("/", 1)[0] for dest in FILES} == {"stalloc"}
    assert sorted(names) == expected, listing
    assert [line.split()[-1] for line in top.splitlines()[1:]] == ["stalloc/"], top
    # ... with each file's size and content as in the repository
    sizes = {line.split()[-1]: int(line.split()[0]) for line in listing.splitlines()[1:]}
    digests = dict(field.split() for field in _fields(hashes, "SHA"))
    for dest, src in FILES.items():
        name = dest.split("/", 1)[1]
        with open(os.path.join(ROOT, src), "rb") as f:
            data = f.read()
        assert sizes[name] == len(data), (name, sizes[name], len(data))
        assert digests[name] == hashlib.sha256(data).hexdigest(), name

    # The smoke test ran on the board, from the installed sources.
    (mem,) = _fields(smoke, "MEM")
    free_before, free_after, alloc_after = (int(x) for x in mem.split())
    assert _fields(smoke, "FILE") == [TARGET + "/stalloc/__init__.py " + PACKAGE["version"]]
    assert _fields(smoke, "BYTES") == ["b'hello' 100"]
    assert _fields(smoke, "ALLOCERROR") == ["raised"]
    assert _fields(smoke, "EMPTY") == ["True"]
    assert _fields(smoke, "ACCELERATED") == ["True"], smoke
    board_str = smoke.split("STR-START\n", 1)[1].split("STR-END\n", 1)[0].rstrip("\n")
    # CPython runs the same operations on the same library: the text is the same.
    scope = {"Stalloc": Stalloc, "AllocError": AllocError}
    exec(OPS, scope)
    assert board_str == str(scope["heap"]), (board_str, str(scope["heap"]))
    assert board_str.startswith("Stallocator with 64 blocks of 16 bytes each")
    print(
        "heap %s: %d bytes free before the import, %d after (%d allocated)"
        % (HEAPSIZE, free_before, free_after, alloc_after)
    )
