"""`make bench`: the speed targets of the issues as ratios measured in one run, written to outputs/bench/*.json.

Targets live here, not in tests: this machine is shared and noisy, so a ratio from one run is the honest check.
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from datetime import UTC, datetime

from edgecloud import measure as steps
from edgecloud import paths, system
from edgecloud.concepts import measure_session
from edgecloud.models import cosine_similarity, get_model
from edgecloud.params import load_params
from edgecloud.results import machine_id
from edgecloud.runtimes import load_session, ort_session, quantize_int8
from edgecloud.timing import measure


def _target(name: str, value: float, goal: str, met: bool, **detail: object) -> dict:
    return {"target": name, "value": round(value, 4), "goal": goal, "met": bool(met), **detail}


def runtime_targets(timing, threads: int = 2) -> list[dict]:
    """int8 static vs eager fp32 at batch 1 (MobileNetV2 ≥ 3×, ResNet-50 ≥ 2.5×); ResNet-50 fp32 vs compute floor."""
    out = []
    peak = system.ceiling_table([system.gemm(1024, threads, timing)])[0]["rate"]
    for name, goal in (("mobilenetv2", 3.0), ("resnet50", 2.5)):
        model = get_model(name)
        x = model.inputs(1)
        p50 = {}
        for runtime, precision in (("eager", "fp32"), ("ort", "fp32"), ("ort", "int8")):
            session = load_session(model, runtime, precision, threads)
            p50[(runtime, precision)] = measure_session(session, x, timing).median
        ratio = p50[("eager", "fp32")] / p50[("ort", "int8")]
        out.append(
            _target(
                f"{name} int8 speed-up over eager fp32",
                ratio,
                f">= {goal}x",
                ratio >= goal,
                eager_ms=p50[("eager", "fp32")] * 1e3,
                int8_ms=p50[("ort", "int8")] * 1e3,
            )
        )
        if name == "resnet50":
            floor = model.flops() / (peak * 1e9)
            ratio = p50[("ort", "fp32")] / floor
            out.append(
                _target(
                    "resnet50 ORT fp32 vs compute floor",
                    ratio,
                    "<= 1.3x",
                    ratio <= 1.3,
                    latency_ms=p50[("ort", "fp32")] * 1e3,
                    floor_ms=floor * 1e3,
                    gemm_peak_gflops=peak,
                )
            )
    return out


def minilm_quantization(timing, threads: int = 2) -> list[dict]:
    """Why MiniLM uses dynamic int8: latency and cosine similarity to fp32 of static and dynamic quantization."""
    model = get_model("minilm")
    x = model.inputs(8)
    reference = load_session(model, "ort", "fp32", threads).run(x)
    row = {}
    for method in ("static", "dynamic"):
        session = ort_session(quantize_int8(model, 32, method), threads)
        row[f"{method}_ms"] = measure(lambda s=session: s.run(None, model.inputs(1)), method, timing).median * 1e3
        row[f"{method}_cosine"] = cosine_similarity(reference, session.run(None, x)[0])[1]
    return [
        {
            "target": "minilm int8 method (measured, no goal)",
            "value": row["dynamic_cosine"],
            "goal": "n/a",
            "met": True,
            **row,
        }
    ]


def serving_targets(params) -> list[dict]:
    """Serving overhead (best payload, ≤ 5 ms p50), adaptive batching at 16 clients (≥ 1.5×), model vs emulation."""
    section = params.measurements.model_copy(update={"concurrency": [16]})
    b = steps.Bench(section, params.shared)
    out = []
    with ExitStack() as stack:
        b.start_server(stack)
        cloud, _ = steps.cloud_payloads(b)
        best = cloud.loc[cloud.p50_ms.idxmin()]
        out.append(
            _target(
                "serving overhead, best payload",
                best.overhead_p50_ms,
                "<= 5 ms",
                best.overhead_p50_ms <= 5,
                payload=best.payload,
                protocol=best.protocol,
                served_ms=best.p50_ms,
                in_process_ms=best.in_process_p50_ms,
            )
        )
        conc = steps.concurrency(b).set_index("model_name")
        gain = conc.loc["served-batched", "throughput_rps"] / conc.loc["served", "throughput_rps"]
        out.append(
            _target(
                "adaptive batching throughput at 16 clients",
                gain,
                ">= 1.5x",
                gain >= 1.5,
                batched_rps=conc.loc["served-batched", "throughput_rps"],
                unbatched_rps=conc.loc["served", "throughput_rps"],
            )
        )
        for r in steps.emulation(b).itertuples():
            out.append(
                _target(
                    f"network model vs emulation: {r.network}",
                    r.error,
                    "|error| <= 10%",
                    abs(r.error) <= 0.10,
                    modeled_ms=r.modeled_p50_ms,
                    emulated_ms=r.emulated_p50_ms,
                    n=r.n,
                )
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgecloud.bench", description=__doc__)
    parser.add_argument("--params", default="params/default.yaml")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    folder = paths.outputs() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for name, fn in (
        ("runtimes", lambda: runtime_targets(params.shared.timing) + minilm_quantization(params.shared.timing)),
        ("serving", lambda: serving_targets(params)),
    ):
        rows = fn()
        doc = {"machine": machine_id(), "when": stamp, "params": args.params, "kind": "measured", "targets": rows}
        path = folder / f"{name}-{stamp}.json"
        path.write_text(json.dumps(doc, indent=1))
        for r in rows:
            print(f"{'MET ' if r['met'] else 'MISS'} {r['target']}: {r['value']} (goal {r['goal']})")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
