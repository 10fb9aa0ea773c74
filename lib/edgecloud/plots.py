"""One plot theme for every notebook, and one function per figure; each figure labels the kind of its numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import NullFormatter, ScalarFormatter

BLUE = "#3b6ea5"


def theme() -> None:
    """Apply the workbook theme and render figures as inline SVG (crisp, self-contained, no scripts)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update(
        {
            "figure.figsize": (8, 4.2),
            "figure.dpi": 100,
            "svg.fonttype": "none",
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")
    except ImportError:  # outside IPython
        pass


def finish(ax: plt.Axes, title: str, xlabel: str, ylabel: str, kind: str = "measured") -> None:
    """Title, axis labels with units, and the kind of every number on the figure."""
    ax.set_title(f"{title}  [{kind}]")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.tight_layout()


def ceilings(table: pd.DataFrame) -> None:
    """Median rate with CI per kernel (GEMM per shape) and thread count."""
    _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    flat = table.reset_index()
    for ax, kernel, unit in zip(axes, ["gemm", "triad"], ["GFLOP/s", "GB/s"], strict=True):
        part = flat[flat.kernel == kernel]
        labels = [
            f"{t}t" + (f" n={s}" if kernel == "gemm" else "") for t, s in zip(part.threads, part["size"], strict=True)
        ]
        ax.bar(labels, part.rate, yerr=[part.rate - part.rate_low, part.rate_high - part.rate], capsize=4, color=BLUE)
        ax.scatter(labels, part.best, color="k", marker="_", s=200, label="fastest repeat", zorder=3)
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", rotation=30)
        finish(ax, f"{kernel.upper()} ceiling", "threads (and GEMM side)", unit)


def anatomy(table: pd.DataFrame) -> None:
    pivot = table.pivot_table(index="request", columns="stage", values="p50_ms", sort=False)
    ax = pivot.plot.barh(stacked=True, figsize=(9, 3.2))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, fontsize=8)
    finish(ax, "Where the time of one request goes (p50 per stage)", "milliseconds", "")


def architecture(arch: pd.DataFrame, threads: int) -> None:
    """Latency against FLOPs (with the compute floor) and against parameters."""
    data = arch.reset_index()
    _, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, col, label in zip(axes, ["GFLOP", "M params"], ["GFLOP per sample", "parameters, millions"], strict=True):
        sns.scatterplot(data=data, x=col, y="p50_ms", hue="model", s=80, ax=ax, legend=col == "GFLOP")
        ax.set(xscale="log", yscale="log")
        if col == "GFLOP":
            floor = data.sort_values("GFLOP")
            ax.plot(floor.GFLOP, floor.floor_ms, "k--", lw=1, label="compute floor")
            ax.set_ylim(bottom=data.p50_ms.min() / 3)
            ax.legend(fontsize=8)
        finish(ax, f"Latency vs {label}", f"{label} (log)", f"p50 latency, ms, {threads} threads (log)")


def accuracy(images: pd.DataFrame) -> None:
    data = images.reset_index()
    ax = sns.scatterplot(data=data, x="p50_ms", y="top1", hue="model", s=90)
    front = data[data.on_front].sort_values("p50_ms")
    ax.plot(front.p50_ms, front.top1, "k-", lw=1, label="Pareto front")
    ax.legend(fontsize=8)
    finish(
        ax,
        "Accuracy vs latency (image classifiers)",
        "p50 latency, ms (measured)",
        "ImageNet top-1, % (sourced)",
        kind="measured × sourced",
    )
    plt.show()


def sweeps(table: pd.DataFrame, models: list[str]) -> None:
    _, axes = plt.subplots(1, len(models) + 1, figsize=(13, 3.8))
    for ax, name in zip(axes[:-1], models, strict=True):
        part = table[(table.model == name) & (table.axis == "size")]
        ax.errorbar(
            part["size"],
            part.p50_ms,
            yerr=[part.p50_ms - part.p50_low_ms, part.p50_high_ms - part.p50_ms],
            marker="o",
            capsize=3,
        )
        finish(ax, f"{name}: latency vs input size", "input size (px side or tokens)", "p50 latency, ms")
    sns.lineplot(data=table[table.axis == "batch"], x="batch", y="samples_per_s", hue="model", marker="o", ax=axes[-1])
    finish(axes[-1], "Throughput vs batch size", "batch size", "samples / s")


def speedups(mech: pd.DataFrame) -> None:
    g = sns.catplot(
        data=mech, x="model", y="speedup_vs_eager", hue="config", col="threads", kind="bar", height=3.6, aspect=1.5
    )
    g.set_xticklabels(rotation=30)
    g.set_axis_labels("", "speed-up over eager fp32 (×)")
    g.figure.suptitle("Speed-up by runtime and precision, batch 1  [measured]", y=1.04)
    plt.show()


def breakdown(parts: pd.DataFrame) -> None:
    ax = parts.plot.barh(stacked=True, figsize=(9, 3.8))
    ax.legend(fontsize=8, loc="lower right")
    finish(ax, "Where a served request spends its time (p50 per stage)", "milliseconds", "protocol / payload")


def ecdf(curves: pd.DataFrame) -> None:
    ax = sns.ecdfplot(data=curves, x="latency_ms", hue="label")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    finish(ax, "Latency ECDF per target (loopback for cloud)", "latency, ms (log)", "fraction of requests")


def batch_throughput(table: pd.DataFrame) -> None:
    ax = sns.lineplot(data=table, x="batch", y="samples_per_s", hue="target", marker="o")
    finish(ax, "Throughput vs batch size", "images per call", "images / s")


def concurrency(conc: pd.DataFrame) -> None:
    _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    sns.lineplot(data=conc, x="concurrency", y="throughput_rps", hue="scenario", marker="o", ax=axes[0])
    finish(axes[0], "Throughput under concurrent clients", "concurrent clients", "requests / s")
    sns.lineplot(data=conc, x="throughput_rps", y="p99_ms", hue="scenario", marker="o", ax=axes[1])
    finish(axes[1], "Latency–throughput curve", "requests / s", "p99 latency, ms")


def network(net: pd.DataFrame, edge_label: str, edge_p50: float) -> None:
    """RTTs against the fiber floor, and modeled end-to-end p50 per profile against the fastest edge target."""
    data = net.reset_index()
    warm = data[data.connection == "warm connection"]
    _, axes = plt.subplots(1, 2, figsize=(12, 4))
    axes[0].bar(warm.network, warm["rtt_ms (sourced)"], label="profile RTT (sourced)", color="#9cb8d9")
    axes[0].bar(warm.network, warm.floor_ms, label="fiber propagation floor (modeled)", color="#2b4c7e")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    axes[0].tick_params(axis="x", rotation=30)
    finish(axes[0], "RTT against the propagation floor", "", "ms (log)", kind="sourced × modeled")
    sns.barplot(data=data, x="network", y="e2e_p50_ms", hue="connection", ax=axes[1])
    axes[1].axhline(edge_p50, color="k", ls="--", lw=1, label=f"{edge_label} (measured)")
    axes[1].set_yscale("log")
    axes[1].legend(fontsize=8)
    axes[1].tick_params(axis="x", rotation=30)
    finish(axes[1], "End-to-end cloud latency per network", "", "p50, ms (log)", kind="modeled")


def loadgen_server(lg: pd.DataFrame, bound_ms: float) -> None:
    srv = lg[lg.scenario == "Server"]
    ax = sns.scatterplot(data=srv, x="samples_per_s", y="p99_ms", hue="target", style="valid", s=70)
    ax.axhline(bound_ms, color="k", ls="--", lw=1)
    finish(ax, "Server scenario: p99 against achieved rate", "scheduled queries / s", "p99 latency, ms")


def margins(table: pd.DataFrame) -> None:
    """Options × use cases, coloured by the margin of the binding constraint (red fails, blue passes)."""
    _, ax = plt.subplots(figsize=(11, 5))
    sns.heatmap(
        table.clip(-1, 1),
        annot=table.map(lambda v: "n/m" if v != v else f"{v:+.0%}" if v > -10 else "≪0"),
        fmt="",
        cmap="RdBu",
        center=0,
        vmin=-1,
        vmax=1,
        cbar_kws={"label": "binding margin (clipped to ±100%)"},
        ax=ax,
    )
    ax.tick_params(axis="x", rotation=30)
    finish(ax, "Binding constraint margin per option and use case", "use case", "option", kind="measured + modeled")


def decision_map(table: pd.DataFrame) -> plt.Figure:
    """Use cases × options, coloured by the chance of meeting every requirement and labelled with the monthly cost;
    the recommendation outlined, options not modeled for a case's model family marked n/m."""
    order = {"index": pd.unique(table["use case"]), "columns": pd.unique(table.option)}
    chance = table.pivot(index="use case", columns="option", values="P(feasible)").reindex(**order)
    cost = table.pivot(index="use case", columns="option", values="USD/month").reindex(**order)
    label = cost.map(lambda v: "n/m" if v != v else f"${v / 1e3:,.1f}k" if v >= 1e3 else f"${v:,.0f}")
    fig, ax = plt.subplots(figsize=(12, 0.5 * len(chance) + 2.2))
    sns.heatmap(
        chance,
        annot=label,
        fmt="",
        cmap="RdYlGn",
        vmin=0,
        vmax=1,
        linewidths=0.5,
        annot_kws={"fontsize": 8},
        cbar_kws={"label": "chance every requirement is met"},
        ax=ax,
    )
    for i, j in zip(*np.nonzero(chance.isna().to_numpy()), strict=True):  # the heatmap leaves NaN cells blank
        ax.text(j + 0.5, i + 0.5, "n/m", ha="center", va="center", fontsize=8, color="#666")
    for i, case in enumerate(chance.index):
        chosen = table[(table["use case"] == case) & table.recommended].option
        if len(chosen):
            j = list(chance.columns).index(chosen.iloc[0])
            ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, edgecolor="black", lw=2.5))
    ax.tick_params(axis="x", rotation=30)
    finish(ax, "Which option meets every requirement, and at what monthly cost", "option", "use case", kind="modeled")
    return fig


def recommendation_sweeps(table: pd.DataFrame) -> None:
    """The recommended option along each swept input, per use case."""
    params = list(dict.fromkeys(table.parameter))
    _, axes = plt.subplots(1, len(params), figsize=(14, 4.2), sharey=True)
    for ax, param in zip(axes, params, strict=True):
        part = table[table.parameter == param]
        sns.scatterplot(
            data=part, x="scale", y="use case", hue="recommended", s=60, marker="s", ax=ax, legend=param == params[-1]
        )
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", lw=0.8, ls="--")
        finish(ax, f"Recommendation vs {param}", f"{param} × today's value (log)", "", kind="modeled")
    axes[-1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")


def what_ifs(table: pd.DataFrame) -> None:
    """Per use case, the recommended role over a grid of edge and cloud speed-ups."""
    cases = list(dict.fromkeys(table["use case"]))
    cols = 4
    rows = -(-len(cases) // cols)
    _, axes = plt.subplots(rows, cols, figsize=(13, 3.1 * rows), squeeze=False)
    code = {"edge": 0.0, "none": 0.5, "cloud": 1.0}
    for ax, case in zip(axes.flat, cases, strict=False):
        part = table[table["use case"] == case]
        grid = part.pivot_table(
            index="edge speed", columns="cloud speed", values="role", aggfunc=lambda r: code[r.iloc[0]]
        )
        sns.heatmap(grid.iloc[::-1], cmap="coolwarm", vmin=0, vmax=1, cbar=False, ax=ax, linewidths=0.5)
        ax.set_title(case, fontsize=9)
        ax.set_xlabel("cloud speed ×")
        ax.set_ylabel("edge speed ×")
    for ax in axes.flat[len(cases) :]:
        ax.axis("off")
    plt.suptitle("Recommended role: blue edge, red cloud, grey none  [modeled]", y=1.01)
    plt.tight_layout()


def outages(table: pd.DataFrame) -> None:
    shares = table[[c for c in table.columns if c != "options" and not c.startswith("$/month")]]
    data = shares.reset_index().melt(id_vars="use case", var_name="strategy", value_name="share")
    ax = sns.barplot(data=data, y="use case", x="share", hue="strategy")
    ax.set_xlim(min(0.5, data.share.min()), 1.0)
    ax.legend(fontsize=8)
    finish(ax, "Share answered within budget through outages", "share of requests", "", kind="modeled")


def tco(table: pd.DataFrame) -> None:
    """Cumulative cost of the cheapest edge and cloud options per use case, one panel each."""
    grid = sns.relplot(
        data=table,
        x="month",
        y="USD",
        hue="option",
        col="use case",
        col_wrap=4,
        kind="line",
        height=2.2,
        aspect=1.3,
        facet_kws={"sharey": False},
    )
    grid.set_titles("{col_name}")
    grid.figure.suptitle("Cumulative cost, cheapest edge vs cheapest cloud  [modeled]", y=1.03)


def cascade(table: pd.DataFrame) -> None:
    """Accuracy (with interval) against mean latency for every threshold; the frontier joined."""
    lo = table.CI.str.split(" to ").str[0].astype(float)
    hi = table.CI.str.split(" to ").str[1].astype(float)
    ax = plt.gca()
    ax.errorbar(table["mean ms"], table.accuracy, yerr=[table.accuracy - lo, hi - table.accuracy], fmt="o", capsize=3)
    front = table[table.frontier].sort_values("mean ms")
    ax.plot(front["mean ms"], front.accuracy, color=BLUE, label="frontier")
    for _, r in table.iterrows():
        label = f"{r.threshold} ({r.offloaded:.0%})"
        ax.annotate(label, (r["mean ms"], r.accuracy), fontsize=7, xytext=(4, -10), textcoords="offset points")
    ax.legend(fontsize=8)
    finish(ax, "Cascade: accuracy against mean latency (share offloaded)", "mean latency (ms)", "accuracy")


def split(predicted: pd.DataFrame, check: pd.DataFrame) -> None:
    """Predicted p50 of every cut per profile (lines) and the measured cuts (points)."""
    ax = plt.gca()
    lines = predicted.drop(columns="bytes")
    for i, profile in enumerate(lines.columns):
        color = sns.color_palette()[i]
        ax.plot(range(len(lines)), lines[profile], color=color, label=f"{profile} predicted")
        measured = check.xs(profile, level="network")
        pos = [list(lines.index).index(int(s)) for s in measured.index]
        ax.scatter(pos, measured["measured p50"], color=color, marker="x", s=60, zorder=3)
    ax.set_yscale("log")
    ax.set_xticks(range(0, len(lines), 5), [str(i) for i in lines.index[::5]], fontsize=8)
    ax.legend(fontsize=7, ncol=2)
    finish(
        ax,
        "Split computing: p50 per cut (× = measured)",
        "cut (node index; left: all cloud, right: all edge)",
        "p50 (ms)",
        kind="modeled and measured",
    )


def published(table: pd.DataFrame) -> None:
    """Published results on other hardware beside this machine's, by unit, clearly labelled."""
    _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, unit in zip(axes, ["ms", "samples/s"], strict=True):
        part = table[table.unit.str.startswith(unit)]
        colors = [BLUE if k == "measured" else "#999999" for k in part.kind]
        ax.barh(part.system, part.value, color=colors)
        ax.set_xscale("log")
        finish(ax, f"ResNet-50, {unit}", unit, "", kind="blue measured here, grey sourced")


def prefill_and_decode(timing: pd.DataFrame, prefill: pd.DataFrame, samples: pd.DataFrame, output_tokens: int) -> None:
    """Where one answer's time goes (prefill, then decode), TTFT against prompt length, and the token gap against
    context position."""
    _, axes = plt.subplots(1, 3, figsize=(14, 4))
    flat = timing.reset_index()
    labels = [f"{r.runtime} ({r.precision})" for r in flat.itertuples()]
    first, rest = flat["TTFT p50 ms"], flat["TPOT p50 ms"] * (output_tokens - 1)
    axes[0].barh(labels, first, color=BLUE, label="prefill + first token (TTFT)")
    axes[0].barh(labels, rest, left=first, color="#e1812c", label=f"decode: {output_tokens - 1} × TPOT")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[0].invert_yaxis()
    finish(axes[0], "One answer, p50", "milliseconds", "")
    for name, part in prefill.groupby("runtime", sort=False):
        axes[1].plot(part.prompt_tokens, part.prompt_tokens / part.tokens_per_s * 1e3, marker="o", label=name)
    axes[1].set(xscale="log", yscale="log", xticks=sorted(prefill.prompt_tokens.unique()))
    axes[1].xaxis.set_major_formatter(ScalarFormatter())
    axes[1].xaxis.set_minor_formatter(NullFormatter())
    axes[1].legend(fontsize=8)
    finish(axes[1], "Prefill: TTFT grows with the prompt", "prompt tokens", "TTFT, ms")
    long = samples[samples.stage == "long_gap"]
    for name, part in long.groupby("runtime", sort=False):
        gaps = part.latency_ms.to_numpy()
        position = part.input_size.iloc[0] + 1 + np.arange(len(gaps))
        axes[2].plot(position, pd.Series(gaps).rolling(9, center=True, min_periods=1).median(), label=name)
    axes[2].set(yscale="log")
    axes[2].legend(fontsize=8)
    finish(axes[2], "Decode: the gap per token", "context position, tokens", "token gap, ms (rolling median)")


def speech_latency(by_length: pd.DataFrame, timing: pd.DataFrame) -> None:
    """Every timed transcription's latency against its utterance's length, beside the encoder timed alone (its
    fixed 30-second window), and the real-time factor that follows."""
    _, axes = plt.subplots(1, 2, figsize=(12, 4))
    encoder = timing["encoder alone p50 ms"]
    for (precision, part), color in zip(by_length.groupby("precision", sort=False), sns.color_palette(), strict=False):
        axes[0].scatter(part.seconds, part.latency_ms, color=color, alpha=0.7, label=precision)
        axes[0].axhline(encoder[precision], color=color, linestyle="--", linewidth=1,
                        label=f"{precision}: encoder alone")  # fmt: skip
        axes[1].scatter(part.seconds, part.latency_ms / 1e3 / part.seconds, color=color, alpha=0.7, label=precision)
    axes[0].set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    finish(axes[0], "Latency barely grows with speech", "utterance, seconds", "latency, ms")
    axes[1].axhline(1, color="#999999", linewidth=1)
    axes[1].set(yscale="log")
    axes[1].legend(fontsize=8)
    finish(axes[1], "Real-time factor: short utterances pay most", "utterance, seconds", "latency / duration")
