"""Rendering for tools/bench.py: rich tables, matplotlib plots, the README section.

Everything here reads the results document tools/bench.py assembles (and writes with
--json): {"command", "date", "machine", "runs": [one tools/_bench_child.py document per
runtime, plus "key" and "label"]}.
"""

import os
import re

TERMINAL_COLUMNS = (
    "mean",
    "median",
    "p99",
    "worst",
    "ops/s",
    "peak KiB",
    "GCs",
    "fail",
    "x bytearray",
    "x slice",
)
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
# The README's speed sentence: the same run's figures, written with the section above, so
# that the docs quote one run (tests/cpython/test_bench.py checks the two agree).
SUMMARY_BEGIN = "<!-- bench-summary:begin -->"
SUMMARY_END = "<!-- bench-summary:end -->"
MICRO_ROWS = (  # (micro-benchmark name, README label)
    ("two bare method calls", "two bare method calls (the floor)"),
    ("allocate_blocks+deallocate_blocks", "`allocate_blocks` + `deallocate_blocks`"),
    ("SyncStalloc pair", "same on `SyncStalloc`"),
    ("alloc(4096)+free", "`alloc(4096)` + `free`"),
    ("with scoped(4096)", "`with scoped(4096)`"),
    ("with stack.frame(4096)", "`with stack.frame(4096)`"),
    ("stack.uninit(4096, fn)", "`stack.uninit(4096, fn)`"),
    ("with stalloc.frame(4096)", "`with stalloc.frame(4096)` (the thread's default stack)"),
    ("stalloc.uninit(4096, fn)", "`stalloc.uninit(4096, fn)`"),
    ("alloca(4096, fn)", "`alloca(4096, fn)`"),
    ("bytearray(4096)", "`bytearray(4096)`"),
    ("memoryview slice 4096", "memoryview slice (the floor for a view)"),
    ("empty loop", "empty loop iteration"),
)


# -- numbers ---------------------------------------------------------------------------------


def fmt_ns(ns):
    """A duration for people: 87 ns, 1.23 us, 45.6 us, 1.2 ms."""
    if ns is None:
        return "-"
    if ns < 1000:
        return "%d ns" % round(ns)
    if ns < 10_000:
        return "%.2f us" % (ns / 1e3)
    if ns < 1_000_000:
        return "%.1f us" % (ns / 1e3)
    return "%.2f ms" % (ns / 1e6)


def us(ns):
    """Microseconds, 2-3 significant digits, for the README's dense cells."""
    u = ns / 1e3
    if u < 10:
        return "%.2f" % u
    if u < 100:
        return "%.1f" % u
    return "%d" % round(u)


def fmt_bytes(n):
    if n is None:
        return "-"
    if abs(n) < 1024:
        return "%d B" % n
    if abs(n) < 1024 * 1024:
        return "%.1f KiB" % (n / 1024)
    return "%.2f MiB" % (n / 1024 / 1024)


def fmt_rate(r):
    if r >= 1e6:
        return "%.2fM" % (r / 1e6)
    if r >= 1e3:
        return "%.0fk" % (r / 1e3)
    return "%.0f" % r


def ratio(x):
    if x is None:
        return "-"
    return "%.0fx" % x if x >= 20 else "%.1fx" % x if x >= 2 else "%.2fx" % x


def find(rows, name):
    for row in rows:
        if row["contender"] == name:
            return row
    return None


def mean_of(rows, name):
    row = find(rows, name)
    return None if row is None else row.get("mean_ns")


def vs_bytearray(rows, row):
    """How many times faster than bytearray(n) this contender is (batch means)."""
    ba = mean_of(rows, "bytearray(n)")
    mine = row.get("mean_ns")
    return None if not ba or not mine else ba / mine


def vs_slice(rows, row):
    """How many times a bare memoryview slice this contender costs (batch means)."""
    sl = mean_of(rows, "floor: slice")
    mine = row.get("mean_ns")
    return None if not sl or not mine else mine / sl


def micro_runs(run):
    """{live KiB: {name: ns}} of one runtime."""
    return {r["live_kib"]: r["ns"] for r in run["micro"]["runs"]}


def runtime_text(run):
    rt = run["runtime"]
    name = "CPython" if rt["implementation"] == "cpython" else "MicroPython"
    text = "%s %s" % (name, rt["version"])
    if rt["implementation"] == "micropython":
        text += ", %s" % ("viper" if rt["accelerated"] else "pure")
        if "board" in rt:
            text += ", virtual board (%s)" % rt["board"]
        elif "heapsize" in rt:
            text += ", -X heapsize=%s" % rt["heapsize"]
            if run["micro"].get("heapsize"):
                text += " (micro-benchmarks: %s)" % run["micro"]["heapsize"]
    return text


def workload_names(results):
    names = []
    for run in results["runs"]:
        for w in run["workloads"]:
            if w["name"] not in names:
                names.append(w["name"])
    return names


def workload(run, name):
    for w in run["workloads"]:
        if w["name"] == name:
            return w
    return None


# -- targets (the micro-benchmarks) -----------------------------------------------------------


def targets(results):
    """The issue's target ratios, as lines of text, from the micro-benchmarks."""
    runs = {run["key"]: run for run in results["runs"]}
    lines = []
    mpy = runs.get("mpy")
    if mpy is not None:
        m = micro_runs(mpy)
        t0 = m[0]
        tl = m.get(1024)

        def net(t, name):
            return t[name] - t["empty loop"]

        pair, bare = "allocate_blocks+deallocate_blocks", "two bare method calls"
        r = t0[pair] / t0[bare]
        text = "integer pair vs two bare method calls: **%.2fx** gross, %.2fx net of an " % (
            r,
            net(t0, pair) / net(t0, bare),
        )
        text += "empty loop"
        if tl:
            text += " (with 1 MiB live: %.2fx / %.2fx)" % (
                tl[pair] / tl[bare],
                net(tl, pair) / net(tl, bare),
            )
        text += "; target <= 3x: **%s**" % ("met" if r <= 3 else "not met")
        lines.append(text)
        # Issue 11's zero-GC views: each against bytearray(4096) (>= 20x / 25x cheaper)
        # and against its floor (the integer pair; fn(mv[a:b]) on a preallocated view).
        for form, short, times, floor, fshort, most in (
            ("alloc(4096)+free", "`alloc(4096)` + `free`", 20, pair, "the integer pair", 1.6),
            ("stack.uninit(4096, fn)", "`uninit(4096, fn)`", 25, "fn(mv[a:b])", None, 3.5),
            (
                "stack.uninit_slice(4096, fn)",
                "`uninit_slice(4096, fn)`",
                25,
                "fn(mv[a:b])",
                None,
                3.5,
            ),
        ):
            if form not in t0 or floor not in t0:
                continue
            cheaper, over = _view_ratios(t0, form, floor)
            lines.append(
                "%s: **%s** cheaper than `bytearray(4096)` (target >= %dx: **%s**), **%s** "
                "%s (target <= %sx: **%s**)"
                % (
                    short,
                    ratio(cheaper),
                    times,
                    "met" if cheaper >= times else "not met",
                    "%.2fx" % over,
                    fshort or "a view's slice passed to fn",
                    most,
                    "met" if over <= most else "not met",
                )
            )
    for key, what in (("mpy", "unix port"), ("cpython", "CPython")):
        run = runs.get(key)
        if run is None:
            continue
        t0 = micro_runs(run)[0]
        sl = "memoryview slice 4096"
        parts = []
        worst = 0
        for form, short in (
            ("with stack.frame(4096)", "`with` frame"),
            ("stack.uninit(4096, fn)", "closure (`uninit`)"),
        ):
            r = t0[form] / t0[sl]
            worst = max(worst, min(r, 1e9))
            parts.append("%s **%s**" % (short, ratio(r)))
        lines.append(
            "a 4 KiB frame vs a bare memoryview slice on %s: %s; target <= 2x: **%s**"
            % (what, ", ".join(parts), "met" if worst <= 2 else "not met")
        )
    return lines


def _view_ratios(t0, form, floor):
    """(times cheaper than bytearray(4096), times `floor`) of one micro-benchmark."""
    return t0["bytearray(4096)"] / t0[form], t0[form] / t0[floor]


def speed_summary(results):
    """The README's speed sentence (between SUMMARY_BEGIN and SUMMARY_END), the figures
    of this run's targets; None without a unix port viper run."""
    run = next((run for run in results["runs"] if run["key"] == "mpy"), None)
    if run is None:
        return None
    t0 = micro_runs(run)[0]
    alloc = _view_ratios(t0, "alloc(4096)+free", "allocate_blocks+deallocate_blocks")
    uninit = _view_ratios(t0, "stack.uninit(4096, fn)", "fn(mv[a:b])")
    return speed_summary_text(
        ratio(alloc[0]), "%.2fx" % alloc[1], ratio(uninit[0]), "%.2fx" % uninit[1]
    )


def speed_summary_text(alloc_cheaper, alloc_over, uninit_cheaper, uninit_over):
    """The sentence with its four figures, as docs/performance.md's targets write them."""
    return (
        _wrap(
            "Speed on the MicroPython unix port with viper, from the run in "
            "[docs/performance.md](docs/performance.md) (`tools/bench.py --readme` writes both): "
            "`alloc(4096)` + `free` is %s cheaper than `bytearray(4096)` and %s the integer "
            "pair; `uninit(4096, fn)` %s cheaper than `bytearray(4096)` and %s `fn(mv[a:b])`."
            % (alloc_cheaper, alloc_over, uninit_cheaper, uninit_over)
        )
        + "\n"
    )


# -- the terminal ------------------------------------------------------------------------------


def print_tables(console, results):
    from rich import box
    from rich.table import Table

    console.print(
        "[bold]stalloc benchmarks[/bold] %s, %s, %s s; ratios within one runtime"
        % (results["date"], results["machine"], results.get("seconds", "?"))
    )
    for run in results["runs"]:
        console.print("  %s: %s" % (run["label"], runtime_text(run)))
    for name in workload_names(results):
        table = None
        for run in results["runs"]:
            w = workload(run, name)
            if w is None:
                continue
            if table is None:
                table = Table(
                    title="%s: %s (%d ops; times in us per operation)"
                    % (name, w["description"], w["ops"]),
                    box=box.SIMPLE_HEAVY,
                    title_justify="left",
                )
                table.add_column("contender")
                for col in TERMINAL_COLUMNS:
                    table.add_column(col, justify="right")
            else:
                table.add_section()
            table.add_row("[bold cyan]%s[/bold cyan]" % run["label"])
            rows = w["contenders"]
            for row in rows:
                style = {"stalloc": "bold", "floor": "dim"}.get(row["kind"])
                if row.get("setup_failed"):
                    table.add_row(row["contender"], "no room for the setup", style=style)
                    continue
                table.add_row(
                    row["contender"],
                    us(row["mean_ns"]) if "mean_ns" in row else "-",
                    us(row["median_ns"]),
                    us(row["p99_ns"]),
                    us(row["worst_ns"]),
                    fmt_rate(row["ops_per_s"]) if "ops_per_s" in row else "-",
                    "%.1f" % (row["peak_bytes"] / 1024),
                    str(row["collections"]),
                    str(row["failures"]),
                    ratio(vs_bytearray(rows, row)),
                    ratio(vs_slice(rows, row)),
                    style=style,
                )
        if table is not None:
            console.print(table)
    console.print(
        "  mean: the sequence timed at once (best of rounds) / ops; median, p99, worst: each "
        "operation timed alone (MicroPython: 1 us clock); peak KiB: memory held at once, "
        "setup included; GCs: collections; fail: MemoryError/AllocError; x bytearray: how "
        "many times faster than bytearray(n); x slice: how many bare slices it costs"
    )

    table = Table(
        title="micro-benchmarks (best of rounds, per iteration)",
        box=box.SIMPLE_HEAVY,
        title_justify="left",
    )
    table.add_column("loop")
    cols = []
    for run in results["runs"]:
        for kib, ns in sorted(micro_runs(run).items()):
            label = run["label"] + (", %d KiB live" % kib if kib else "")
            table.add_column(label, justify="right")
            cols.append(ns)
    for name, _ in MICRO_ROWS:
        table.add_row(name, *[fmt_ns(ns.get(name)) for ns in cols])
    console.print(table)
    for line in targets(results):
        console.print("  - " + line.replace("**", ""))


# -- plots -------------------------------------------------------------------------------------


def _grouped_bars(ax, runs, name, colors, height):
    """Bars of workload `name` on a log scale: one group per contender, one bar per runtime
    in it, height(row) each. Returns the contenders' names (the x ticks) and, per runtime
    drawn, (x positions, its rows, its colour)."""
    width = 0.8 / max(1, len(runs))
    contenders, drawn = [], []
    for r, run in enumerate(runs):
        w = workload(run, name)
        if w is None:
            continue
        rows = w["contenders"]
        if not contenders:
            contenders = [row["contender"] for row in rows]
        xs = [c + (r - (len(runs) - 1) / 2) * width for c in range(len(rows))]
        color = colors[r % len(colors)]
        ax.bar(xs, [height(row) for row in rows], width, label=run["label"], color=color)
        drawn.append((xs, rows, color))
    ax.set_yscale("log")
    ax.set_xticks(range(len(contenders)))
    return contenders, drawn


def plots(results, folder):
    """Write the PNGs; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    written = []
    names = workload_names(results)
    runs = results["runs"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    stamp = "%s, %s" % (results["date"], results["machine"])

    # 1. mean (bar) and worst case (marker) per contender, per runtime, one row per workload
    fig, axes = plt.subplots(len(names), 1, figsize=(12, 4.2 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        contenders, drawn = _grouped_bars(
            ax, runs, name, colors, lambda row: row.get("mean_ns", 0) / 1e3
        )
        for xs, rows, color in drawn:
            worst = [row.get("worst_ns", 0) / 1e3 for row in rows]
            ax.scatter(xs, worst, marker="v", color=color, edgecolor="black", zorder=3)
        ax.set_ylabel("us per operation")
        ax.set_title("%s: mean (bar) and worst case (triangle)" % name)
        ax.set_xticklabels(contenders, rotation=15, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("stalloc benchmarks, %s" % stamp, fontsize=9)
    fig.tight_layout()
    written.append(_save(fig, folder, "latency.png"))

    # 2. peak memory per contender, per runtime
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        contenders, _ = _grouped_bars(
            ax, runs, name, colors, lambda row: max(row.get("peak_bytes", 0), 1) / 1024
        )
        ax.set_ylabel("peak KiB (setup included)")
        ax.set_title(name)
        ax.set_xticklabels(contenders, rotation=30, ha="right", fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("peak memory, %s" % stamp, fontsize=9)
    fig.tight_layout()
    written.append(_save(fig, folder, "memory.png"))

    # 3. per-operation latency distribution, one figure per workload, one panel per runtime
    for name in names:
        fig, axes = plt.subplots(1, len(runs), figsize=(4.5 * len(runs), 4), squeeze=False)
        for ax, run in zip(axes[0], runs, strict=True):
            w = workload(run, name)
            if w is None:
                continue
            for c, row in enumerate(w["contenders"]):
                hist = row.get("hist_log2_ns")
                if not hist:
                    continue
                total = float(sum(hist))
                # bucket b holds [2**(b-1), 2**b) ns (bucket 0: 0 ns, below the clock);
                # plotted: the fraction of operations taking at least each lower bound,
                # so the tail (the collections) stays visible on a log scale
                xs, ys = [], []
                left = total
                for b in range(len(hist)):
                    if b:
                        xs.append(2 ** (b - 1) / 1e3)
                        ys.append(left / total)
                    left -= hist[b]
                kind = row["kind"]
                ax.step(
                    xs,
                    ys,
                    where="post",
                    linestyle="-" if kind == "stalloc" else "--" if kind == "today" else ":",
                    label=row["contender"],
                    color=colors[c % len(colors)],
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlim(left=0.05)
            ax.set_ylim(bottom=0.5 / w["ops"], top=1.5)
            ax.set_xlabel("us per operation (log2 buckets)")
            ax.set_title(run["label"], fontsize=9)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("fraction of operations taking at least x")
        axes[0][0].legend(fontsize=7)
        fig.suptitle(
            "%s: per-operation latency distribution (the tail is where collections show), %s"
            % (name, stamp),
            fontsize=9,
        )
        fig.tight_layout()
        written.append(_save(fig, folder, "distribution_%s.png" % name))
    return written


def _save(fig, folder, name):
    import matplotlib.pyplot as plt

    path = os.path.join(folder, name)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# -- the README ----------------------------------------------------------------------------------


def readme_section(results):
    """The Markdown between the markers."""
    runs = results["runs"]
    out = []
    first = runs[0] if runs else {"ops": 0, "rounds": 0}
    out.append(
        _wrap(
            "Generated on %s (%s; the whole run took %s s) by the command below. Ratios mean "
            "something within one runtime of one run: this VM is noisy, absolute times move "
            "by up to 30 %% between runs."
            % (results["date"], results["machine"], results.get("seconds", "?"))
        )
    )
    out.append("")
    out.append("```sh")
    out.append(results["command"])
    out.append("```")
    out.append("")
    out.append("Runtimes:")
    out.append("")
    for run in runs:
        out.append(_wrap("- *%s*: %s" % (run["label"], runtime_long(run)), indent="  "))
    out.append("")
    out.append("#### Workloads")
    out.append("")
    out.append(
        _wrap(
            "%d operations per workload, one seeded sequence, the same on every runtime "
            "(`tools/_bench_child.py`). *mean*: the whole sequence timed at once (best of %d), "
            "divided by the operations; *median* and *worst*: each operation timed alone "
            "(MicroPython's clock ticks in whole microseconds: 0 or 1 there means below the "
            "clock); *peak*: memory held at once, setup included (MicroPython: GC heap in use, "
            "garbage not yet collected included; CPython: tracemalloc); *GCs*: collections "
            "during the run (MicroPython: drops of `gc.mem_alloc()` of 4 KiB or more between "
            "operations; CPython: `gc.callbacks`, every generation); *fail*: `MemoryError` "
            "or `AllocError` (the run goes on); *x faster*: `bytearray(n)`'s mean over this "
            "one's." % (first["ops"], first["rounds"])
        )
    )
    heads = [run["label"] for run in runs]
    for name in workload_names(results):
        desc = None
        for run in runs:
            w = workload(run, name)
            if w is not None:
                desc = w["description"]
                contenders = [row["contender"] for row in w["contenders"]]
                break
        out.append("")
        out.append("**%s**: %s; mean / median / worst, us per operation" % (name, desc))
        out.append("")
        out.append("| | " + " | ".join(heads) + " |")
        out.append("|---|" + "---|" * len(heads))
        for c in contenders:
            cells = []
            for run in runs:
                w = workload(run, name)
                row = find(w["contenders"], c) if w else None
                if row is None or row.get("setup_failed") or "mean_ns" not in row:
                    cells.append("no room" if row and row.get("setup_failed") else "-")
                else:
                    cells.append(
                        "%s / %s / %s"
                        % (us(row["mean_ns"]), us(row["median_ns"]), us(row["worst_ns"]))
                    )
            out.append("| %s | %s |" % (_label(c), " | ".join(cells)))
        out.append("")
        out.append("**%s**: x faster than `bytearray(n)` · peak · GCs · fail" % name)
        out.append("")
        out.append("| | " + " | ".join(heads) + " |")
        out.append("|---|" + "---|" * len(heads))
        for c in contenders:
            cells = []
            for run in runs:
                w = workload(run, name)
                row = find(w["contenders"], c) if w else None
                if row is None or row.get("setup_failed"):
                    cells.append("no room" if row else "-")
                else:
                    cells.append(
                        "%s · %s · %d · %d"
                        % (
                            ratio(vs_bytearray(w["contenders"], row)),
                            fmt_bytes(row["peak_bytes"]),
                            row["collections"],
                            row["failures"],
                        )
                    )
            out.append("| %s | %s |" % (_label(c), " | ".join(cells)))
    out.append("")
    out.append("#### Micro-benchmarks")
    out.append("")
    counts = []
    for run in runs:
        impl = "CPython" if run["runtime"]["implementation"] == "cpython" else "MicroPython"
        text = "%d on %s" % (run["micro"]["n"], impl)
        if text not in counts:
            counts.append(text)
    rounds = runs[0]["micro"]["rounds"] if runs else 0
    out.append(
        _wrap(
            "Tight loops of one operation, best of %d interleaved rounds (iterations: %s); ns "
            "per iteration, the loop included. *1 MiB live*: the same with 1 MiB of small "
            "bytearrays kept alive on the GC heap, as an application would."
            % (rounds, ", ".join(counts))
        )
    )
    out.append("")
    cols = []
    for run in runs:
        for kib, ns in sorted(micro_runs(run).items()):
            label = run["label"] + (
                ", 1 MiB live" if kib == 1024 else ", %d KiB live" % kib if kib else ""
            )
            cols.append((label, ns))
    out.append("| per operation | " + " | ".join(c[0] for c in cols) + " |")
    out.append("|---|" + "---:|" * len(cols))
    for name, label in MICRO_ROWS:
        out.append(
            "| %s | %s |"
            % (
                label,
                " | ".join("%d ns" % round(ns[name]) if name in ns else "-" for _, ns in cols),
            )
        )
    out.append("")
    out.append("Against the targets (unix port with viper unless said):")
    out.append("")
    for line in targets(results):
        out.append(_wrap("- " + line, indent="  "))
    return "\n".join(out) + "\n"


def _wrap(text, indent=""):
    import textwrap

    return textwrap.fill(
        text,
        width=92,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def heap_text(size):
    """'2M' -> '2 MiB', '512k' -> '512 KiB'."""
    size = str(size)
    for suffix, unit in (("k", "KiB"), ("K", "KiB"), ("M", "MiB"), ("m", "MiB")):
        if size.endswith(suffix):
            return "%s %s" % (size[:-1], unit)
    return size + " bytes"


def runtime_long(run):
    """One runtime for the README: what ran, where, with which GC heap."""
    rt = run["runtime"]
    if rt["implementation"] == "cpython":
        return "CPython %s, this machine's interpreter, the pure-Python library" % rt["version"]
    kernels = "viper kernels" if rt["accelerated"] else "pure-Python kernels (`STALLOC_PURE=1`)"
    if "board" in rt:
        return (
            "MicroPython %s unix port as a virtual board (`tools/vboard.py`): a %s GC heap, "
            "LittleFS2, the library as `.mpy` (`tools/build.py`) copied and run with "
            "`mpremote`, %s" % (rt["version"], heap_text(rt.get("heapsize", "?")), kernels)
        )
    text = "MicroPython %s unix port, %s, workloads with a %s GC heap" % (
        rt["version"],
        kernels,
        heap_text(rt.get("heapsize", "?")),
    )
    if run["micro"].get("heapsize"):
        text += ", micro-benchmarks with %s" % heap_text(run["micro"]["heapsize"])
    return text


def _label(contender):
    if contender.startswith("floor: "):
        return "floor: " + contender[7:]
    return "`%s`" % contender if "(" in contender or "." in contender else contender


def rewrite_readme(path, section, begin=BEGIN, end=END):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError("%s has no %s ... %s markers" % (path, begin, end))
    new = pattern.sub(lambda m: begin + "\n" + section + end, text, count=1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
