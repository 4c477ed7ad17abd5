# tools/heapviz.py, the picture writers, on CPython: the files they write, their sizes in
# pixels, and the colour at the place of known blocks, frames and lines (PNG read back
# with matplotlib, SVG parsed as XML).
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib.colors as mcolors
import matplotlib.image as mimage
import pytest
from _host import refused  # tests/cpython/_host.py

import stalloc
from stalloc import Stack, Stalloc

import heaptrace as T  # tools/heaptrace.py (tests/conftest.py puts tools/ on sys.path)
import heapviz as V  # tools/heapviz.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _rgb(hex_color):
    return tuple(round(c * 255) for c in mcolors.to_rgb(hex_color))


def _pixel(img, x, y):
    return tuple(round(float(c) * 255) for c in img[y, x, :3])


def _is(img, x, y, hex_color):
    got, want = _pixel(img, x, y), _rgb(hex_color)
    assert all(abs(a - b) <= 1 for a, b in zip(got, want, strict=True)), (
        (x, y),
        got,
        want,
        hex_color,
    )


def _fills(svg_path):
    """The fill colours of every filled path in an SVG, in document order."""
    out = []
    for e in ET.parse(svg_path).iter():
        style = e.get("style", "")
        if e.tag.endswith("path") and "fill: #" in style:
            out.append(style.split("fill: ")[1].split(";")[0].strip())
    return out


# -- the heap map -----------------------------------------------------------------------------

KNOWN = "##....#......##"  # used 0-1, free 2-5, used 6, free 7-12 (largest), used 13-14


def test_colours_are_distinct():
    colors = [V.USED, V.FREE, V.LARGEST, V.PARTIAL]
    assert len({_rgb(c) for c in colors}) == 4


def test_a_known_map_as_png_has_its_size_and_colours(tmp_path):
    path = tmp_path / "map.png"
    g = V.write_heap_map(KNOWN, path, title="known")
    img = mimage.imread(path)
    # one row of 15 blocks of 12 px; the width is the minimum, 560 px; 28 + 12 + 30 tall
    assert (g["cols"], g["rows"], g["cell"]) == (15, 1, 12)
    assert img.shape[:2] == (70, 560) == (g["height"], g["width"])
    for k in (0, 1, 6, 13, 14):
        _is(img, *V.block_center(g, k), V.USED)
    for k in (2, 3, 4, 5):
        _is(img, *V.block_center(g, k), V.FREE)
    for k in range(7, 13):
        _is(img, *V.block_center(g, k), V.LARGEST)
    # by the documented layout: block k's centre is at (8 + 12k + 6, 28 + 6)
    assert V.block_center(g, 9) == (8 + 12 * 9 + 6, 34)
    _is(img, 8 + 12 * 14 + 6, 34, V.USED)
    _is(img, 8 + 12 * 15 + 6, 34, "#ffffff")  # past the last block: background


def test_a_tie_marks_the_lowest_run_and_a_full_heap_has_none(tmp_path):
    path = tmp_path / "tie.png"
    g = V.write_heap_map("#...#...#", path)
    img = mimage.imread(path)
    _is(img, *V.block_center(g, 2), V.LARGEST)
    _is(img, *V.block_center(g, 6), V.FREE)
    g = V.write_heap_map("#####", path)
    img = mimage.imread(path)
    for k in range(5):
        _is(img, *V.block_center(g, k), V.USED)
    assert V.largest_free_run("#####") == (None, 0)
    assert V.largest_free_run("#..#...#...") == (4, 3)


def test_a_real_heap_wraps_into_rows(tmp_path):
    heap = Stalloc(150, 8)
    heap.allocate_blocks(70)  # all of row 0, 6 blocks of row 1
    b = heap.allocate_blocks(4)  # 70..73
    heap.allocate_blocks(60)  # 74..133
    heap.deallocate_blocks(b, 4)
    text = heap.map(width=heap.blocks)
    path = tmp_path / "heap.png"
    g = V.write_heap_map(text, path)
    assert (g["cols"], g["rows"], g["cell"]) == (64, 3, 12)
    img = mimage.imread(path)
    assert img.shape[:2] == (28 + 3 * 12 + 30, 64 * 12 + 16)
    _is(img, *V.block_center(g, 63), V.USED)  # end of row 0
    _is(img, *V.block_center(g, 69), V.USED)
    _is(img, *V.block_center(g, 71), V.FREE)  # the 4-block hole: not the largest
    _is(img, *V.block_center(g, 140), V.LARGEST)  # 134..149, row 2
    assert V.block_center(g, 140)[1] == 28 + 2 * 12 + 6


def test_a_big_heap_gets_smaller_cells(tmp_path):
    g = V.map_geometry(4096)  # 64 rows of 64
    assert (g["rows"], g["cell"]) == (64, 12)
    g = V.map_geometry(65535)  # 1024 rows: 768 // 1024 -> the minimum, 2 px
    assert (g["rows"], g["cell"], g["height"]) == (1024, 2, 28 + 2048 + 30)
    path = tmp_path / "big.png"
    text = "#" * 5000 + "." * 3000
    g = V.write_heap_map(text, path)
    assert (g["rows"], g["cell"]) == (125, 6)
    img = mimage.imread(path)
    assert img.shape[:2] == (g["height"], g["width"])
    _is(img, *V.block_center(g, 4999), V.USED)
    _is(img, *V.block_center(g, 7000), V.LARGEST)


def test_a_known_map_as_svg_has_one_rectangle_per_run_with_its_fill(tmp_path):
    path = tmp_path / "map.svg"
    V.write_heap_map(KNOWN, path)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    fills = _fills(path)
    # the background, the runs in block order, then the legend squares
    assert fills[0] == "#ffffff"
    runs = [V.USED, V.FREE, V.USED, V.LARGEST, V.USED]
    assert fills[1:6] == runs
    assert fills[6:] == [V.USED, V.FREE, V.LARGEST]
    # widths of the run rectangles are in proportion to their block counts (2, 4, 1, 6, 2)
    widths = []
    for e in root.iter():
        if e.tag.endswith("path") and "fill: #" in e.get("style", ""):
            words = e.get("d").replace("M", " ").replace("L", " ").replace("z", " ").split()
            xs = [float(w) for w in words[::2]]
            widths.append(max(xs) - min(xs))
    unit = widths[3] / 1  # block 6, one block
    assert [round(w / unit, 3) for w in widths[1:6]] == [2, 4, 1, 6, 2]


def test_kinds_colour_known_owners_and_add_a_legend_line(tmp_path):
    # tools/demo.py's GC pictures: the library's blocks and a heap's bytearray in colours
    path = tmp_path / "kinds.png"
    kinds = [("L", "#e6550d", "library"), ("R", "#756bb1", "reservation")]
    g = V.write_heap_map("LL#RRR..", path, kinds=kinds)
    assert g == V.map_geometry(8, legend_rows=2)
    assert g["height"] == V.map_geometry(8)["height"] + V.LEGEND_H
    img = mimage.imread(path)
    assert img.shape[:2] == (g["height"], g["width"])
    for k, color in enumerate(["#e6550d"] * 2 + [V.USED] + ["#756bb1"] * 3 + [V.LARGEST] * 2):
        _is(img, *V.block_center(g, k), color)
    V.write_heap_map("LR.", tmp_path / "kinds.svg", kinds=kinds)
    fills = _fills(tmp_path / "kinds.svg")
    assert fills[-5:] == [V.USED, V.FREE, V.LARGEST, "#e6550d", "#756bb1"]  # both legends
    with pytest.raises(ValueError, match="characters"):
        V.write_heap_map("LX", path, kinds=kinds)
    with pytest.raises(ValueError, match="redefine"):
        V.write_heap_map("#.", path, kinds=[("#", "#000000", "mine")])


def test_grouped_maps_and_bad_input(tmp_path):
    path = tmp_path / "g.png"
    g = V.write_heap_map("#:.", path)
    _is(mimage.imread(path), *V.block_center(g, 1), V.PARTIAL)
    with pytest.raises(ValueError, match="characters"):
        V.write_heap_map("#x.", path)
    with pytest.raises(ValueError, match="empty"):
        V.write_heap_map("", path)
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        V.write_heap_map("#.", tmp_path / "m.jpg")
    assert not (tmp_path / "m.jpg").exists()


# -- the stack picture ---------------------------------------------------------------------


def test_a_known_stack_layout(tmp_path):
    layout = ([(1000, 608)], [(0, 0, 200), (0, 208, 400)])  # 8 bytes of padding at 200
    path = tmp_path / "stack.png"
    g = V.write_stack_map(layout, path)
    img = mimage.imread(path)
    assert img.shape[:2] == (g["height"], g["width"]) == (28 + 18 + 24 + 8 + 30, 736)
    scale = g["scale"]
    assert scale == 720 / 1000
    y = g["y"][0] + 12

    def x(byte):
        return int(8 + byte * scale)

    _is(img, x(100), y, V.FRAME_A)
    _is(img, x(400), y, V.FRAME_B)
    _is(img, x(800), y, V.FREE)
    _is(img, x(990), y, V.FREE)


def test_a_real_stack_over_two_chunks(tmp_path):
    stack = Stack(1024, allocator=Stalloc(128, 64))
    path = tmp_path / "stack.svg"
    with stack.frame(200), stack.frame(100, "d"), stack.frame(300):
        with stack.frame(900):
            chunks, _ = stack.layout()
            g = V.write_stack_map(stack, path, title="two chunks")
            png = tmp_path / "stack.png"
            V.write_stack_map(stack, png)
    assert len(chunks) == 2 and len(g["y"]) == 2
    fills = _fills(path)
    # per chunk: free, padding, its frames alternating by their order on the stack
    assert fills[1:5] == [V.FREE, V.PAD, V.FRAME_A, V.FRAME_B]
    assert fills[5:9] == [V.FREE, V.PAD, V.FRAME_A, V.FRAME_B]
    img = mimage.imread(png)
    big = max(c for c, _ in chunks)
    y = g["y"][1] + 12
    _is(img, int(8 + 450 * 720 / big), y, V.FRAME_B)  # the 900-byte frame in chunk 1
    with pytest.raises(ValueError):
        stack.trim()
        V.write_stack_map(stack, path)


# -- the trace plot ----------------------------------------------------------------------------


def _series():
    def program(rec):
        views = []
        for k in range(40):
            try:
                views.append(rec.alloc(16 * (1 + k % 4)))
            except MemoryError:
                pass
            if k % 3 == 2:
                rec.free(views.pop(0))

    return T.replay(T.record_from(program, 32, 16), 32, 16)


def test_the_trace_plot_png_and_svg(tmp_path):
    s = _series()
    assert s.failures[-1] > 0  # the program runs out of room: the red line rises
    png = tmp_path / "t.png"
    g = V.write_trace_plot(s, png)
    img = mimage.imread(png)
    assert img.shape[:2] == (500, 800) == (g["height"], g["width"])
    seen = {tuple(round(float(c) * 255) for c in px[:3]) for row in img for px in row}
    for color in (V.USED, V.LARGEST, V.FRAG, V.FAIL, V.FREE_LINE):
        want = _rgb(color)
        assert any(all(abs(a - b) <= 2 for a, b in zip(want, p, strict=True)) for p in seen), color
    svg = tmp_path / "t.svg"
    V.write_trace_plot(s, svg, title="a title")
    text = svg.read_text()
    for color in (V.USED, V.LARGEST, V.FRAG, V.FAIL):
        assert "stroke: %s" % color in text, color
    with pytest.raises(ValueError):
        V.write_trace_plot(
            T.replay(T.parse("# stalloc-trace 1 blocks=4 block_size=4\n"), 4, 4), png
        )


def _kept_figures(monkeypatch):
    # The figures heapviz saves from now on, appended to the list returned
    figures = []

    class Keep(V.Figure):
        def savefig(self, *args, **kwargs):
            figures.append(self)
            return super().savefig(*args, **kwargs)

    monkeypatch.setattr(V, "Figure", Keep)
    return figures


def _plotted(monkeypatch, series, tmp_path):
    # write_trace_plot's figure, kept when it is saved: {label: (xdata, ydata)}
    figures = _kept_figures(monkeypatch)
    V.write_trace_plot(series, tmp_path / "p.svg")
    lines = {}
    for ax in figures[0].axes:
        for line in ax.get_lines():
            lines[line.get_label()] = (list(line.get_xdata()), list(line.get_ydata()))
    return lines


def _synthetic(n, fail_at, blocks=100):
    # a Series of n ops: used rises 0..blocks-1 and wraps, one failure at each op of fail_at;
    # the largest free run is all the free blocks at odd ops, half of them at even ones
    s = T.Series(blocks, 16)
    count = 0
    for k in range(n):
        count += k in fail_at
        u = k % blocks
        s.ops.append("alloc")
        s.used.append(u)
        s.free.append(blocks - u)
        s.largest.append(blocks - u if k % 2 else (blocks - u) // 2)  # ratio 1, 0.5, ...
        s.runs.append(1)
        s.failures.append(count)
        s.placed.append(None)
    s.peak = blocks - 1
    return s


def _first_x(xs, ys, value):
    return next(x for x, y in zip(xs, ys, strict=True) if y >= value)


def test_the_trace_plot_draws_each_op_at_its_index(monkeypatch, tmp_path):
    n = 50
    lines = _plotted(monkeypatch, _synthetic(n, {17, n - 1}), tmp_path)
    xs, ys = lines[V.REFUSED]
    assert _first_x(xs, ys, 1) == 17 and _first_x(xs, ys, 2) == n - 1 and xs[-1] == n - 1
    assert lines["used blocks"] == (list(range(n)), [k % 100 for k in range(n)])
    assert lines["largest run / free"][1][:2] == [0.5, 1.0] and "its minimum" not in lines


def test_the_windowed_trace_plot_draws_failures_where_they_happened(monkeypatch, tmp_path):
    n = 3 * V.MAX_POINTS + 5  # windows of k = 4 ops
    k = 4
    late = 1001  # in the window of ops 1000..1003
    lines = _plotted(monkeypatch, _synthetic(n, {late, n - 1}), tmp_path)
    xs, ys = lines[V.REFUSED]
    assert ys[0] == 0 and xs[-1] == n - 1
    assert late <= _first_x(xs, ys, 1) < late + k  # never early, at most k - 1 late
    assert _first_x(xs, ys, 2) == n - 1  # the last op's failure at the last op, not before
    assert ys[-1] == 2
    for label in ("used blocks", "free blocks", "largest free run", "largest run / free"):
        lx, ly = lines[label]
        assert lx[0] == 0 and lx[-1] == n - 1, label  # every window drawn, to the end
        assert lx[1] == k and len(lx) == len(ly) == -(-n // k) + 1, label
    # the last window (ops n-1 .. n-1: 3 * MAX_POINTS + 4 is a window of its own)
    last = (n - 1) % 100
    assert lines["used blocks"][1][-2:] == [last, last]
    assert lines["largest free run"][1][:2] == [49, 47]  # each window's minimum
    assert lines["largest run / free"][1][0] == 0.75  # the mean of 0.5, 1, 0.5, 1
    assert lines["its minimum"][1][0] == 0.5


# -- the command line --------------------------------------------------------------------------


def _cli(*args):
    # in this process (a new one per call costs a second of imports): main() as the
    # command line runs it, its printed output returned
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert V.main(list(args)) == 0
    return out.getvalue()


def test_the_script_runs_on_its_own(tmp_path):
    out = tmp_path / "m.svg"
    subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "heapviz.py"), "map", "--text", "#.."]
        + ["--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert _fills(out)[1:3] == [V.USED, V.LARGEST]


def test_cli_map_trace_and_demo(tmp_path):
    out = tmp_path / "m.png"
    _cli("map", "--text", KNOWN, "--out", str(out))
    assert mimage.imread(out).shape[:2] == (70, 560)
    trace = tmp_path / "t.trace"
    trace.write_text(
        "# stalloc-trace 1 blocks=8 block_size=16\nalloc 0 64 1 0\nalloc 1 16 1 4\nfree 0 64\n"
    )
    at = tmp_path / "at.png"
    _cli("map", "--trace", str(trace), "--at", "1", "--out", str(at))
    g = V.map_geometry(8)
    img = mimage.imread(at)
    _is(img, *V.block_center(g, 3), V.USED)  # after op 1: #####...
    _is(img, *V.block_center(g, 6), V.LARGEST)
    printed = _cli("trace", str(trace), "--blocks", "16", "--out", str(tmp_path / "d"))
    assert "3 ops: peak 5 of 16 blocks used, 0 failures" in printed
    assert sorted(os.listdir(tmp_path / "d")) == ["t-map.png", "t-plot.png"]
    _cli("trace", str(trace), "--format", "svg", "--out", str(tmp_path / "s"))
    assert sorted(os.listdir(tmp_path / "s")) == ["t-map.svg", "t-plot.svg"]
    printed = _cli("demo", "--out", str(tmp_path / "demo"))
    names = sorted(os.listdir(tmp_path / "demo"))
    assert names == ["demo.trace", "heap-map.png", "stack.png", "trace.png"]
    assert len(printed.split()) == 4
    T.parse((tmp_path / "demo" / "demo.trace").read_text())


# -- bad input files, the default output folder ------------------------------------------------

TOOL = os.path.join(ROOT, "tools", "heapviz.py")


def _refused(*args, names, words=()):
    """Run tools/heapviz.py with args; assert it refused as the host tools do: exit 2, one
    line on stderr, `error: ` naming `names` (and holding each of `words`), no traceback,
    nothing written. Returns it."""
    proc = subprocess.run(
        [sys.executable, TOOL, *map(str, args)], capture_output=True, text=True, timeout=120
    )
    return refused(proc, names, *words)


def test_cli_a_missing_trace_is_one_error_line_and_exit_2(tmp_path):
    missing = tmp_path / "nope.trace"
    line = _refused("map", "--trace", missing, "--out", tmp_path / "m.png", names=missing)
    assert "No such file" in line
    _refused("trace", missing, "--out", tmp_path / "d", names=missing)
    _refused("trace", tmp_path, "--out", tmp_path / "d", names=tmp_path)  # a directory
    assert sorted(os.listdir(tmp_path)) == []  # nothing written


def test_cli_a_malformed_trace_is_one_error_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.trace"
    bad.write_text("# stalloc-trace 1 blocks=8 block_size=16\nalloc 0 64 1 0\nfree 0\n")
    line = _refused("map", "--trace", bad, "--out", tmp_path / "m.png", names=bad)
    assert "line 3" in line  # parse()'s words: the line and what is wrong with it
    _refused("trace", bad, "--out", tmp_path / "d", names=bad)
    binary = tmp_path / "binary.trace"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    _refused("trace", binary, "--out", tmp_path / "d", names=binary)
    shape = tmp_path / "shape.trace"
    shape.write_text("# stalloc-trace 1 blocks=0 block_size=16\nalloc 0 64 1 0\n")
    _refused("trace", shape, "--out", tmp_path / "d", names=shape)
    assert sorted(os.listdir(tmp_path)) == ["bad.trace", "binary.trace", "shape.trace"]


def test_cli_a_cut_off_trace_or_a_shape_below_1_is_one_error_line_and_exit_2(tmp_path):
    cut = tmp_path / "cut.trace"  # the header says 3 records, 2 are there
    cut.write_text(
        "# stalloc-trace 1 blocks=8 block_size=16 records=3\nalloc 0 64 1 0\nfree 0 64\n"
    )
    for cmd in (["map", "--trace", cut, "--out", tmp_path / "m.png"], ["trace", cut]):
        _refused(*cmd, names=cut, words=("records=3", "cut off"))
    good = tmp_path / "t.trace"
    good.write_text("# stalloc-trace 1 blocks=8 block_size=16\nalloc 0 64 1 0\n")
    for option, value in (("--blocks", 0), ("--blocks", -1), ("--block-size", 0)):
        word = "%d %s (%s)" % (value, "blocks", option) if option == "--blocks" else option
        _refused("trace", good, option, value, "--out", tmp_path / "d", names=good, words=(word,))
        out = tmp_path / "m.png"
        _refused("map", "--trace", good, option, value, "--out", out, names=good, words=(option,))
    assert sorted(os.listdir(tmp_path)) == ["cut.trace", "t.trace"]


def test_cli_a_trace_whose_recorder_dropped_calls_is_drawn_with_a_warning_and_exit_4(tmp_path):
    path = tmp_path / "part.trace"
    path.write_text(
        "# stalloc-trace 1 blocks=8 block_size=16 records=2 dropped=5\nalloc 0 64 1 0\nfree 0 64\n"
    )
    for args in (["trace", path, "--out", tmp_path / "d"], ["map", "--trace", path]):
        proc = subprocess.run(
            [sys.executable, TOOL, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert proc.returncode == 4, proc
        assert proc.stderr == (
            "warning: %s: the recorder dropped the 5 calls after these 2 (its buffer was"
            " full): this is a prefix of the program; record it again with"
            " TraceRecorder(heap, capacity=7) or more\n" % path
        ), proc.stderr
        for printed in proc.stdout.split()[:1]:  # the first picture's path
            assert os.path.isfile(os.path.join(tmp_path, printed)), proc.stdout
    assert sorted(os.listdir(tmp_path / "d")) == ["part-map.png", "part-plot.png"]


def test_cli_bad_map_text_or_picture_name_is_one_error_line(tmp_path):
    _refused("map", "--text", "##..", "--out", tmp_path / "m.jpg", names=tmp_path / "m.jpg")
    _refused("map", "--text", "##x.", "--out", tmp_path / "m.png", names="'x'")
    assert os.listdir(tmp_path) == []


def test_cli_writes_into_out_by_default(tmp_path):
    # without --out every picture lands in out/ (git-ignored), made when needed; an
    # explicit --out is used as given
    trace = tmp_path / "t.trace"
    trace.write_text("# stalloc-trace 1 blocks=8 block_size=16\nalloc 0 64 1 0\n")

    def run(*args):
        proc = subprocess.run(
            [sys.executable, TOOL, *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert run("map", "--text", KNOWN) == [os.path.join("out", "map.png")]
    assert run("map", "--trace", "t.trace", "--at", "0")[0] == os.path.join("out", "t-map-0.png")
    assert run("trace", "t.trace")[:2] == [
        os.path.join("out", "t-plot.png"),
        os.path.join("out", "t-map.png"),
    ]
    run("demo")
    assert sorted(os.listdir(tmp_path / "out")) == [
        "demo.trace",
        "heap-map.png",
        "map.png",
        "stack.png",
        "t-map-0.png",
        "t-map.png",
        "t-plot.png",
        "trace.png",
    ]
    assert sorted(os.listdir(tmp_path)) == ["out", "t.trace"]
    assert run("map", "--text", KNOWN, "--out", "here.svg") == ["here.svg"]
    assert run("map", "--text", KNOWN, "--out", "new/dir/m.png") == ["new/dir/m.png"]
    assert (tmp_path / "here.svg").is_file() and (tmp_path / "new" / "dir" / "m.png").is_file()


def test_without_matplotlib_it_says_what_to_install(tmp_path):
    # --help still works; drawing is one `error:` line naming the extra, exit 2
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.path.insert(0, %r)\n"
        "import heapviz; sys.exit(heapviz.main(sys.argv[1:]))" % os.path.join(ROOT, "tools")
    )
    cmd = [sys.executable, "-c", code]
    proc = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "pip install matplotlib" in " ".join(proc.stdout.split())
    out = tmp_path / "m.png"
    proc = subprocess.run(
        cmd + ["map", "--text", "#..", "--out", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == "" and not out.exists(), proc
    assert proc.stderr == (
        "error: drawing pictures needs matplotlib, not installed: pip install matplotlib, or "
        "the tools extra (pip install '.[tools]' in a checkout, "
        "pip install 'stalloc-%s-py3-none-any.whl[tools]' with the wheel)\n" % stalloc.__version__
    )


def test_the_trace_plot_speaks_plain_words(monkeypatch, tmp_path):
    # the right axis, the dashed line and the x axis say what they show
    figures = _kept_figures(monkeypatch)
    for n in (50, 3 * V.MAX_POINTS + 5):
        V.write_trace_plot(_synthetic(n, {17}), tmp_path / "p.svg")
        top, bottom, fails = figures[-1].axes
        assert fails.get_ylabel() == "requests refused so far"
        assert [t for t in fails.get_yticks() if t != int(t)] == []  # a count: whole ticks
        dashed = [line for line in top.get_lines() if line.get_linestyle() == "--"]
        assert [line.get_label() for line in dashed] == ["heap size (100 blocks)"]
        assert bottom.get_xlabel().startswith("allocations and frees, in order")
        assert "operation" not in bottom.get_xlabel() and "window" not in bottom.get_xlabel()
    assert "each step is 4 of them" in bottom.get_xlabel()


def test_bars_compare_lengths_under_the_map(monkeypatch, tmp_path):
    # tools/demo.py: the request that failed beside the largest free block, to one scale
    figures = _kept_figures(monkeypatch)
    path = tmp_path / "bars.png"
    kinds = [("o", "#e7298a", "objects")]
    bars = [(3, V.LARGEST, "largest free block"), (6, "#525252", "the request")]
    g = V.write_heap_map("#o..." + "#" * 11 + "...#", path, kinds=kinds, bars=bars)
    assert g == V.map_geometry(20, 2, 2)
    assert g["height"] == V.map_geometry(20, 2)["height"] + 2 * V.BAR_H
    img = mimage.imread(path)
    assert img.shape[:2] == (g["height"], g["width"])
    texts = [t.get_text() for t in figures[-1].axes[0].texts]
    assert "objects: 1 blocks" in texts  # the legend counts blocks, and says so
    assert "largest free block" in texts and "the request" in texts
    widths = {}
    for p in figures[-1].axes[0].patches:
        widths.setdefault(p.get_facecolor()[:3], []).append(p.get_width())
    full = g["cols"] * g["cell"]
    assert full in widths[mcolors.to_rgb("#525252")]  # the longest bar: the grid's width
    assert full / 2 in widths[mcolors.to_rgb(V.LARGEST)]  # 3 of 6 blocks: half of it
