# Smoke test of the benchmark suite (tools/bench.py, tools/_bench_child.py,
# tools/_bench_report.py): `--quick` on CPython and on the MicroPython unix port (viper and
# pure), then the JSON's shape. No timing is asserted: timings are the benchmark's
# business, not the tests'. The virtual board is left out (it costs a board start and a
# copy); `tools/bench.py --quick --runtimes vboard` runs it by hand. About 6 s.
import json
import os
import re
import subprocess
import sys

import pytest
from _host import refused  # tests/cpython/_host.py

import _bench_child as child
import _bench_report as report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
RUNTIMES = ("cpython", "mpy", "mpy-pure")
WORKLOADS = ("scratch", "pool", "arena")
KINDS = {"stalloc", "today", "floor"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [sys.executable, os.path.join(TOOLS, "bench.py"), "--quick", "--no-progress"]
    cmd += ["--runtimes", ",".join(RUNTIMES)]
    cmd += ["--json", str(out / "bench.json"), "--plots", str(out / "plots")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "bench.json") as f:
        return json.load(f), proc.stdout, out


def test_every_runtime_workload_and_contender_is_there(run):
    results, _, _ = run
    assert [r["key"] for r in results["runs"]] == list(RUNTIMES)
    assert results["quick"] is True
    assert "tools/bench.py --quick" in results["command"]
    assert "--json" not in results["command"]  # output paths stay out of the README
    expected = {w[0]: [c[0] for c in w[3]] for w in child.WORKLOADS}
    assert list(expected) == list(WORKLOADS)
    for r in results["runs"]:
        impl = r["runtime"]["implementation"]
        assert impl == ("cpython" if r["key"] == "cpython" else "micropython")
        if r["key"] != "cpython":
            assert r["runtime"]["accelerated"] is (r["key"] == "mpy")
        assert [w["name"] for w in r["workloads"]] == list(WORKLOADS)
        for w in r["workloads"]:
            assert [c["contender"] for c in w["contenders"]] == expected[w["name"]]
            kinds = {c["kind"] for c in w["contenders"]}
            assert kinds == KINDS, (r["key"], w["name"], kinds)
            assert "bytearray(n)" in expected[w["name"]]
            assert "floor: slice" in expected[w["name"]]


def test_figures_are_numbers_in_range(run):
    results, _, _ = run
    for r in results["runs"]:
        for w in r["workloads"]:
            ops = w["ops"]
            assert ops > 0
            for c in w["contenders"]:
                where = (r["key"], w["name"], c["contender"])
                assert "setup_failed" not in c, where
                assert c["mean_ns"] > 0 and c["ops_per_s"] > 0, where
                assert 0 <= c["median_ns"] <= c["p90_ns"] <= c["p99_ns"] <= c["worst_ns"], where
                assert c["peak_bytes"] > 0 and c["setup_bytes"] >= 0, where
                for key in ("collections", "failures"):
                    assert isinstance(c[key], int) and 0 <= c[key] <= ops, where
                assert sum(c["hist_log2_ns"]) == ops, where
        assert r["harness"]["mean_ns"] > 0
        micro = r["micro"]
        assert micro["runs"] and micro["runs"][0]["live_kib"] == 0
        for m in micro["runs"]:
            assert set(m["ns"]) == set(micro["names"])
            assert all(ns > 0 for ns in m["ns"].values()), m


def test_terminal_tables_and_plots(run):
    _, stdout, out = run
    for w in WORKLOADS:
        assert w + ":" in stdout
    assert "micro-benchmarks" in stdout
    assert "integer pair vs two bare method calls" in stdout
    names = sorted(os.listdir(out / "plots"))
    assert "latency.png" in names and "memory.png" in names
    for w in WORKLOADS:
        assert "distribution_%s.png" % w in names
    for name in names:
        with open(out / "plots" / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_readme_section_replaces_only_what_is_between_the_markers(run, tmp_path):
    results, _, _ = run

    section = report.readme_section(results)
    for w in WORKLOADS:
        assert "**%s**" % w in section
    assert results["command"] in section
    path = tmp_path / "README.md"
    before = "# t\n\n## Performance\n\nintro\n\n%s\nold\n%s\n\nanalysis stays\n" % (
        report.BEGIN,
        report.END,
    )
    path.write_text(before)
    report.rewrite_readme(str(path), section)
    text = path.read_text()
    assert text.startswith("# t\n\n## Performance\n\nintro\n\n" + report.BEGIN + "\n")
    assert text.endswith(report.END + "\n\nanalysis stays\n")
    assert "old" not in text and section in text


def test_the_performance_doc_has_the_markers_once():
    with open(os.path.join(ROOT, "docs", "performance.md"), encoding="utf-8") as f:
        text = f.read()
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    perf = text.index("# Performance")
    assert perf < text.index(report.BEGIN) < text.index(report.END)


def _figures(section):
    """The four figures of the README's speed sentence, as docs/performance.md's target
    lines (the generated `section`) write them: `alloc(4096)` + `free` and
    `uninit(4096, fn)`, each as times cheaper than `bytearray(4096)` and times its floor."""
    text = " ".join(section.split())
    alloc = re.search(
        r"- `alloc\(4096\)` \+ `free`: \*\*(\S+)\*\* cheaper than `bytearray\(4096\)` "
        r"\([^)]*\), \*\*(\S+)\*\* the integer pair",
        text,
    )
    uninit = re.search(
        r"- `uninit\(4096, fn\)`: \*\*(\S+)\*\* cheaper than `bytearray\(4096\)` "
        r"\([^)]*\), \*\*(\S+)\*\* a view's slice passed to fn",
        text,
    )
    assert alloc and uninit, text
    return alloc.groups() + uninit.groups()


def _between(text, begin, end):
    assert text.count(begin) == 1 and text.count(end) == 1
    return text[text.index(begin) + len(begin) + 1 : text.index(end)]


def test_the_readme_quotes_the_figures_of_the_performance_docs_run():
    # One run is the source of every speed figure: docs/performance.md's generated section;
    # the README's sentence is written from the same run (bench.py --readme writes both)
    with open(os.path.join(ROOT, "docs", "performance.md"), encoding="utf-8") as f:
        figures = _figures(_between(f.read(), report.BEGIN, report.END))
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = _between(f.read(), report.SUMMARY_BEGIN, report.SUMMARY_END)
    assert readme == report.speed_summary_text(*figures)


def test_the_speed_summary_and_the_targets_come_from_one_run(run, tmp_path):
    results, _, _ = run
    summary = report.speed_summary(results)
    assert summary == report.speed_summary_text(*_figures(report.readme_section(results)))
    path = tmp_path / "README.md"
    path.write_text("a\n%s\nold\n%s\nb\n" % (report.SUMMARY_BEGIN, report.SUMMARY_END))
    report.rewrite_readme(str(path), summary, report.SUMMARY_BEGIN, report.SUMMARY_END)
    assert path.read_text() == "a\n%s\n%s%s\nb\n" % (
        report.SUMMARY_BEGIN,
        summary,
        report.SUMMARY_END,
    )
    # without the unix port's viper run there is no source: the README is left alone
    assert (
        report.speed_summary({"runs": [r for r in results["runs"] if r["key"] != "mpy"]}) is None
    )


def test_failures_are_counted_and_the_loop_goes_on():
    # The harness itself, in this process: a step that fails every other operation.
    from stalloc import AllocError

    done = []

    def factory(seq):
        def step(k):
            done.append(k)
            if k % 2:
                raise AllocError("full")

        return step

    n = 10
    times = child.zeros(n)
    fails, collections, frees, setup, peak = got = child.timed_pass(factory, None, n, times)
    assert fails == 5 and done == list(range(n))
    assert collections >= 0 and frees >= 0 and 0 <= setup <= peak, got
    assert child.timed_pass(_no_room, None, n, times) is None


def _no_room(seq):
    raise MemoryError


# -- saved results, bad files, the default output folder ----------------------------------------


def _bench(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, os.path.join(TOOLS, "bench.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_saved_results_are_rendered_without_running_anything(run, tmp_path):
    _, _, out = run
    proc = _bench("--results", out / "bench.json", "--plots", tmp_path / "p", "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "micro-benchmarks" in proc.stdout and "integer pair vs two" in proc.stdout
    assert sorted(os.listdir(tmp_path / "p")) == sorted(os.listdir(out / "plots"))


def test_a_missing_or_malformed_results_file_is_one_error_line_and_exit_2(tmp_path):
    missing = tmp_path / "nope.json"
    assert "No such file" in refused(_bench("--results", missing), missing, quiet=False)
    refused(_bench("--results", tmp_path), tmp_path, quiet=False)  # a directory
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1, "runs": [')
    assert "JSON" in refused(_bench("--results", bad), bad, quiet=False)
    other = tmp_path / "other.json"
    other.write_text('{"some": "other document"}')
    refused(_bench("--results", other), other, quiet=False)
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": 1, "runs": [{"key": "cpython"}], "date": "x"}')
    refused(_bench("--results", broken), broken, quiet=False)


def test_an_output_path_that_cannot_be_written_is_refused_before_running(tmp_path):
    # refused at once (no runtime started), not after the whole run
    proc = _bench("--quick", "--runtimes", "cpython", "--json", tmp_path)
    refused(proc, tmp_path, quiet=False)
    assert proc.stdout == ""
    afile = tmp_path / "f"
    afile.write_text("")
    refused(_bench("--quick", "--runtimes", "cpython", "--plots", afile), afile, quiet=False)
    refused(
        _bench("--quick", "--runtimes", "cpython", "--json", afile / "x.json"), afile, quiet=False
    )


def test_reports_go_to_out_by_default(run, tmp_path):
    _, _, out = run
    proc = _bench("--results", out / "bench.json", "--json", "--plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert sorted(os.listdir(tmp_path / "out")) == ["bench-plots", "bench.json"]
    with open(tmp_path / "out" / "bench.json") as f, open(out / "bench.json") as g:
        assert json.load(f) == json.load(g)
    assert "latency.png" in os.listdir(tmp_path / "out" / "bench-plots")
    # an explicit path is used as given, its folder made when needed
    proc = _bench("--results", out / "bench.json", "--json", "a/b.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "a" / "b.json").is_file()


def test_the_recorded_command_keeps_options_after_a_bare_output_flag():
    import bench

    assert bench.command_line(["--json", "--quick"]).endswith("tools/bench.py --quick")
    assert bench.command_line(["--plots", "p", "--quick"]).endswith("tools/bench.py --quick")
    assert bench.command_line(["--json=x", "--n", "5"]).endswith("tools/bench.py --n 5")
