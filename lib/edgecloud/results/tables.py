"""Presentation: the tables each notebook shows, built from store rows alone (the role of torch.utils.benchmark's
Compare). Notebooks call these and display the result; they never filter, pivot or add rows themselves.

Every function takes the tidy frame the store holds (Recorder.frame() for this run, or store.read()).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from edgecloud.results.query import select
from edgecloud.vocabulary import CLOUD_CPU, CLOUD_CPU_FP32, CLOUD_GPU, CLOUD_REMOTE, IN_PROCESS

DIGITS = 3
FP32_BYTES = 4
TEXT_WIDTH = 160  # characters of a text cell shown before pandas cuts it


MISSING = "—"  # how a table shows a value that does not exist (no VALID run, no interval, not applicable)


def presentation() -> None:
    """How tables display, the same in every notebook and wherever a table is rebuilt from the store."""
    pd.set_option("display.max_colwidth", TEXT_WIDTH)
    pd.set_option("display.float_format", number)
    ipython = sys.modules.get("IPython")  # only inside a kernel: a store-only process never imports it
    shell = ipython.get_ipython() if ipython else None
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, html)


def number(v: float) -> str:
    """A table's float: four significant digits, and whole numbers with thousands separators from 1000 up."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def ms(x: float) -> str:
    """Milliseconds with three significant digits, or whole ones (thousands separated) from 100 up."""
    return f"{x:.3g} ms" if x < 100 else f"{x:,.0f} ms"


def html(df: pd.DataFrame) -> str:
    """A table as pandas shows it in a notebook, with a dash where a value is missing instead of NaN or <NA>."""
    shown = df.copy()
    for i in range(shown.shape[1]):  # by position: column labels may repeat or be tuples
        column = shown.iloc[:, i]
        if pd.api.types.is_extension_array_dtype(column) and column.isna().any():
            shown.isetitem(i, column.astype(object).where(column.notna(), np.nan))
    return shown.to_html(
        na_rep=MISSING,
        notebook=True,
        max_rows=pd.get_option("display.max_rows"),
        max_cols=pd.get_option("display.max_columns"),
        show_dimensions=False,
    )


def _ci(df: pd.DataFrame) -> pd.Series:
    """'low–high' text, or '—' where no interval is published (untrusted tail)."""
    return pd.Series(
        [
            f"{lo:.{DIGITS}g}–{hi:.{DIGITS}g}" if pd.notna(lo) else "—"
            for lo, hi in zip(df.ci_low, df.ci_high, strict=True)
        ],
        index=df.index,
    )


def latency(rows: pd.DataFrame, by: list[str], **config: object) -> pd.DataFrame:
    """p50 with CI, p90, p99 (CI withheld when untrusted), mean, n and flags per configuration, in ms."""
    lat = select(rows, **config)
    lat = lat[lat.metric.isin(["latency_p50", "latency_p90", "latency_p99", "latency_mean"])]
    if lat.empty:
        return pd.DataFrame()
    wide = lat.pivot_table(index=by, columns="metric", values="value", aggfunc="first", sort=False)
    p50 = lat[lat.metric == "latency_p50"].set_index(by)
    p99 = lat[lat.metric == "latency_p99"].set_index(by)
    out = pd.DataFrame(
        {
            "p50 ms": wide["latency_p50"],
            "p50 CI": _ci(p50),
            "p90 ms": wide["latency_p90"],
            "p99 ms": wide["latency_p99"],
            "p99 CI": _ci(p99),
            "mean ms": wide["latency_mean"],
            "n": p50["n"],
            "flags": [_flags(r) for r in p99.itertuples()],
        }
    )
    return out.round(DIGITS)


def _flags(r) -> str:
    return "; ".join(x for x, on in (("noisy", r.noisy), ("p99 untrusted", r.untrusted)) if on is True)


# --- notebook 00 ---------------------------------------------------------------------------------------------


def system_description(description: dict) -> pd.DataFrame:
    """An MLPerf-style system description as a two-column table."""
    return pd.DataFrame(description.items(), columns=["property", "value"]).set_index("property")


def ceilings(rows: pd.DataFrame) -> pd.DataFrame:
    """GEMM (per shape) and triad rates per thread count: median rate with CI, and the fastest repeat."""
    typical = rows[rows.metric.isin(["gemm_rate", "triad_bandwidth"])]
    peak = rows[rows.metric.isin(["gemm_rate_peak", "triad_bandwidth_peak"])].set_index(
        ["stage", "threads", "input_size"]
    )
    out = typical.assign(
        kernel=typical.stage,
        rate=typical.value,
        rate_low=typical.ci_low,
        rate_high=typical.ci_high,
        best=[peak.loc[(r.stage, r.threads, r.input_size), "value"] for r in typical.itertuples()],
        size=typical.input_size,
    )
    cols = ["kernel", "threads", "size", "unit", "rate", "rate_low", "rate_high", "best", "n", "noisy"]
    return out[cols].set_index(["kernel", "threads", "size"]).round(2)


def ceiling(rows: pd.DataFrame, threads: int) -> dict[str, float]:
    """The roofline at a thread count: the best GEMM rate over shapes and repeats, and the best triad bandwidth."""
    at = rows[rows.threads == threads]
    return {
        "gflops": float(at[at.metric == "gemm_rate_peak"].value.max()),
        "gbs": float(at[at.metric == "triad_bandwidth_peak"].value.max()),
    }


# --- notebook 01 ---------------------------------------------------------------------------------------------


def anatomy(rows: pd.DataFrame) -> pd.DataFrame:
    """p50 per stage of one image and one text request, with each stage's share of its request."""
    st = select(rows, "latency_p50", scenario="anatomy")
    out = pd.DataFrame({"request": st.model, "stage": st.stage, "p50_ms": st.value, "n": st.n, "noisy": st.noisy})
    out["share"] = out.p50_ms / out.groupby("request").p50_ms.transform("sum")
    return out.reset_index(drop=True).round(DIGITS)


def mechanisms(rows: pd.DataFrame) -> pd.DataFrame:
    """Every model × runtime-precision × threads at batch 1: p50, speed-up over eager fp32 (with its block-bootstrap
    CI, as notebook 01 stored it), size, fp32 parity or int8 agreement, task quality and cold start."""
    lat = select(rows, "latency_p50", scenario="runtimes")
    keys = ["model", "runtime", "precision", "threads"]
    out = lat[keys].assign(p50_ms=lat.value.to_numpy(), noisy=lat.noisy.to_numpy()).reset_index(drop=True)
    out["config"] = out.runtime + "-" + out.precision
    extra = rows[rows.scenario == "runtimes"].pivot_table(index=keys, columns="metric", values="value", aggfunc="first")
    notes = rows[rows.metric.isin(["max_abs_diff", "top1_agreement", "cosine_similarity", "decision_agreement"])]
    parity = notes.set_index(keys)
    out = out.join(extra[[c for c in ("model_size", "load_time") if c in extra]], on=keys)
    out["parity_metric"] = [parity.metric.get(tuple(k), "") for k in out[keys].itertuples(index=False)]
    out["parity"] = [parity.value.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    out["parity_meaning"] = [parity.note.get(tuple(k), "") for k in out[keys].itertuples(index=False)]
    out["parity_low"] = [parity.ci_low.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    out["parity_high"] = [parity.ci_high.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    out["n_parity"] = [parity.n.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    quality = rows[rows.metric.isin(["accuracy", "average_precision"])].set_index(keys)
    out["quality_metric"] = [quality.metric.get(tuple(k), "") for k in out[keys].itertuples(index=False)]
    out["quality"] = [quality.value.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    speed = select(rows, "speedup_vs_eager", scenario="runtimes").set_index(keys)
    out["speedup_vs_eager"] = [speed.value.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    out["speedup_low"] = [speed.ci_low.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    out["speedup_high"] = [speed.ci_high.get(tuple(k), np.nan) for k in out[keys].itertuples(index=False)]
    return out.round(DIGITS)


def int8_fidelity(rows: pd.DataFrame) -> pd.DataFrame:
    """int8 against fp32 per model with real or trained weights (the fewest threads): top-1 or decision agreement
    with its Wilson CI, and for image classifiers int8's top-1 within fp32's top 5 and agreement where fp32 is
    confident."""
    keys = ["model", "runtime", "precision", "threads"]
    agree = rows[rows.metric.isin(["top1_agreement", "decision_agreement"]) & (rows.precision == "int8")]
    agree = agree[agree.threads == agree.threads.min()].set_index(keys)
    out = pd.DataFrame(
        {
            "metric": agree.metric,
            "agreement": agree.value,
            "ci_low": agree.ci_low,
            "ci_high": agree.ci_high,
            "n": agree.n,
        }
    )
    for metric in ("top1_in_fp32_top5", "top1_agreement_confident", "confident_share"):
        more = rows[rows.metric == metric].set_index(keys).value
        out[metric] = [more.get(k, np.nan) for k in out.index]
    return out.reset_index(level=["runtime", "precision", "threads"], drop=True).round(DIGITS)


def mechanisms_wide(mech: pd.DataFrame) -> pd.DataFrame:
    """The mechanisms table one row per model and runtime-precision, thread counts side by side."""
    wide = mech.pivot_table(index=["model", "config"], columns="threads", values=["p50_ms", "speedup_vs_eager"])
    wide.columns = [f"{v} @{t}t" for v, t in wide.columns]
    cols = ["model_size", "parity_metric", "parity", "quality_metric", "quality", "load_time"]
    extra = mech.groupby(["model", "config"])[[c for c in cols if c in mech]].first()
    return wide.join(extra).round(DIGITS)


def architecture(rows: pd.DataFrame, roofline: dict[str, float], threads: int) -> pd.DataFrame:
    """ONNX Runtime fp32 latency at `threads` against FLOPs, parameters and the compute floor (FLOPs ÷ ceiling);
    a ratio below 1 means the model beat the ceiling, which is then no ceiling, and is flagged. On the roofline, a
    model's intensity is FLOPs per byte of fp32 weights (each weight read once: an upper bound), memory-bound left
    of the ridge; roof_share is achieved GFLOP/s ÷ the roof at that intensity."""
    lat = select(rows, "latency_p50", runtime="ort", precision="fp32", threads=threads, scenario="runtimes")
    flops = select(rows, "flops").set_index("model").value
    params = select(rows, "parameters").set_index("model").value
    out = pd.DataFrame({"model": lat.model, "p50_ms": lat.value}).set_index("model")
    out["GFLOP"], out["M params"] = flops / 1e9, params / 1e6
    out["floor_ms"] = out.GFLOP / roofline["gflops"] * 1e3
    out["achieved_gflops"] = out.GFLOP / (out.p50_ms / 1e3)
    out["floor_ratio"] = out.p50_ms / out.floor_ms
    out["beats_ceiling"] = out.floor_ratio < 1
    out["flop_per_byte"] = out.GFLOP * 1e9 / (out["M params"] * 1e6 * FP32_BYTES)
    out["bound"] = np.where(out.flop_per_byte < roofline["gflops"] / roofline["gbs"], "memory", "compute")
    out["roof_share"] = out.achieved_gflops / np.minimum(roofline["gflops"], out.flop_per_byte * roofline["gbs"])
    return out.apply(lambda c: c.map(lambda v: float(f"{v:.4g}")) if c.dtype.kind == "f" else c)


def sweeps(rows: pd.DataFrame) -> pd.DataFrame:
    """Latency against input size and batch size, with samples per second."""
    lat = rows[(rows.metric == "latency_p50") & rows.scenario.isin(["size-sweep", "batch-sweep"])]
    out = pd.DataFrame(
        {
            "model": lat.model,
            "axis": lat.scenario.str.removesuffix("-sweep"),
            "size": lat.input_size,
            "batch": lat.batch,
            "p50_ms": lat.value,
            "p50_low_ms": lat.ci_low,
            "p50_high_ms": lat.ci_high,
        }
    ).reset_index(drop=True)
    out["samples_per_s"] = out.batch / (out.p50_ms / 1e3)
    return out.round(DIGITS)


def outputs(rows: pd.DataFrame) -> pd.DataFrame:
    """What each model returns: description, shape and dtype, raw bytes, JSON answer bytes and an example."""
    raw = select(rows, "output_bytes").set_index("model")
    parts = raw.note.str.split(" \\| ", n=2, expand=True)
    out = pd.DataFrame({"output": parts[0], "shape and dtype": parts[1], "raw_bytes": raw.value.astype(int)})
    out["json_bytes"] = select(rows, "answer_json_bytes").set_index("model").value.astype(int)
    out["example"] = parts[2]
    return out


def models(rows: pd.DataFrame) -> pd.DataFrame:
    """The models measured: task and weights."""
    p = select(rows, "parameters").set_index("model")
    parts = p.note.str.split("; ", n=1, expand=True)
    return pd.DataFrame({"task": parts[0], "weights": parts[1]})


# --- notebook 02 ---------------------------------------------------------------------------------------------


def edge(rows: pd.DataFrame) -> pd.DataFrame:
    """Edge targets in-process at batch 1."""
    edge = rows[(rows.network == "none") & (rows.target != IN_PROCESS)]
    return latency(edge, ["target", "runtime", "precision", "threads"], batch=1)


def cloud(rows: pd.DataFrame) -> pd.DataFrame:
    """cloud-cpu on loopback per protocol × payload: latency, bytes each way, in-process p50 and serving overhead."""
    served = latency(rows, ["protocol", "payload"], target=CLOUD_CPU, network="loopback", batch=1)
    local = select(rows, "latency_p50", target=IN_PROCESS).set_index(["protocol", "payload"]).value
    over = select(rows, "serving_overhead_p50").set_index(["protocol", "payload"])
    up = select(rows, "payload_bytes").set_index(["protocol", "payload"]).value
    down = select(rows, "response_bytes").set_index(["protocol", "payload"]).value
    served["bytes up"] = up.astype(int)
    served["bytes down"] = down.astype(int)
    served["in-process p50 ms"] = local
    served["overhead p50 ms"] = over.value
    served["overhead CI"] = _ci(over)
    return served[
        [
            "p50 ms",
            "p50 CI",
            "p99 ms",
            "bytes up",
            "bytes down",
            "in-process p50 ms",
            "overhead p50 ms",
            "overhead CI",
            "n",
            "flags",
        ]
    ].round(DIGITS)


def extra_targets(rows: pd.DataFrame) -> pd.DataFrame:
    """cloud-cpu-fp32 (the labelled extra), cloud-remote and cloud-gpu latencies, when they ran."""
    return latency(rows[rows.target.isin([CLOUD_CPU_FP32, CLOUD_REMOTE, CLOUD_GPU])], ["target", "batch"])


def breakdown(rows: pd.DataFrame) -> pd.DataFrame:
    """Median ms per stage of a served request, per protocol/payload (from server and client timestamps)."""
    st = select(rows, "stage_p50")
    wide = st.assign(path=st.protocol + "/" + st.payload).pivot_table(
        index="path", columns="stage", values="value", aggfunc="first", sort=False
    )
    order = ["encode", "transport_and_queue", "server_preprocess", "compute", "from_server", "decode"]
    return wide[[c for c in order if c in wide]].round(DIGITS)


def throughput_batches(rows: pd.DataFrame) -> pd.DataFrame:
    """Samples per second against batch size, per target."""
    t = select(rows, "throughput", scenario="batch-sweep")
    return pd.DataFrame({"target": t.target, "batch": t.batch, "samples_per_s": t.value}).reset_index(drop=True)


def concurrency(rows: pd.DataFrame) -> pd.DataFrame:
    """Closed-loop clients: throughput, p50 and p99, and the mean batch the server formed, with and without
    adaptive batching."""
    lat = rows[(rows.target == CLOUD_CPU) & rows.concurrency.notna() & rows.scenario.isin(["batched", "unbatched"])]
    wide = lat.pivot_table(index=["scenario", "concurrency"], columns="metric", values="value", aggfunc="first")
    out = wide[["throughput", "latency_p50", "latency_p99", "mean_batch"]].rename(
        columns={"throughput": "throughput_rps", "latency_p50": "p50_ms", "latency_p99": "p99_ms"}
    )
    return out.reset_index().round(DIGITS)


def network(rows: pd.DataFrame) -> pd.DataFrame:
    """Per profile and connection: the sourced RTT, the fiber floor, modeled network time and end-to-end p50/p99."""
    e2e = rows[(rows.kind == "modeled") & rows.metric.isin(["latency_p50", "latency_p99"])]
    wide = e2e.pivot_table(index=["network", "scenario"], columns="metric", values="value", aggfunc="first", sort=False)
    per = rows[rows.metric.isin(["rtt", "propagation_floor", "network_p50"])].pivot_table(
        index="network", columns="metric", values="value", aggfunc="first"
    )
    out = wide.rename(columns={"latency_p50": "e2e_p50_ms", "latency_p99": "e2e_p99_ms"}).reset_index()
    out = out.rename(columns={"scenario": "connection"}).join(per, on="network")
    out = out.rename(
        columns={"rtt": "rtt_ms (sourced)", "propagation_floor": "floor_ms", "network_p50": "network_p50_ms"}
    )
    out.columns.name = None
    return out.set_index(["network", "connection"]).round(2)


def emulation(rows: pd.DataFrame) -> pd.DataFrame:
    """The network model against emulation per profile: emulated and modeled p50, p90 and p99 (ms), the model's
    error at each with its CI (none for a thin tail), n and method."""
    cols = {}
    for q in ("p50", "p90", "p99"):
        err = select(rows, f"model_error_{q}").set_index("network")
        cols[f"emulated_{q}_ms"] = select(rows, f"emulated_{q}").set_index("network").value
        cols[f"modeled_{q}_ms"] = select(rows, f"modeled_{q}").set_index("network").value
        cols[f"error_{q}"], cols[f"error_{q}_low"], cols[f"error_{q}_high"] = err.value, err.ci_low, err.ci_high
    cols["n"], cols["method"] = err.n, err.source
    return pd.DataFrame(cols).round(4)


def emulation_view(emu: pd.DataFrame) -> pd.DataFrame:
    """The emulation check for reading: per percentile, emulated and modeled ms and the model's error with its CI
    (the method and n are in the sentence below it)."""
    out = pd.DataFrame(index=emu.index)
    for q in ("p50", "p90", "p99"):
        out[f"{q} emulated ms"] = emu[f"emulated_{q}_ms"].round(1)
        out[f"{q} modeled ms"] = emu[f"modeled_{q}_ms"].round(1)
        low, high = emu[f"error_{q}_low"], emu[f"error_{q}_high"]
        out[f"{q} error"] = [
            f"{e:+.0%}" + (f" ({lo:+.0%} to {hi:+.0%})" if np.isfinite(lo) else "")
            for e, lo, hi in zip(emu[f"error_{q}"], low, high, strict=True)
        ]
    return out


def loadgen(rows: pd.DataFrame) -> pd.DataFrame:
    """Every LoadGen run: scenario, target rate, VALID or not and why, achieved rate and tail latency."""
    lg = rows[rows.metric.str.startswith("loadgen_")].copy()
    lg["run"] = lg.groupby(["target", "scenario", "metric"]).cumcount()
    wide = lg.pivot_table(index=["target", "scenario", "run"], columns="metric", values="value", aggfunc="first")
    meta = lg[lg.metric == "loadgen_p99"].set_index(["target", "scenario", "run"])
    out = pd.DataFrame(
        {
            "target_qps": wide.get("loadgen_target_qps"),
            "bound_ms": wide.get("loadgen_bound"),
            "samples_per_s": wide["loadgen_samples_per_s"],
            "p90_ms": wide["loadgen_p90"],
            "p99_ms": wide["loadgen_p99"],
            "valid": meta.loadgen_valid,
            "why INVALID": meta.note,
        }
    ).reset_index()
    out["scenario"] = out.scenario.str.removeprefix("loadgen-")
    return out.drop(columns="run").round(DIGITS)


def valid_server_runs(lg: pd.DataFrame) -> pd.DataFrame:
    """The VALID LoadGen Server runs of a loadgen table."""
    return lg[(lg.scenario == "Server") & lg.valid.fillna(False).astype(bool)]


def server_peaks(lg: pd.DataFrame, bound_ms: float) -> pd.DataFrame:
    """Per target, the VALID LoadGen Server run of the highest rate whose p99 met its own bound (`bound_ms` where a
    run does not record one), with that p99 and bound (a loadgen table)."""
    bound = lg.bound_ms.fillna(bound_ms) if "bound_ms" in lg else pd.Series(bound_ms, index=lg.index)
    valid = valid_server_runs(lg)
    ok = valid[valid.p99_ms <= bound[valid.index]]
    best = ok.assign(bound_ms=bound[ok.index]).sort_values("target_qps").groupby("target").tail(1)
    return best.set_index("target")[["target_qps", "p99_ms", "bound_ms"]]


def server_rates(lg: pd.DataFrame, bound_ms: float) -> pd.Series:
    """Per target, the highest Server target rate of a VALID LoadGen run whose p99 met its bound."""
    return server_peaks(lg, bound_ms).target_qps


def resources(rows: pd.DataFrame) -> pd.DataFrame:
    """CPU% (100 = one core) and peak RSS per process during the highest-concurrency run."""
    r = rows[rows.metric.isin(["cpu_mean", "cpu_peak", "rss_peak"])]
    wide = r.pivot_table(index="target", columns="metric", values="value", aggfunc="first")
    return wide.rename(
        columns={"cpu_mean": "cpu_mean_pct", "cpu_peak": "cpu_peak_pct", "rss_peak": "rss_peak_mib"}
    ).round(1)


def other_machines(rows: pd.DataFrame, this_machine: str) -> pd.DataFrame:
    """p50 per machine and target from complete runs measured elsewhere (data/results/<machine>/)."""
    lat = rows[(rows.machine != this_machine) & (rows.metric == "latency_p50")]
    if lat.empty:
        return pd.DataFrame()
    return lat.pivot_table(index=["machine", "target"], columns="batch", values="value", aggfunc="first").round(DIGITS)


def pareto_front(df: pd.DataFrame, cost: str, benefit: str) -> pd.DataFrame:
    """Rows not dominated by another row that is at most as costly and at least as good (one strictly)."""
    keep = []
    for i, r in df.iterrows():
        dominated = (
            (df[cost] <= r[cost]) & (df[benefit] >= r[benefit]) & ((df[cost] < r[cost]) | (df[benefit] > r[benefit]))
        ).any()
        if not dominated:
            keep.append(i)
    return df.loc[keep].sort_values(cost)


def accuracy(arch: pd.DataFrame, top1: dict[str, float]) -> pd.DataFrame:
    """Image classifiers' measured p50 beside their published ImageNet top-1 (sourced), with the Pareto front."""
    images = arch[arch.index.isin(list(top1))].assign(top1=lambda d: [top1[n] for n in d.index])
    front = pareto_front(images, "p50_ms", "top1")
    return images.assign(on_front=images.index.isin(front.index))


def ecdf_samples(samples: pd.DataFrame) -> pd.DataFrame:
    """Raw latencies of the edge targets and of cloud-cpu on loopback (every protocol × payload), for ECDFs."""
    edge = samples[(samples.network == "none") & (samples.batch == 1) & (samples.target != IN_PROCESS)]
    cloud = samples[(samples.target == CLOUD_CPU) & (samples.network == "loopback") & (samples.batch == 1)]
    label = cloud.target + " " + cloud.protocol + "/" + cloud.payload
    return pd.concat([edge.assign(label=edge.target), cloud.assign(label=label)])[["label", "latency_ms"]]
