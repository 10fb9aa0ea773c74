"""Generative options decided by the physics of decode: a device's effective memory bandwidth, derived from its
published decode rate for a reference model of known bytes per token, divided by the deployed model's bytes per
token (weights plus KV cache); memory capacity as a hard limit; prefill scaled by compute. This machine's figures
are measured (notebook 05's llama.cpp rows); a cloud GPU or a hosted API carries sourced latency bounds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from edgecloud import catalogue
from edgecloud.results.query import select, value
from edgecloud.results.tables import ms
from edgecloud.sources import sourced

BITS_PER_WEIGHT = 4.5  # a 4-bit file with its scales (Q4_K_M averages about 4.5-4.9 bits): stated, not measured
KV_BYTES = 2.0  # fp16 keys and values
USABLE_MEMORY = 0.75  # share of a device's memory a model and its cache may take, the rest for the OS (stated)
LIFE_MONTHS = 36  # edge amortisation (stated, as in notebook 03)
SECONDS_A_MONTH = 30 * 24 * 3600
THIS_MACHINE = "this-machine"
BANDWIDTH_BOUND = 0.7  # a decode rate within 30% of the bandwidth roof is bound by memory


def decode_bound(share: float, gain: tuple[float, float], memory_gain: float) -> str | None:
    """What binds decode, from its share of the bandwidth roof and the interval of its speed-up from a second core
    against the triad's: memory binds a decode near its roof that gains as memory does; one that gains more is bound
    by arithmetic, one that gains less by work that does not divide between cores; None when this cannot tell."""
    low, high = gain
    if low > memory_gain:
        return "arithmetic"
    if high < memory_gain:
        return "serial work"
    return "memory bandwidth" if share >= BANDWIDTH_BOUND else None


@dataclass(frozen=True)
class Shape:
    """A decoder's size: parameters and what one token of context costs in KV cache."""

    name: str
    parameters: float
    kv_per_token: float  # bytes of KV cache one token of context adds
    source: str
    measured: bool = False  # the model notebook 05 ran

    def weight_bytes(self, bits: float = BITS_PER_WEIGHT) -> float:
        return self.parameters * bits / 8

    def kv_bytes(self, context: int) -> float:
        return self.kv_per_token * context

    def bytes_per_token(self, context: int, bits: float = BITS_PER_WEIGHT) -> float:
        """What decoding one token at a context position reads: every weight once, plus the KV cache so far."""
        return self.weight_bytes(bits) + self.kv_bytes(context)


def measured_shape(rows: pd.DataFrame) -> Shape:
    """The model notebook 05 measured: its parameter count and KV bytes per token, from the store."""
    found = select(rows, "parameters")
    name = str(found.model.iloc[0])
    kv = value(rows, "kv_bytes_per_token", model=name)
    return Shape(name, float(found.value.iloc[0]), kv, "measured: notebook 05", measured=True)


def shapes(rows: pd.DataFrame) -> dict[str, Shape]:
    """The sweep's models: the measured one and the sourced ones (fp16 KV cache from each one's config)."""
    here = measured_shape(rows)
    out = {here.name: here}
    for name, spec in catalogue.GENERATIVE_MODELS.items():
        figure = sourced(spec["parameters"])
        kv = 2 * spec["layers"] * spec["kv_heads"] * spec["head_dim"] * KV_BYTES
        out.setdefault(name, Shape(name, float(figure) * 1e9, kv, figure.cite()))
    return out


@dataclass(frozen=True)
class Reference:
    """A published serving run of one model size: output tokens/s per GPU within its TTFT and TPOT p99 bounds."""

    model: str
    parameters: float
    tokens_s: float
    ttft_bound_ms: float
    tpot_bound_ms: float
    cite: str


@dataclass(frozen=True)
class Option:
    """A place a language model can run, with the figures that decide it and where each came from."""

    name: str
    role: str  # edge, cloud or api
    kind: str  # measured, modeled or sourced
    bandwidth_gbs: float | None = None  # effective, for decode
    compute_gflops: float | None = None  # effective, for prefill
    memory_gb: float | None = None
    ttft_bound_ms: float | None = None
    tpot_bound_ms: float | None = None
    references: tuple[Reference, ...] = ()  # a cloud GPU's published serving runs, smallest model first
    hourly_usd: float | None = None
    price_usd: float | None = None
    power_w: float | None = None
    input_usd_m: float | None = None
    output_usd_m: float | None = None
    basis: str = ""


def _figure(spec: str) -> tuple[float, str]:
    """A figure key's value and citation, or an 'assumption: <number> …' and its text."""
    if spec.startswith(catalogue.A):
        return float(spec[len(catalogue.A) :].split()[0]), spec
    figure = sourced(spec)
    return float(figure), figure.cite()


def this_machine(rows: pd.DataFrame, memory_gb: float) -> Option:
    """This machine, measured: llama.cpp's decode rate × its bytes per token, and its prefill rate × 2 × parameters."""
    tps = value(rows, "tokens_per_s", runtime="llama.cpp", target="in-process")
    per_token = value(rows, "bytes_per_token", runtime="llama.cpp") * 1e6
    prefill = select(rows, "prefill_tokens_per_s", runtime="llama.cpp")
    longest = prefill.loc[prefill.input_size.idxmax()]
    parameters = measured_shape(rows).parameters
    return Option(
        THIS_MACHINE, "edge", "measured", bandwidth_gbs=tps * per_token / 1e9,
        compute_gflops=longest.value * 2 * parameters / 1e9, memory_gb=memory_gb,
        basis=f"llama.cpp here: {tps:.0f} tokens/s × {per_token / 1e6:.1f} MB a token; prefill {longest.value:.0f} "
        f"tokens/s at {int(longest.input_size)} tokens",
    )  # fmt: skip


def _edge(name: str, spec: dict) -> Option:
    tps, cite = _figure(spec["decode"])
    figure = sourced(spec["decode_bytes"])
    per_token = float(figure) * (1e9 if figure.unit == "GB" else 1e6)
    bytes_cite = figure.cite()
    compute = None
    if "prefill" in spec:
        rate, _ = _figure(spec["prefill"])
        compute = rate * 2 * float(sourced(spec["prefill_parameters"])) * 1e9 / 1e9
    price, _ = _figure(spec["price"])
    power, _ = _figure(spec["power"])
    return Option(
        name, "edge", "modeled", bandwidth_gbs=tps * per_token / 1e9, compute_gflops=compute,
        memory_gb=spec["memory_gb"], price_usd=price, power_w=power,
        basis=f"{tps:g} tokens/s ({cite}) × {per_token / 1e9:.2f} GB a token ({bytes_cite})",
    )  # fmt: skip


def _reference(model: str, keys: tuple[str, str, str], shape_of: dict[str, Shape]) -> Reference:
    tokens_s, ttft, tpot = (_figure(k)[0] for k in keys)
    return Reference(model, shape_of[model].parameters, tokens_s, ttft, tpot, sourced(keys[0]).cite())


def options(rows: pd.DataFrame, memory_gb: float) -> list[Option]:
    """This machine (measured), the edge devices (modeled from sourced decode rates), the cloud GPU and the API."""
    shape_of = shapes(rows)
    out = [this_machine(rows, memory_gb)]
    for name, spec in catalogue.GENERATIVE_DEVICES.items():
        if spec["role"] == "edge":
            out.append(_edge(name, spec))
        elif spec["role"] == "cloud":
            refs = sorted((_reference(model, keys, shape_of) for model, keys in spec["served"].items()),
                          key=lambda r: r.parameters)  # fmt: skip
            out.append(Option(
                name, "cloud", "sourced", memory_gb=spec["memory_gb"], references=tuple(refs),
                hourly_usd=_figure(spec["hourly"])[0],
                basis="VALID MLPerf Server runs keep TTFT p99 and TPOT p99 within their bounds at "
                + "; ".join(f"{r.tokens_s:,.0f} tokens/s a GPU for {r.model} ({r.cite})" for r in refs),
            ))  # fmt: skip
        else:
            out.append(Option(
                name, "api", "sourced", ttft_bound_ms=_figure(spec["ttft_bound"])[0],
                tpot_bound_ms=_figure(spec["tpot_bound"])[0], input_usd_m=_figure(spec["input_price"])[0],
                output_usd_m=_figure(spec["output_price"])[0],
                basis="latency: MLPerf's interactive bounds stand in for an API's (an assumption); its prices are one "
                "hosted model's, whatever the case's model (a substitution: quality not compared)",
            ))  # fmt: skip
    return out


def bandwidth_check(spec: dict) -> tuple[float, float] | None:
    """A device's effective bandwidth from its reference figure and from a second model's, when it has one: the
    physics holds when the two agree."""
    if "check" not in spec:
        return None
    first = _figure(spec["decode"])[0] * float(sourced(spec["decode_bytes"])) * 1e9
    tps_key, bytes_key = spec["check"]
    second = _figure(tps_key)[0] * float(sourced(bytes_key)) * 1e9
    return first / 1e9, second / 1e9


@dataclass(frozen=True)
class Prediction:
    """One model on one option: its decode and prefill times, whether it fits, and what it costs."""

    option: str
    model: str
    fits: bool
    ttft_ms: float | None
    tpot_ms: float | None
    kind: str
    served_by: Reference | None = None  # a cloud GPU's reference run for this model size


def serving_reference(option: Option, shape: Shape) -> Reference | None:
    """The smallest published serving run of a model at least this size: its bounds and rate bound this one's (a
    smaller model of the same shape family is no slower on the same GPU); None beyond the largest (not modeled)."""
    return next((r for r in option.references if r.parameters >= shape.parameters), None)


def predict(option: Option, shape: Shape, prompt: int, output: int, rtt_ms: float = 0.0) -> Prediction:
    """TTFT and TPOT of one request: decode from bandwidth at the mean context, prefill from compute, memory as a
    hard limit; a cloud or API option gives its sourced bounds plus the network's round trip."""
    context = prompt + output // 2
    if option.role == "api":
        return Prediction(option.name, shape.name, True, option.ttft_bound_ms + rtt_ms, option.tpot_bound_ms,
                          option.kind)  # fmt: skip
    if option.role == "cloud":
        ref = serving_reference(option, shape)
        fits = shape.bytes_per_token(prompt + output) <= option.memory_gb * 1e9
        if ref is None:
            return Prediction(option.name, shape.name, fits, None, None, option.kind)
        return Prediction(option.name, shape.name, fits, ref.ttft_bound_ms + rtt_ms, ref.tpot_bound_ms, option.kind,
                          served_by=ref)  # fmt: skip
    need = shape.weight_bytes() + shape.kv_bytes(prompt + output)
    fits = need <= option.memory_gb * 1e9 * USABLE_MEMORY
    tpot = 1e3 * shape.bytes_per_token(context) / (option.bandwidth_gbs * 1e9)
    ttft = 1e3 * prompt * 2 * shape.parameters / (option.compute_gflops * 1e9) if option.compute_gflops else None
    kind = "measured" if option.kind == "measured" and shape.measured else "modeled"
    return Prediction(option.name, shape.name, fits, ttft, tpot, kind)


def sweep(rows: pd.DataFrame, memory_gb: float, prompt: int = 512, output: int = 256) -> pd.DataFrame:
    """Every edge option × model: decode tokens/s (1000 / TPOT), TTFT and whether it fits: where each device
    stops (a cloud GPU or an API has only latency bounds, so it has no rate to sweep)."""
    records = []
    for option in [o for o in options(rows, memory_gb) if o.role == "edge"]:
        for shape in shapes(rows).values():
            p = predict(option, shape, prompt, output)
            records.append({
                "option": option.name, "model": shape.name, "parameters_b": shape.parameters / 1e9,
                "fits": p.fits, "tokens_per_s": 1e3 / p.tpot_ms if p.tpot_ms and p.fits else None,
                "ttft_ms": p.ttft_ms if p.fits else None, "kind": p.kind,
            })  # fmt: skip
    return pd.DataFrame(records)


def gpus_needed(prediction: Prediction, case: dict) -> int | None:
    """Whole GPUs a self-hosted model needs for the case's daily output at its reference run's rate: at least one,
    paid by the hour whether busy or not."""
    ref = prediction.served_by
    if ref is None:
        return None
    rate = case["per_day"] * case["output_tokens"] / 86400
    return max(1, math.ceil(rate / ref.tokens_s))


def usd_month(option: Option, prediction: Prediction, case: dict, usd_kwh: float) -> float | None:
    """A month's cost at the case's volume: whole GPU hours for a self-hosted GPU, the API's prices per token, an
    edge device's amortised price and energy over its decode time."""
    if option.role == "cloud":
        gpus = gpus_needed(prediction, case)
        return gpus * option.hourly_usd * SECONDS_A_MONTH / 3600 if gpus else None
    if option.role == "api":
        usd_m = option.output_usd_m + option.input_usd_m * case["prompt_tokens"] / case["output_tokens"]
    elif prediction.tpot_ms is None or option.price_usd is None:
        return None
    else:
        seconds = prediction.tpot_ms / 1e3 * 1e6
        energy = (option.power_w or 0) * seconds / 3.6e6 * usd_kwh
        usd_m = option.price_usd / (LIFE_MONTHS * SECONDS_A_MONTH) * seconds + energy
    return usd_m * monthly_output(case) / 1e6


def monthly_output(case: dict) -> float:
    """Output tokens a month at the case's volume."""
    return case["per_day"] * 30 * case["output_tokens"]


def breakeven_per_day(gpu_month: float, api_usd_m: float, output_tokens: int) -> float:
    """Requests a day at which a month of self-hosted GPUs costs what the API would charge for the same answers."""
    return gpu_month / (api_usd_m / 1e6 * output_tokens * 30)


def crossover_tokens(edge: Prediction, cloud: Prediction) -> float | None:
    """Output length beyond which the cloud's answer finishes first despite its round trip:
    TTFT_cloud + N·TPOT_cloud < TTFT_edge + N·TPOT_edge; None when the edge decodes no slower."""
    if None in (edge.ttft_ms, edge.tpot_ms, cloud.ttft_ms, cloud.tpot_ms) or edge.tpot_ms <= cloud.tpot_ms:
        return None
    return max(0.0, (cloud.ttft_ms - edge.ttft_ms) / (edge.tpot_ms - cloud.tpot_ms))


def _verdict(p: Prediction, case: dict) -> tuple[bool, str]:
    """Whether a prediction meets the case's memory, TTFT and TPOT requirements, and the binding one (the worst
    margin, or the first unknown)."""
    if not p.fits:
        return False, "memory: the weights and KV cache do not fit"
    margins, figures = {}, {}
    for name, got, budget in (("TTFT", p.ttft_ms, case["ttft_ms"]), ("TPOT", p.tpot_ms, case["tpot_ms"])):
        if got is None and p.tpot_ms is None:
            return False, "not modeled: no published serving run of a model this size"
        if got is None:
            return False, f"{name}: unknown (no published prefill figure for this device)"
        margins[name], figures[name] = 1 - got / budget, (got, budget)
    binding = min(margins, key=margins.get)
    if margins[binding] >= 0:
        return True, f"{binding}: margin {margins[binding]:+.0%}"
    got, budget = figures[binding]
    times = f"{got / budget:,.0f}" if got >= 10 * budget else f"{got / budget:.3g}"
    return False, f"{binding}: {ms(got)} against {ms(budget)} ({times}× the budget)"


def evaluate(rows: pd.DataFrame, memory_gb: float, rtt_ms: dict[str, float], usd_kwh: float) -> pd.DataFrame:
    """Every generative use case × option: TTFT and TPOT against the budgets, the binding constraint, $ per million
    output tokens and a month's cost at the case's volume; `recommended` marks the cheapest option that meets every
    requirement (for personal data, the cheapest such edge option when there is one)."""
    shape_of, records = shapes(rows), []
    for case_name, case in catalogue.GENERATIVE_CASES.items():
        shape = shape_of[case["model"]]
        for option in options(rows, memory_gb):
            rtt = rtt_ms[case["network"]] if option.role != "edge" else 0.0
            p = predict(option, shape, case["prompt_tokens"], case["output_tokens"], rtt)
            ok, binding = _verdict(p, case)
            month = usd_month(option, p, case, usd_kwh)
            usd_m = month / monthly_output(case) * 1e6 if month is not None else None
            records.append({
                "case": case_name, "model": shape.name, "option": option.name, "role": option.role,
                "kind": p.kind, "ttft_ms": p.ttft_ms, "ttft_budget_ms": case["ttft_ms"], "tpot_ms": p.tpot_ms,
                "tpot_budget_ms": case["tpot_ms"], "feasible": ok, "binding": binding, "usd_per_m_output": usd_m,
                "usd_month": month, "gpus": gpus_needed(p, case), "per_day": case["per_day"],
                "sensitivity": case["sensitivity"],
            })  # fmt: skip
    table = pd.DataFrame(records)
    table["recommended"] = False
    table["breakeven_per_day"] = float("nan")  # where the GPU and the API both qualify: the volume they cost alike
    for case_name, part in table.groupby("case"):
        gpu, api = part[(part.role == "cloud") & part.feasible], part[part.role == "api"]
        if len(gpu) and len(api):
            out = catalogue.GENERATIVE_CASES[case_name]["output_tokens"]
            each = breakeven_per_day(gpu.usd_month.iloc[0] / gpu.gpus.iloc[0], api.usd_per_m_output.iloc[0], out)
            table.loc[part.index, "breakeven_per_day"] = each
    for _, part in table[table.feasible].groupby("case"):
        pick = (
            part[part.role == "edge"]
            if part.sensitivity.iloc[0] == "personal" and (part.role == "edge").any()
            else part
        )
        table.loc[pick.usd_month.fillna(float("inf")).idxmin(), "recommended"] = True
    return table
