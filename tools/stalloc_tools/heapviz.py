"""Pictures of a heap: block maps, stack chunks and trace plots, as PNG or SVG.

    stalloc-viz map --text '####....##..'                       # out/map.png
    stalloc-viz map --trace t.trace --blocks 64 [--at N] --out out/m.svg
    stalloc-viz trace t.trace --blocks 64 [--block-size 16]    # into out/
    stalloc-viz demo [--out DIR]
    .venv/bin/python tools/heapviz.py ...                      # the same, in a checkout

Without --out the pictures go into out/ (git-ignored; made when needed): map.png,
NAME-map.png or NAME-map-AT.png for `map` (NAME from the trace file's name), NAME-plot.png
and NAME-map.png for `trace`, heap-map.png, trace.png, stack.png and demo.trace for
`demo`. An --out given is used as given, its folder made when needed. A missing or
malformed trace file (one cut off too), a bad map text or picture name, --blocks or
--block-size below 1 is one `error:` line on stderr and exit status 2, and so is a
missing matplotlib (the message says how to install it). A trace whose recorder dropped calls
is drawn as the prefix it is, then one `warning:` line on stderr says so and the exit
status is 4, as with stalloc-trace. On a terminal a long replay shows a progress bar on
stderr.

Library use:

    write_heap_map(heap.map(width=heap.blocks), "map.png", title="after boot")
    write_trace_plot(replay(trace, 64, 16), "trace.svg")    # heaptrace.py's Series
    write_stack_map(stack, "stack.png")                     # a Stack, or stack.layout()

The format follows the file's extension (.png or .svg); matplotlib's Agg backend, no
display needed. Colours (module constants): USED blue, FREE light grey, LARGEST green
(the largest free run, the lowest one on a tie: the run first fit reaches last for a
big request), PARTIAL light blue (a ':' of a grouped map, partly used); stack frames
alternate FRAME_A / FRAME_B, alignment padding below the top is PAD.

A heap map is a grid of COLS blocks per row (fewer for a smaller heap), block k at row
k // cols, column k % cols, each a square of `cell` pixels (CELL, smaller for a tall
heap), the grid's top-left corner at (MARGIN, TOP) pixels; map_geometry(L) gives every
number, and the image is exactly width x height pixels.
"""

import argparse
import errno
import os
import sys

from . import UNFIT, Progress, command, error, install, need, warn

try:
    import matplotlib
except ImportError:  # the writers say what to install; the command line, in one line
    matplotlib = None
else:
    matplotlib.use("Agg")

    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

USED = "#3b6fb6"
FREE = "#d9d9d9"
LARGEST = "#2ca25f"
PARTIAL = "#9ecae1"
FRAME_A = "#e6550d"
FRAME_B = "#fdae6b"
PAD = "#969696"
FRAG = "#756bb1"
FAIL = "#d62728"
FREE_LINE = "#7f7f7f"

COLS = 64  # blocks per row of a heap map
CELL = 12  # pixels per block, as long as the grid is at most MAX_GRID pixels tall
MIN_CELL = 2
MAX_GRID = 768
MARGIN = 8
TOP = 28  # title band
BOTTOM = 30  # summary and legend band
LEGEND_H = 18  # the second legend line of a map with extra kinds
BAR_H = 30  # a comparison bar under a map (write_heap_map's `bars`): its label, then it
MIN_WIDTH = 560
DPI = 100
STRIP = 720  # pixels of the largest chunk in a stack picture
STRIP_H = 24
LABEL_H = 18
GAP = 8
PLOT_SIZE = (800, 500)  # trace plot, pixels
MAX_POINTS = 2000  # longer replays are drawn as windows (see write_trace_plot)
REFUSED = "refused requests"  # the trace plot's label of its failures line
OUT = "out"  # the command line's default output folder (git-ignored), made when needed

_KIND = {"#": USED, ".": FREE, ":": PARTIAL}


def _check_path(path):
    if matplotlib is None:
        raise ImportError(
            "drawing pictures needs matplotlib, not installed: " + install("matplotlib")
        )
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in (".png", ".svg"):
        raise ValueError("picture path must end in .png or .svg, got %r" % str(path))


def _check_map(map_text, extra=""):
    if not map_text:
        raise ValueError("empty heap map")
    bad = set(map_text) - set(_KIND) - set(extra)
    if bad:
        raise ValueError(
            "heap map characters are %s; got %r"
            % (", ".join(repr(c) for c in list(_KIND) + list(extra)), "".join(sorted(bad)))
        )


def _canvas(width, height):
    # A figure exactly width x height pixels, one axes over all of it in pixel units
    # (y down), so that what is drawn lands on known pixels.
    fig = Figure(figsize=((width + 0.5) / DPI, (height + 0.5) / DPI), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    return fig, ax


def _rect(ax, x, y, w, h, color):
    ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor="none", antialiased=False))


def largest_free_run(map_text):
    """(start, length) of the longest run of '.' in a map, the lowest on a tie;
    (None, 0) when nothing is free."""
    best, best_n, k = None, 0, 0
    while k < len(map_text):
        if map_text[k] == ".":
            j = k
            while j < len(map_text) and map_text[j] == ".":
                j += 1
            if j - k > best_n:
                best, best_n = k, j - k
            k = j
        else:
            k += 1
    return best, best_n


def map_geometry(blocks, legend_rows=1, bars=0):
    """The layout of a heap map of `blocks` blocks, as a dict: cols, rows, cell (pixels
    per block), x0, y0 (the grid's top-left pixel), width, height (of the image).
    legend_rows: 2 for a map with extra kinds (write_heap_map's `kinds`), whose legend
    takes a second line of LEGEND_H pixels below the summary; bars: comparison bars
    (write_heap_map's `bars`), BAR_H pixels each below that."""
    cols = min(blocks, COLS)
    rows = -(-blocks // cols)
    cell = max(MIN_CELL, min(CELL, MAX_GRID // rows))
    width = max(MIN_WIDTH, cols * cell + 2 * MARGIN)
    return {
        "cols": cols,
        "rows": rows,
        "cell": cell,
        "x0": MARGIN,
        "y0": TOP,
        "width": width,
        "height": TOP + rows * cell + BOTTOM + (legend_rows - 1) * LEGEND_H + bars * BAR_H,
    }


def block_center(geometry, k):
    """Pixel (x, y) of the centre of block k in a map drawn with `geometry`."""
    g = geometry
    r, c = divmod(k, g["cols"])
    return g["x0"] + c * g["cell"] + g["cell"] // 2, g["y0"] + r * g["cell"] + g["cell"] // 2


def _legend(ax, x, y, items):
    for color, label in items:
        _rect(ax, x, y - 5, 10, 10, color)
        t = ax.text(x + 14, y, label, va="center", ha="left", fontsize=8)
        x += 22 + 6 * len(label)
    return t


def write_heap_map(map_text, path, title=None, kinds=(), bars=()):
    """Draw a heap map ('#' used, '.' free, ':' partly used; one character per block, as
    heap.map(width=heap.blocks) gives) to `path` (.png or .svg) as a grid, the largest free
    run in LARGEST. kinds: more characters for used blocks of a known owner, as
    (character, colour, label) triples, e.g. ("L", "#e6550d", "library code"): drawn in
    their colour, counted as used, and listed with their block counts on a second legend
    line. bars: lengths in blocks to compare under the map, as (blocks, colour, label)
    triples, e.g. the largest free run and a request that did not fit: one bar each, to
    one scale (the longest as wide as the grid), its label above it. Returns
    map_geometry(len(map_text), 2 if kinds else 1, len(bars)). ValueError for an empty
    map, another character or another extension."""
    _check_path(path)
    extra = {ch: (color, label) for ch, color, label in kinds}
    if set(extra) & set(_KIND):
        raise ValueError("kinds may not redefine '#', '.' or ':'")
    _check_map(map_text, "".join(extra))
    L = len(map_text)
    g = map_geometry(L, 2 if extra else 1, len(bars))
    cols, cell, x0, y0 = g["cols"], g["cell"], g["x0"], g["y0"]
    fig, ax = _canvas(g["width"], g["height"])
    big, big_n = largest_free_run(map_text)
    colors = [_KIND[ch] if ch in _KIND else extra[ch][0] for ch in map_text]
    for k in range(big_n):
        colors[big + k] = LARGEST
    for r in range(g["rows"]):
        c = 0
        row = colors[r * cols : (r + 1) * cols]
        while c < len(row):
            e = c
            while e < len(row) and row[e] == row[c]:
                e += 1
            _rect(ax, x0 + c * cell, y0 + r * cell, (e - c) * cell, cell, row[c])
            c = e
    if cell >= 6:  # white lines between blocks
        segs = []
        for r in range(g["rows"]):
            n = min(cols, L - r * cols)
            for c in range(1, n):
                x = x0 + c * cell
                segs.append([(x, y0 + r * cell), (x, y0 + (r + 1) * cell)])
            if r:
                segs.append([(x0, y0 + r * cell), (x0 + n * cell, y0 + r * cell)])
        ax.add_collection(LineCollection(segs, colors="white", linewidths=0.6))
    used = map_text.count("#") + sum(map_text.count(ch) for ch in extra)
    free = map_text.count(".")
    runs = sum(1 for k in range(L) if map_text[k] == "." and (k == 0 or map_text[k - 1] != "."))
    ax.text(MARGIN, TOP / 2, title or "heap map", va="center", ha="left", fontsize=11)
    summary = "%d blocks: %d used, %d free in %d runs, largest free run %d" % (
        L,
        used,
        free,
        runs,
        big_n,
    )
    if big_n:
        summary += " at %d" % big
    yb = TOP + g["rows"] * cell + BOTTOM / 2
    ax.text(MARGIN, yb, summary, va="center", ha="left", fontsize=8)
    _legend(
        ax,
        g["width"] - 250,
        yb,
        [(USED, "used"), (FREE, "free"), (LARGEST, "largest free run")],
    )
    if extra:
        _legend(
            ax,
            MARGIN,
            yb + LEGEND_H,
            [
                (color, "%s: %d blocks" % (label, map_text.count(ch)))
                for ch, (color, label) in extra.items()
            ],
        )
    if bars:
        y = TOP + g["rows"] * cell + BOTTOM + (LEGEND_H if extra else 0)
        scale = cols * cell / max(max(n for n, _, _ in bars), 1)
        for n, color, label in bars:
            ax.text(MARGIN, y + 6, label, va="center", ha="left", fontsize=8)
            _rect(ax, MARGIN, y + 13, max(n * scale, 1), BAR_H - 17, color)
            y += BAR_H
    fig.savefig(path, dpi=DPI)
    return g


def stack_geometry(nchunks):
    """The layout of a stack picture with `nchunks` chunks: dict with width, height, x0,
    y (the top pixel of each strip, a list), strip_h and strip_w (pixels of the largest
    chunk)."""
    ys = [TOP + k * (LABEL_H + STRIP_H + GAP) + LABEL_H for k in range(nchunks)]
    return {
        "width": STRIP + 2 * MARGIN,
        "height": TOP + nchunks * (LABEL_H + STRIP_H + GAP) + BOTTOM,
        "x0": MARGIN,
        "y": ys,
        "strip_h": STRIP_H,
        "strip_w": STRIP,
    }


def write_stack_map(stack, path, title=None):
    """Draw a Stack's chunks, one strip each (older first, the current one last), with
    its open frames in FRAME_A / FRAME_B (alternating, outermost first), padding between
    them in PAD and the room above the top in FREE, to `path` (.png or .svg). `stack` is a
    Stack or the (chunks, frames) pair its layout() returns. Strip widths are in
    proportion to chunk capacity. Returns stack_geometry(chunks) plus "scale" (pixels
    per byte). ValueError for another extension or a stack that holds no chunk."""
    _check_path(path)
    chunks, frames = stack.layout() if hasattr(stack, "layout") else stack
    if not chunks:
        raise ValueError("the stack holds no chunk (trimmed): nothing to draw")
    g = stack_geometry(len(chunks))
    scale = STRIP / max(cap for cap, _ in chunks)
    fig, ax = _canvas(g["width"], g["height"])
    ax.text(MARGIN, TOP / 2, title or "stack", va="center", ha="left", fontsize=11)
    for k, (cap, top) in enumerate(chunks):
        y = g["y"][k]
        mine = [(s, n) for c, s, n in frames if c == k]
        _rect(ax, MARGIN, y, cap * scale, STRIP_H, FREE)
        _rect(ax, MARGIN, y, top * scale, STRIP_H, PAD)
        for start, n in mine:
            color = FRAME_A if frames.index((k, start, n)) % 2 == 0 else FRAME_B
            _rect(ax, MARGIN + start * scale, y, n * scale, STRIP_H, color)
        ax.text(
            MARGIN,
            y - LABEL_H / 2,
            "chunk %d: %d bytes, top %d, %d frame%s"
            % (k, cap, top, len(mine), "" if len(mine) == 1 else "s"),
            va="center",
            ha="left",
            fontsize=8,
        )
    yb = g["height"] - BOTTOM / 2
    _legend(
        ax,
        MARGIN,
        yb,
        [(FRAME_A, "frame"), (FRAME_B, "next frame"), (PAD, "padding"), (FREE, "free")],
    )
    fig.savefig(path, dpi=DPI)
    g["scale"] = scale
    return g


def write_trace_plot(series, path, title=None):
    """Plot a replay (heaptrace.py's Series) over op index to `path` (.png or .svg),
    PLOT_SIZE pixels: on top occupancy (used blocks USED, free blocks FREE_LINE, largest
    free run LARGEST, the heap size dashed); below fragmentation (largest free run /
    free blocks, FRAG: 1 = one free run) and cumulative failures (FAIL, right axis,
    labelled REFUSED).
    Op j is drawn at x = j, each value as a step holding until the next op.
    Over MAX_POINTS operations, ops are taken in windows of k = ceil(n / MAX_POINTS):
    each window's value is drawn as a step from its first op to the next window's first
    (the last window's to op n - 1). Used and free blocks are the window's means, with
    the used range (minimum to maximum) shaded; the largest free run is its minimum; the
    ratio is the mean, with its minimum drawn fainter. Failures (cumulative) are taken
    after op 0 and after each window's last op, each drawn from that op on: a failure
    shows at most k - 1 ops late, never early, and the final count at op n - 1.
    ValueError for another extension or an empty series."""
    _check_path(path)
    if not len(series):
        raise ValueError("empty series: nothing to plot")
    w, h = PLOT_SIZE
    fig = Figure(figsize=((w + 0.5) / DPI, (h + 0.5) / DPI), dpi=DPI)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    fig.subplots_adjust(left=0.1, right=0.91, top=0.87, bottom=0.14, hspace=0.12)
    ratio = [lg / f if f else 1.0 for lg, f in zip(series.largest, series.free, strict=True)]
    n = len(series)
    if n <= MAX_POINTS:
        x = list(range(n))
        used, free, largest = series.used, series.free, series.largest
        fails_x, fails_at = x, series.failures
        worst_ratio = None
        xlabel = "allocations and frees, in order"
    else:
        # A long run drawn op by op is a solid band: draw windows instead, the used blocks
        # also as their range, the largest free run at its worst (minimum), the ratio
        # also at its minimum; failures at window ends, where they are sure to have been.
        k = -(-n // MAX_POINTS)
        starts = list(range(0, n, k))
        x = starts + [n - 1]  # the last window's step ends at the last op

        def windows(values, reduce):
            out = [reduce(values[i : i + k]) for i in starts]
            return out + out[-1:]  # the value again at x = n - 1: a step to the end

        def mean(part):
            return sum(part) / len(part)

        used = windows(series.used, mean)
        low = windows(series.used, min)
        high = windows(series.used, max)
        top.fill_between(x, low, high, color=USED, alpha=0.25, linewidth=0, step="post")
        free = windows(series.free, mean)
        largest = windows(series.largest, min)
        fails_x = [0] + [min(i + k, n) - 1 for i in starts]  # after op 0, after each window
        fails_at = [series.failures[i] for i in fails_x]
        worst_ratio = windows(ratio, min)
        ratio = windows(ratio, mean)
        xlabel = (
            "allocations and frees, in order; each step is %d of them:\nthe lines their "
            "average (green: their lowest), the band the range of used blocks" % k
        )
    top.plot(x, used, color=USED, label="used blocks", drawstyle="steps-post")
    top.plot(x, free, color=FREE_LINE, label="free blocks", drawstyle="steps-post")
    top.plot(x, largest, color=LARGEST, label="largest free run", drawstyle="steps-post")
    top.axhline(
        series.blocks,
        color="black",
        linestyle="--",
        linewidth=0.8,
        label="heap size (%d blocks)" % series.blocks,
    )
    top.set_ylim(0, series.blocks * 1.08)
    top.set_ylabel("blocks of %d B" % series.block_size)
    top.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize=8, ncols=4, frameon=False)
    bottom.plot(x, ratio, color=FRAG, label="largest run / free", drawstyle="steps-post")
    if worst_ratio is not None:
        bottom.plot(
            x,
            worst_ratio,
            color=FRAG,
            alpha=0.45,
            linewidth=0.8,
            label="its minimum",
            drawstyle="steps-post",
        )
    bottom.set_ylim(0, 1.05)
    bottom.set_ylabel("largest free run\n÷ free blocks")
    bottom.set_xlabel(xlabel)
    fails = bottom.twinx()
    fails.plot(fails_x, fails_at, color=FAIL, label=REFUSED, drawstyle="steps-post")
    fails.set_ylabel("requests refused so far", color=FAIL)
    fails.set_ylim(0, max(1, max(series.failures)) * 1.1)
    fails.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count: no 0.5 tick
    bottom.legend(
        handles=bottom.get_lines() + fails.get_lines(), loc="lower left", fontsize=8, ncols=2
    )
    fig.suptitle(
        title
        or "replay on %d blocks of %d B: peak %d used, %d failures"
        % (series.blocks, series.block_size, series.peak, series.failures[-1]),
        fontsize=11,
    )
    fig.savefig(path, dpi=DPI)
    return {"width": w, "height": h}


# -- command line ------------------------------------------------------------------------


def _demo(out):
    # A small program on a fresh heap and stack: every picture from real library state.
    from stalloc import Stack, Stalloc

    from . import heaptrace as T

    def program(r):
        keep = []
        for k in range(60):
            v = r.alloc(16 * (1 + (k * 7) % 6))
            if k % 3:
                keep.append(v)
            else:
                r.free(v)
            if len(keep) > 12:
                r.free(keep.pop(k % len(keep)))
        i = r.allocate_blocks(8, align=8)
        r.grow_up_to(i, 8, 12)

    trace = T.record_from(program, 128, 16)
    series = T.replay(trace, 128, 16)
    paths = []
    p = os.path.join(out, "heap-map.png")
    write_heap_map(series.map, p, title="heap map after the demo program (128 x 16 B)")
    paths.append(p)
    p = os.path.join(out, "trace.png")
    write_trace_plot(series, p, title="demo program: occupancy and fragmentation")
    paths.append(p)
    stack = Stack(1024, allocator=Stalloc(256, 16))
    with stack.frame(200), stack.frame(100, "d"), stack.frame(300):
        with stack.frame(900):  # does not fit: a second, bigger chunk
            with stack.frame(64):
                p = os.path.join(out, "stack.png")
                write_stack_map(stack, p, title="a stack with 5 frames over 2 chunks")
                paths.append(p)
    with open(os.path.join(out, "demo.trace"), "w") as f:
        f.write(T.dumps(trace))
    paths.append(os.path.join(out, "demo.trace"))
    return paths


def _made(path, folder=False):
    # make the folder `path` is in (or `path` itself, a folder), if missing; returns path
    where = path if folder else os.path.dirname(path)
    if where:
        try:
            os.makedirs(where, exist_ok=True)
        except FileExistsError:  # a file by that name, or one of its parents is
            raise NotADirectoryError(errno.ENOTDIR, "not a folder: %s" % where, path) from None
    return path


@command
def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Exit status: 0 done, 2 bad input or a missing extra (one `error:` line on "
        "stderr), 4 the trace's recorder dropped calls: the pictures are of the prefix it kept "
        "(one `warning:` line on stderr). Needs matplotlib: pip install matplotlib (the tools "
        "extra has it too).",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("map", help="draw a heap map")
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the map itself, '#' used, '.' free")
    src.add_argument("--trace", help="a trace file: draw the map of its replay")
    m.add_argument("--blocks", type=int, help="L of the replay heap (default: recorded)")
    m.add_argument("--block-size", type=int, help="B of the replay heap (default: recorded)")
    m.add_argument("--at", type=int, help="the map after this op (default: the end)")
    m.add_argument("--title")
    m.add_argument(
        "--out",
        help="a .png or .svg file (default: %s/map.png, or %s/NAME-map[-AT].png for a trace "
        "NAME.*)" % (OUT, OUT),
    )
    t = sub.add_parser("trace", help="plot a trace's replay, and its final heap map")
    t.add_argument("trace")
    t.add_argument("--blocks", type=int, help="L of the replay heap (default: recorded)")
    t.add_argument("--block-size", type=int, help="B of the replay heap (default: recorded)")
    t.add_argument("--format", choices=("png", "svg"), default="png")
    t.add_argument(
        "--out", default=OUT, help="a directory, made if missing (default: %(default)s)"
    )
    d = sub.add_parser("demo", help="every picture from a small built-in program")
    d.add_argument(
        "--out", default=OUT, help="a directory, made if missing (default: %(default)s)"
    )
    args = ap.parse_args(argv)
    refused = need("drawing pictures", "matplotlib")
    if refused:
        return refused
    from . import heaptrace as T

    with Progress(ap.prog) as show:
        try:
            return _main(args, T, show)
        except T.InputError as e:
            show.wipe()
            return error(e)
        except OSError as e:  # the output: a folder that is a file, no permission, ...
            show.wipe()
            return error("%s: %s" % (e.filename or args.out or OUT, e.strerror or e))


def _main(args, T, show):
    # the command; `show` a Progress, wiped by the caller (before anything is printed)
    def replay(trace, L, B, map_at=None):
        s = T.replay(trace, L, B, map_at=map_at, progress=lambda k, n: show.bar(k, n, "replay"))
        show("drawing")
        return s

    if args.cmd == "demo":
        show("drawing")
        paths = _demo(_made(args.out, folder=True))
        show.wipe()
        for p in paths:
            print(p)
        return 0
    if args.cmd == "map" and args.text is not None:
        out = args.out or os.path.join(OUT, "map.png")
        try:
            _check_path(out)
        except ValueError as e:
            raise T.InputError(e) from None
        try:
            _check_map(args.text)
        except ValueError as e:
            raise T.InputError("--text: %s" % e) from None
        write_heap_map(args.text, _made(out), args.title)
        print(out)
        return 0
    show("reading %s" % args.trace)
    trace = T.load(args.trace)
    L, B = T.shape(args.trace, trace, args.blocks, args.block_size)
    name = os.path.splitext(os.path.basename(args.trace))[0]
    if args.cmd == "map":
        if args.at is not None and not 0 <= args.at < len(trace.ops):
            raise T.InputError(
                "%s: --at %d: the trace has %d ops (0..%d)"
                % (args.trace, args.at, len(trace.ops), len(trace.ops) - 1)
            )
        out = args.out
        if out is None:
            at = "" if args.at is None else "-%d" % args.at
            out = os.path.join(OUT, "%s-map%s.png" % (name, at))
        try:
            _check_path(out)
        except ValueError as e:
            raise T.InputError(e) from None
        s = replay(trace, L, B, map_at=args.at)
        where = "the end" if args.at is None else "op %d" % args.at
        write_heap_map(
            s.map, _made(out), args.title or "heap map at %s (%d x %d B)" % (where, L, B)
        )
        show.wipe()
        print(out)
        return _prefix(T, args.trace, trace)
    if not trace.ops:
        raise T.InputError("%s: the trace holds no operation: nothing to plot" % args.trace)
    s = replay(trace, L, B)
    plot = os.path.join(args.out, "%s-plot.%s" % (name, args.format))
    final = os.path.join(args.out, "%s-map.%s" % (name, args.format))
    _made(args.out, folder=True)
    write_trace_plot(s, plot)
    write_heap_map(s.map, final, "heap map at the end (%d x %d B)" % (L, B))
    show.wipe()
    print(plot)
    print(final)
    print(
        "%d ops: peak %d of %d blocks used, %d failures"
        % (len(s), s.peak, L, s.failures[-1] if len(s) else 0)
    )
    return _prefix(T, args.trace, trace)


def _prefix(T, path, trace):
    # the exit status of a trace drawn: UNFIT, and a warning, when it is a prefix only
    note = T.dropped_note(trace)
    if not note:
        return 0
    warn("%s: %s" % (path, note))
    return UNFIT


if __name__ == "__main__":
    sys.exit(main())
