"""Run every test stage and print one closing line: `tests: N passed, N failed, N skipped`.

Stages, in order (each must pass):
  lint          ruff check and ruff format --check
  cpython       pytest over tests/ (the portable files and the CPython-only suites)
  micropython   the portable files under the MicroPython unix port, viper accelerated
  mpy-faults    the fault-injection files (tests/test_faults_*.py) there, on a 256 KiB heap
  mpy-pure      the portable files with STALLOC_PURE=1: the pure-Python reference path
  mpy-pure-faults  the fault-injection files so
  wasm32        the same files on a 32-bit MicroPython: the WebAssembly port under node
                (no _thread, no native emitter: the pure path), tools/wasm/upy.mjs

A missing `micropython` or `node` command is a failure, not a skip. Run through tools/test.sh,
which sets up the virtual environment first. `-k TEXT` selects tests by name.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def tool(name):
    path = os.path.join(BIN, name)
    if os.path.exists(path):
        return path
    found = shutil.which(name)
    if not found:
        sys.exit(
            "run_tests: `%s` not found; run tools/test.sh to set up .venv and tools/wasm" % name
        )
    return found


def run(cmd, env=None):
    """Run cmd, echoing its output as it comes; return (exit code, full output)."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    sys.stdout.flush()
    return proc.wait(), "".join(lines)


def counts(text, pattern):
    found = {"passed": 0, "failed": 0, "skipped": 0}
    for line in text.splitlines()[::-1]:
        if pattern.search(line):
            for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", line):
                key = "failed" if word.startswith("error") else word
                found[key] += int(n)
            break
    return found


PYTEST_LINE = re.compile(r"\d+ (passed|failed|skipped|errors?).* in [\d.]+s")
UPYTEST_LINE = re.compile(r"^upytest: \d+ passed, \d+ failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    args = ap.parse_args()

    total = {"passed": 0, "failed": 0, "skipped": 0}
    failed_stages = []

    def stage(name, cmd, env=None, pattern=None, may_skip=False):
        print(
            "\n=== %s: %s"
            % (name, " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd)),
            flush=True,
        )
        t0 = time.time()
        code, out = run(cmd, env)
        if pattern is not None:
            c = counts(out, pattern)
            for k in total:
                total[k] += c[k]
            if may_skip and not (c["passed"] or c["failed"]):
                code = 0  # -k picked none of these files' tests
            elif code == 0 and c["passed"] == 0:
                code = 1  # a stage that ran nothing is a failure
        print("=== %s: %s in %.1fs" % (name, "ok" if code == 0 else "FAILED", time.time() - t0))
        if code != 0:
            failed_stages.append(name)

    stage("lint", [tool("ruff"), "check", "."])
    stage("format", [tool("ruff"), "format", "--check", "."])

    pytest_cmd = [sys.executable, "-m", "pytest", "tests"]
    if args.pattern:
        pytest_cmd += ["-k", args.pattern]
    stage("cpython", pytest_cmd, pattern=PYTEST_LINE)

    micropython = tool("micropython")
    portable = sorted(glob.glob(os.path.join("tests", "test_*.py")))
    upytest = ["tools/upytest.py"] + portable
    pick = ["-k", args.pattern] if args.pattern else []
    # The fault-injection files (tests/_faults.py) fill the GC heap to a level hundreds of
    # times, each a heap walk: they run on a 256 KiB heap of their own, the rest on the
    # port's 2 MiB (a small heap collects more often, and the port's threads lose objects
    # to collections now and then: docs/micropython.md).
    faults = [f for f in portable if os.path.basename(f).startswith("test_faults_")]
    upy_cmd = [micropython, "tools/upytest.py"] + [f for f in portable if f not in faults]
    faults_cmd = [micropython, "-X", "heapsize=256k", "tools/upytest.py"] + faults
    # .frozen: the unix port's frozen modules (asyncio), which MICROPYPATH would hide.
    env = dict(os.environ, MICROPYPATH=".frozen" + os.pathsep + os.path.join(ROOT, "lib"))
    env.pop("STALLOC_PURE", None)
    pure = dict(env, STALLOC_PURE="1")
    stage("micropython", upy_cmd + pick, env=env, pattern=UPYTEST_LINE)
    stage("mpy-faults", faults_cmd + pick, env=env, pattern=UPYTEST_LINE, may_skip=pick)
    stage("mpy-pure", upy_cmd + pick, env=pure, pattern=UPYTEST_LINE)
    stage("mpy-pure-faults", faults_cmd + pick, env=pure, pattern=UPYTEST_LINE, may_skip=pick)

    wasm_cmd = [tool("node"), "tools/wasm/upy.mjs", "--path", "lib"]
    for tree in (
        "lib",
        "tests",
        "ports",
        "packages",
        "pyproject.toml",
        "manifest.py",
        "package.json",
    ):
        wasm_cmd += ["--copy", tree]
    wasm_cmd += upytest + pick
    stage("wasm32", wasm_cmd, pattern=UPYTEST_LINE)

    print()
    if failed_stages:
        print("failed stages: %s" % ", ".join(failed_stages))
    print(
        "tests: %d passed, %d failed, %d skipped"
        % (total["passed"], total["failed"], total["skipped"])
    )
    return 1 if failed_stages or total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
