"""The one schema for every params file: validated before any kernel starts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgecloud import catalogue
from edgecloud.network.profile import propagation_floor_ms, rtt_gamma
from edgecloud.notebooks import NOTEBOOKS
from edgecloud.vocabulary import CLOUD_CPU, RESERVED_TARGETS, SHIPPED_LLM

Positive = Annotated[int, Field(gt=0)]
Precision = Literal["fp32", "int8"]
CONCEPT_MODELS = ("efficientnet_lite0", "mobilenetv2", "resnet50", "minilm", "digits_cnn", "fraud_mlp")
ZOO = ("efficientnet_lite0", "mobilenetv2", "resnet50", "minilm", "digits_cnn", "digits_linear", "fraud_mlp")


class Section(BaseModel):
    """Base for every params section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Timing(Section):
    warmup: int = Field(3, ge=0, description="Untimed calls before measuring.")
    min_time_s: float = Field(0.3, gt=0, description="Keep repeating until this much time has passed.")
    min_count: int = Field(20, ge=5, description="...and at least this many samples were taken.")
    max_count: int = Field(3000, ge=5, description="Stop after this many samples even if min_time is not met.")
    bootstrap_resamples: int = Field(1000, ge=100, description="Resamples for percentile confidence intervals.")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of the intervals.")


class CustomModel(Section):
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="Identifier used in tables and plots.")
    input_shape: list[Positive] | None = Field(
        None, description="Fills the file's dynamic input dimensions (batch first)."
    )
    input_dtype: Literal["float32", "int64", "uint8"] | None = Field(None, description="Overrides the dtype.")
    onnx_path: str | None = Field(None, description="An ONNX file; inputs are read from the file.")
    torch_factory: str | None = Field(
        None, description="'package.module:function' returning (torch module, example input tensor)."
    )
    gguf_path: str | None = Field(
        None, description="A GGUF language model, measured by notebook 05 when generative.model names it."
    )
    hf_path: str | None = Field(
        None,
        description="A Hugging Face folder of a language model (config.json, tokenizer, safetensors), measured by "
        "notebook 05 when generative.model names it; llama.cpp runs it converted to GGUF (f16) by llama.cpp's own "
        "convert_hf_to_gguf.py.",
    )

    @field_validator("onnx_path")
    @classmethod
    def _onnx_exists(cls, path: str | None) -> str | None:
        """The file exists (whether it is a usable ONNX model is checked by `edgecloud.preflight`)."""
        if path is not None and not Path(path).is_file():
            raise ValueError("no such file")
        return path

    @field_validator("gguf_path")
    @classmethod
    def _gguf_exists(cls, path: str | None) -> str | None:
        """The file exists and is named .gguf (whether llama.cpp and transformers read it is checked by
        `edgecloud.preflight`)."""
        if path is not None and not Path(path).is_file():
            raise ValueError("no such file")
        if path is not None and not path.endswith(".gguf"):
            raise ValueError("a GGUF file's name ends in .gguf")
        return path

    @field_validator("hf_path")
    @classmethod
    def _folder_exists(cls, path: str | None) -> str | None:
        """A folder with a config.json (whether transformers and the converter read it is checked by
        `edgecloud.preflight`)."""
        if path is not None and not (Path(path) / "config.json").is_file():
            raise ValueError("no config.json in that folder")
        return path

    @field_validator("torch_factory")
    @classmethod
    def _factory_form(cls, factory: str | None) -> str | None:
        """Written as 'package.module:function' (whether it imports and builds is checked by `edgecloud.preflight`)."""
        if factory is not None and not all(factory.partition(":")[::2]):
            raise ValueError("write it as 'package.module:function'")
        return factory

    @model_validator(mode="after")
    def _one_source(self) -> CustomModel:
        if sum(x is not None for x in (self.onnx_path, self.torch_factory, self.gguf_path, self.hf_path)) != 1:
            raise ValueError("give exactly one of onnx_path, torch_factory, gguf_path or hf_path")
        return self

    @property
    def generative(self) -> bool:
        """A language model for notebook 05 (not a zoo-like model for the other notebooks)."""
        return self.gguf_path is not None or self.hf_path is not None


class Shared(Section):
    seed: int = Field(0, ge=0, description="Seed for data, training and resampling.")
    threads: list[Positive] = Field([1, 2], min_length=1, description="Thread counts to compare.")
    timing: Timing = Field(default_factory=Timing, description="How every latency is sampled.")
    custom_models: list[CustomModel] = Field([], description="Your own models, measured beside the zoo.")
    notebook_timeout_s: Positive = Field(900, description="Timeout of one notebook cell, in seconds.")
    calibration_samples: Positive = Field(
        128,
        description="Real inputs used to calibrate every int8 model (never evaluated on): one value, so every notebook "
        "and the server run the same int8 model.",
    )


class SystemSection(Section):
    gemm_size: Positive = Field(1024, description="Square fp32 GEMM size for the compute ceiling.")
    triad_mib: Positive = Field(128, description="Size of each STREAM triad array, in MiB.")
    ceiling_repeats: Positive = Field(10, description="Repeats of each ceiling measurement.")


class ConceptsSection(Section):
    models: list[Literal[ZOO]] = Field(list(CONCEPT_MODELS), min_length=1, description="Zoo models to compare.")
    resolutions: list[Annotated[int, Field(ge=32, le=512)]] = Field(
        [128, 224, 320], min_length=1, description="Image sides for the input-size sweep (pixels)."
    )
    seq_lengths: list[Annotated[int, Field(ge=4, le=256)]] = Field(
        [16, 64, 128], min_length=1, description="Token counts for the MiniLM sweep."
    )
    batch_sizes: list[Positive] = Field([1, 4, 16], min_length=1, description="Batch sizes for throughput.")
    agreement_samples: Positive = Field(
        240, description="Held-out inputs on which int8 is compared with fp32 (fewer for MiniLM: its sentences)."
    )


FigureOrAssumption = Annotated[str, Field(pattern=r"^([a-z0-9_]+|assumption: .{3,})$")]


class NetworkProfile(Section):
    rtt_ms: float = Field(gt=0, description="Round-trip time; rtt_statistic says which statistic of the RTT it is.")
    rtt_statistic: Literal["mean", "median", "p95"] = Field(
        description="What rtt_ms is, as its source reports it: the RTT's mean, median or 95th percentile."
    )
    jitter_ms: float = Field(ge=0, description="Standard deviation of the RTT above the propagation floor.")
    bandwidth_mbps: float = Field(gt=0, description="Uplink (client to cloud) bottleneck bandwidth, Mbit/s.")
    downlink_mbps: float | None = Field(None, gt=0, description="Downlink bandwidth, Mbit/s; the uplink's if unset.")
    loss: float = Field(ge=0, lt=0.5, description="Packet loss probability, per packet and direction.")
    distance_km: float = Field(ge=0, description="Path length; sets the fiber propagation floor.")
    source: str = Field(min_length=3, description="Where the defaults come from, with its date.")
    usd_per_gb: FigureOrAssumption = Field(
        "assumption: 0 USD/GB, not given", description="What the device side pays per GB over this path, each way."
    )
    rtt_figure: str | None = Field(
        None, description="Key of the RTT in data/sourced_figures.csv (a test checks that rtt_ms matches it)."
    )

    @model_validator(mode="after")
    def _above_floor(self) -> NetworkProfile:
        floor = propagation_floor_ms(self.distance_km)
        if self.rtt_ms < floor:
            raise ValueError(f"rtt_ms {self.rtt_ms} is below the fiber floor {floor:.1f} ms for distance_km")
        return self

    @property
    def down_mbps(self) -> float:
        return self.downlink_mbps or self.bandwidth_mbps

    def rtt_gamma(self) -> tuple[float, float, float]:
        """The RTT as floor + gamma(shape, scale) excess (ms), whose rtt_statistic is rtt_ms and whose standard
        deviation is jitter_ms; shape 0 means a fixed RTT."""
        return rtt_gamma(self.rtt_ms, self.rtt_statistic, self.jitter_ms, self.distance_km)


def _profile(rtt, statistic, jitter, bandwidth, loss, km, source, figure, usd_gb, down=None) -> NetworkProfile:
    return NetworkProfile(
        usd_per_gb=usd_gb,
        rtt_ms=rtt,
        rtt_statistic=statistic,
        jitter_ms=jitter,
        bandwidth_mbps=bandwidth,
        downlink_mbps=down,
        loss=loss,
        distance_km=km,
        source=source,
        rtt_figure=figure,
    )


DEFAULT_PROFILES = {
    "same-zone": _profile(
        0.91,
        "mean",
        0.2,
        10000,
        0.0,
        1,
        "RTT: Azure same-AZ mean TCP echo 0.91 ms (simonpainter.com, 2025); jitter, bandwidth, loss assumed",
        "azure_same_az_rtt",
        "assumption: 0 USD/GB: AWS charges nothing within one availability zone",
    ),
    "same-region": _profile(
        1.55,
        "mean",
        0.3,
        10000,
        0.0,
        50,
        "RTT: Azure cross-AZ mean TCP echo 1.55 ms (simonpainter.com, 2025); jitter, bandwidth, loss assumed",
        "azure_cross_az_rtt",
        "aws_inter_az_gb",
    ),
    "cross-country": _profile(
        72,
        "p95",
        3,
        1000,
        0.0,
        4000,
        "RTT: Azure P95 East US to West US 72 ms (Azure latency statistics, 2026); distance great-circle; rest assumed",
        "azure_east_west_us_p95",
        "assumption: 0.02 USD/GB: AWS inter-region transfer",
    ),
    "intercontinental": _profile(
        242,
        "p95",
        5,
        500,
        0.001,
        9500,
        "RTT: Azure P95 West Europe to Japan East 242 ms (Azure latency statistics, 2026); rest assumed",
        "azure_westeu_japaneast_p95",
        "assumption: 0.02 USD/GB: AWS inter-region transfer",
    ),
    "4g": _profile(
        55.25,
        "mean",
        12,
        10,
        0.01,
        200,
        "RTT: US 4G 44.1-66.4 ms by state, midpoint (Opensignal, 2019); 10 Mbit/s up, 30 down and 1% loss assumed",
        "us_4g_latency_midpoint",
        "us_mobile_data_gb",
        30,
    ),
    "5g": _profile(
        51,
        "median",
        10,
        50,
        0.005,
        200,
        "RTT: US 5G best carrier median 51 ms (Ookla Q2 2023); 50 Mbit/s up, 200 down, 0.5% loss assumed",
        "us_5g_best_median",
        "us_mobile_data_gb",
        200,
    ),
    "home-wifi": _profile(
        20,
        "median",
        15,
        20,
        0.01,
        100,
        "RTT: US fixed broadband median 15 ms (Ookla Q2 2023) plus an "
        "assumed 5 ms Wi-Fi hop; half of campus Wi-Fi packets over 20 ms (Pei et al., 2016); "
        "20 Mbit/s up, 100 down assumed",
        None,
        "assumption: 0 USD/GB: flat-rate home broadband has no price per GB",
        100,
    ),
}


class RuntimeChoice(Section):
    """A runtime from the registry (`edgecloud.runtimes`) and one of the precisions it offers."""

    runtime: str = "ort"
    precision: Precision = "int8"

    @model_validator(mode="after")
    def _registered(self) -> RuntimeChoice:
        from edgecloud.runtimes import registry  # names only: runtime modules load their frameworks on use

        registry.check(self.runtime, self.precision)
        return self


class EdgeTarget(RuntimeChoice):
    name: str = Field(pattern=r"^[a-z0-9-]+$")
    threads: Positive = 1


class CloudTarget(RuntimeChoice):
    precision: Precision = Field(
        "int8", description="The edge targets' precision by default, so cloud vs edge is like for like."
    )
    threads: Positive = Field(2, description="Threads of the server's inference session.")
    max_batch_size: Positive = Field(8, description="MLServer adaptive batching: largest batch.")
    max_batch_time_ms: float = Field(5.0, ge=0, description="MLServer adaptive batching: longest wait.")
    batched_spin_wait: bool = Field(
        False,
        description="Whether the batched (throughput) deployment's ONNX Runtime threads spin between operators, as "
        "the unbatched (latency) one's do: spinning threads take the cores from the server's event loop and the "
        "clients (on 2 cores, about 20% fewer requests/s at 16 clients), and save a lone request about 1.5 ms.",
    )


class LoadGen(Section):
    scenarios: list[Literal["SingleStream", "Server", "Offline"]] = ["SingleStream", "Server", "Offline"]
    min_duration_s: float = Field(1.5, gt=0, description="LoadGen min_duration per run.")
    min_query_count: Positive = Field(64, description="LoadGen min_query_count per run.")
    server_latency_bound_ms: float = Field(15.0, gt=0, description="p99 bound for the Server search (MLPerf).")
    server_search_steps: Positive = Field(3, description="Bisection steps of the Server QPS search.")
    capacity_fractions: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        [0.3, 0.5, 0.7], description="The served target's Server runs for capacity: fractions of its Offline rate."
    )
    capacity_queries: Positive = Field(
        600, description="Queries per capacity run (early stopping needs ≥ 459 for a p99 with none over the bound)."
    )
    capacity_bound_ms: float = Field(
        250.0, gt=0, description="Latency bound of the capacity runs; each use case holds their p99 to its own budget."
    )


class MeasurementsSection(Section):
    model: str = Field(
        "efficientnet_lite0", description="Model deployed to every target: a zoo model or one of shared.custom_models."
    )
    edge_targets: list[EdgeTarget] = Field(
        default_factory=lambda: [EdgeTarget(name="edge-1t", threads=1), EdgeTarget(name="edge-2t", threads=2)],
        min_length=1,
    )
    cloud: CloudTarget = Field(default_factory=CloudTarget, description="The local cloud-cpu server.")
    remote_url: str | None = Field(None, description="Any Open Inference Protocol base URL (cloud-remote).")
    remote_model: str = Field(
        "efficientnet_lite0", description="Model name at remote_url; it takes the model's input tensors by name."
    )
    payloads: list[Literal["tensor", "uint8", "jpeg"]] = Field(
        ["tensor", "uint8", "jpeg"],
        min_length=1,
        description="Payload kinds: the model's tensors; for image models also raw pixels and JPEG bytes.",
    )
    protocols: list[Literal["http", "grpc"]] = Field(["http", "grpc"], min_length=1)
    concurrency: list[Positive] = Field([1, 4, 16], min_length=1, description="Concurrent clients.")
    requests_per_client: Positive = Field(24, description="Requests each concurrent client sends.")
    network_profiles: dict[str, NetworkProfile] = Field(
        default_factory=lambda: dict(DEFAULT_PROFILES), min_length=1, description="Network paths to the cloud."
    )
    emulation_requests: Positive = Field(60, description="Requests per profile through the emulated network.")
    loadgen: LoadGen = Field(default_factory=LoadGen)

    @model_validator(mode="after")
    def _distinct(self) -> MeasurementsSection:
        names = [t.name for t in self.edge_targets]
        clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & RESERVED_TARGETS))
        if clash:
            raise ValueError(f"edge target names must be distinct and not {sorted(RESERVED_TARGETS)}: {clash}")
        for key in ("payloads", "protocols", "concurrency"):
            values = getattr(self, key)
            if len(set(values)) != len(values):
                raise ValueError(f"{key} lists a value twice: {values}")
        return self


class Device(Section):
    """Where a model can run: this machine's targets (measured) or a published device (modeled by a factor)."""

    role: Literal["edge", "cloud"]
    measured_target: str | None = Field(
        None, description="A measured target: an edge target name or 'cloud-cpu' (here, or on measured_machine)."
    )
    measured_machine: str | None = Field(
        None, description="A machine under data/results/ whose complete notebook-02 run measured measured_target."
    )
    reference_model: Literal[ZOO] = Field("resnet50", description="Zoo model of the published figure.")
    reference_latency: str | None = Field(None, description="Figure key: published latency (ms), reference model.")
    reference_statistic: Literal["mean", "p50", "p90", "p99"] = Field(
        "p90", description="What reference_latency is (MLPerf SingleStream: p90); divided by the same statistic here."
    )
    reference_throughput: str | None = Field(
        None, description="Figure key: published samples/s of the reference model; sets capacity, never latency."
    )
    precision: Precision = Field("int8", description="Precision of the deployed model on this device.")
    price: FigureOrAssumption = Field(description="Figure key of the price (USD, edge) or 'assumption: <USD> …'.")
    hourly: FigureOrAssumption | None = Field(None, description="Figure key of the USD/h of a cloud instance.")
    price_multiplier: float = Field(1.0, gt=0, description="Units of the priced item per device (an assumption).")
    power: FigureOrAssumption | None = Field(None, description="Figure key of the power (W) or an assumption.")
    power_scope: Literal["chip", "board", "system"] = Field(
        "system", description="What the power figure covers: the chip, the board, or the whole system at the wall."
    )
    idle_power: FigureOrAssumption | None = Field(
        None, description="Edge: power (W) between requests, paid around the clock; unset: the full power."
    )
    life_months: Positive = Field(36, description="Edge device life for amortisation (assumption).")
    failures_per_year: FigureOrAssumption = Field(
        "assumption: 0.1 failures a device-year (power supply, storage, fan)",
        description="Edge: how often a device fails (figure key or assumption).",
    )
    repair_hours: FigureOrAssumption = Field(
        "assumption: 48 h to ship and swap in a spare", description="Edge: how long a failed device is down."
    )
    maintenance_usd_month: float = Field(2.0, ge=0, description="Edge upkeep per device-month (assumption).")
    accelerators: dict[str, Positive] = Field(
        {}, description="Cloud: extended resources one instance requests in Kubernetes (e.g. nvidia.com/gpu: 1)."
    )
    note: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> Device:
        modeled = self.reference_latency is not None or self.reference_throughput is not None
        if (self.measured_target is None) != modeled:
            raise ValueError("give measured_target, or reference_latency and/or reference_throughput")
        if self.role == "cloud" and self.hourly is None:
            raise ValueError("a cloud device needs hourly (its USD/h)")
        return self


CITED_FIELDS = (  # a use case's numbers, each citing a figure or an assumption in `sources`
    "latency_budget_ms",
    "peak_rps",
    "availability_pct",
    "mean_outage_min",
    "bytes_per_inference",
    "fleet_size",
    "daily_volume",
)


class UseCase(Section):
    """What an application needs; every number cites a figure key or is marked 'assumption: …' in `sources`."""

    model: str = Field(description="A zoo model or one of shared.custom_models.")
    latency_budget_ms: float | None = Field(gt=0, description="Latency budget; null means no bound (batch).")
    percentile: float = Field(99.0, ge=50, lt=100, description="The percentile the budget applies to.")
    peak_rps: float = Field(gt=0, description="Peak request rate per device or site.")
    sensitivity: Literal["public", "personal", "regulated"] = Field(
        description="regulated: raw inputs may not leave the device."
    )
    availability_pct: float = Field(gt=0, le=100, description="Share of time the network is up.")
    mean_outage_min: float = Field(gt=0, description="Mean length of an outage, minutes.")
    bytes_per_inference: Positive = Field(description="Bytes sent up per request.")
    fleet_size: Positive = Field(description="Devices or sites.")
    daily_volume: Positive = Field(description="Inferences per day across the fleet.")
    network: str = Field(description="A measurements.network_profiles name: the path to the cloud.")
    data_origin: Literal["device", "cloud"] = Field(
        "device", description="Where inputs start and answers are used: on the device, or in cloud storage."
    )
    sources: dict[str, FigureOrAssumption] = Field(description="Field → figure key or 'assumption: …'.")

    @model_validator(mode="after")
    def _every_number_cited(self) -> UseCase:
        missing = [n for n in CITED_FIELDS if n not in self.sources]
        if missing:
            raise ValueError(f"sources must cite a figure key or 'assumption: …' for {missing}")
        return self


class UseCasesSection(Section):
    precision: Precision = Field("int8", description="Precision on every option unless a device says otherwise.")
    devices: dict[str, Device] = Field(
        default_factory=lambda: {k: Device(**v) for k, v in catalogue.DEFAULT_DEVICES.items()},
        min_length=1,
        description="Deployment options.",
    )
    cases: dict[str, UseCase] = Field(
        default_factory=lambda: {k: UseCase(**v) for k, v in catalogue.DEFAULT_CASES.items()},
        min_length=1,
        description="Applications to score.",
    )
    mc_draws: Positive = Field(4000, description="Monte Carlo draws of compute + network per option.")
    peak_to_mean: float = Field(
        3.0, ge=1, description="Cloud sizing: the fleet's peak rate over its daily average (assumption)."
    )
    sweep_points: Positive = Field(13, description="Points per sensitivity sweep.")
    required_chance: float = Field(
        0.8,
        gt=0,
        le=1,
        description="The recommendation is the cheapest option that meets every requirement in at least this share "
        "of resamples of the measurements; when no feasible option is that sure, the cheapest feasible one, called "
        "uncertain (a policy, not a sourced figure).",
    )


class Cascade(Section):
    edge_model: Literal["digits_linear", "digits_cnn"] = Field("digits_linear", description="Answers when confident.")
    cloud_model: Literal["digits_linear", "digits_cnn"] = Field("digits_cnn", description="Served; takes the rest.")
    network: str = Field("home-wifi", description="The network profile between the edge and the server.")
    thresholds: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        [0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999],
        min_length=1,
        description="Confidence thresholds; answers below one go to the cloud (edge only and cloud only are added).",
    )
    requests: Positive = Field(
        200, description="Test inputs sent end to end (edge model, then the server over the path), per threshold."
    )


class Split(Section):
    model: Literal[ZOO] = Field("resnet50", description="The model cut into an edge head and a cloud tail.")
    profiles: list[str] = Field(
        ["same-zone", "same-region", "home-wifi", "4g"], min_length=1, description="Network profiles to split over."
    )
    measured_cuts: Positive = Field(2, description="Best predicted cuts per profile that are also measured.")
    requests: Positive = Field(20, description="Emulated requests per measured cut and profile.")
    edge_threads: Positive = Field(1, description="Threads of the edge head (the cloud tail uses cloud threads).")
    cloud_threads: Positive = Field(2, description="Threads of the served tail.")


class AnalysisSection(Section):
    horizon_months: Positive = Field(60, description="TCO horizon in months.")
    sensitivity: list[Annotated[float, Field(gt=0)]] = Field(
        [0.5, 2.0], min_length=1, description="Scales applied to price, volume and device life for break-even."
    )
    cloud_hourly: FigureOrAssumption = Field(
        "aws_c7i_xlarge_hour", description="Figure key of the USD/h that prices the measured server's requests."
    )
    cascade: Cascade = Field(default_factory=Cascade)
    split: Split = Field(default_factory=Split)


class GenerativeSection(Section):
    model: str = Field(
        SHIPPED_LLM,
        description="The language model: the shipped SmolLM2-135M or a custom model with a gguf_path or an hf_path.",
    )
    runtimes: list[str] = Field(
        ["transformers", "llama.cpp", "ort-genai"],
        min_length=1,
        description="Generative runtimes (edgecloud/runtimes modules defining GENERATOR); the first is the reference.",
    )
    llm_threads: Positive = Field(2, description="Threads of every generative runtime and of its server.")
    context: Positive = Field(1024, description="Context window each runtime is loaded with, in tokens.")
    prompt_tokens: Positive = Field(64, description="Prompt length of the timed requests.")
    output_tokens: Annotated[int, Field(ge=2)] = Field(
        24, description="Greedy tokens per timed request (fixed); the timed answers are also compared with fp32's."
    )
    requests: Annotated[int, Field(ge=3)] = Field(8, description="Timed requests per runtime, each a new prompt.")
    warmup: int = Field(2, ge=0, description="Untimed requests before timing, on prompts of their own.")
    prompt_lengths: list[Positive] = Field(
        [16, 64, 256], min_length=1, description="Prompt lengths of the TTFT-against-prompt curve (prefill)."
    )
    prefill_repeats: Positive = Field(2, description="Requests per prompt length of that curve.")
    long_output_tokens: Annotated[int, Field(ge=8)] = Field(
        96, description="Tokens of the one long answer that shows the token gap growing with context."
    )
    perplexity_tokens: Annotated[int, Field(ge=16)] = Field(
        256, description="Tokens of the shipped text (data/generative/corpus.txt) that perplexity is computed on."
    )
    served_profiles: list[str] = Field(
        ["home-wifi", "4g", "cross-country"],
        description="Network profiles the streamed answers are measured over (a home, a phone, an API a region away).",
    )
    served_concurrency: Annotated[int, Field(ge=2)] = Field(2, description="Clients streaming at once from the server.")
    scaling_runtimes: list[str] = Field(
        ["llama.cpp"],
        description="Runtimes also timed at one thread: decode that speeds up with cores more than memory does is "
        "bound by arithmetic.",
    )
    loadgen_qps: list[Annotated[float, Field(gt=0)]] = Field(
        [],
        description="Rates (queries/s) of MLPerf LoadGen Server runs with token latencies against llama.cpp's "
        "server; empty: none (a VALID run needs about 460 queries, minutes on a small CPU: full.yaml runs one).",
    )
    loadgen_queries: Positive = Field(
        460, description="min_query_count of each token-latency run (early stopping on TTFT and TPOT p99)."
    )
    loadgen_duration_s: float = Field(10.0, gt=0, description="min_duration of each token-latency run.")
    ttft_bound: FigureOrAssumption = Field(
        "mlperf_llama31_8b_ttft_bound", description="Figure key (or assumption) of the TTFT p99 bound, ms."
    )
    tpot_bound: FigureOrAssumption = Field(
        "mlperf_llama31_8b_tpot_bound", description="Figure key (or assumption) of the TPOT p99 bound, ms."
    )
    llm_url: str | None = Field(
        None,
        description="Any OpenAI-compatible base URL (…/v1: vLLM, TGI, Ollama, llama.cpp, a hosted API) to measure.",
    )
    llm_model: str = Field("smollm2-135m", description="The model name llm_url serves.")
    llm_key_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding llm_url's API key (never the key).",
    )

    @field_validator("runtimes", "scaling_runtimes")
    @classmethod
    def _registered(cls, names: list[str]) -> list[str]:
        """Every name is a registered generative runtime, each once."""
        from edgecloud.runtimes import registry  # names only: runtime modules load their frameworks on use

        known = registry.generator_names()
        if unknown := [n for n in names if n not in known]:
            raise ValueError(f"unknown generative runtime {unknown[0]!r}; choose from {', '.join(known)}")
        if len(set(names)) != len(names):
            raise ValueError("a runtime is listed twice")
        return names


class SpeechSection(Section):
    runtime: str = Field("ctranslate2", description="Speech runtime (a runtimes module defining RECOGNIZER).")
    precisions: list[str] = Field(
        ["fp32", "int8"], min_length=1, description="Precisions the speech model runs in; the first is the reference."
    )
    speech_threads: Positive = Field(2, description="Threads of the speech runtime.")
    warmup: int = Field(1, ge=0, description="Untimed transcriptions before timing, per precision.")
    repeats: Positive = Field(2, description="Timed passes over every utterance of the recording, per precision.")
    encoder_repeats: Annotated[int, Field(ge=3)] = Field(
        5, description="Timed runs of the encoder alone (its fixed 30-second window), per precision."
    )
    long_form: bool = Field(True, description="Also transcribe the whole recording in one call, per precision.")

    @model_validator(mode="after")
    def _registered(self) -> SpeechSection:
        """The runtime is registered and offers every precision, each once."""
        from edgecloud.runtimes import registry  # names only: runtime modules load their frameworks on use

        known = registry.defined("RECOGNIZER")
        if self.runtime not in known:
            raise ValueError(f"runtime: unknown speech runtime {self.runtime!r}; choose from {', '.join(known)}")
        offered = known[self.runtime].precisions
        if unknown := [p for p in self.precisions if p not in offered]:
            raise ValueError(f"precisions: {self.runtime} offers {', '.join(offered)}, not {unknown[0]!r}")
        if len(set(self.precisions)) != len(self.precisions):
            raise ValueError("precisions: a precision is listed twice")
        return self


class ReportSection(Section):
    identity: bool = Field(False, description="Show this machine's host name and home paths in the report.")


SECTIONS: dict[str, type[Section]] = {
    "system": SystemSection,
    "concepts": ConceptsSection,
    "measurements": MeasurementsSection,
    "usecases": UseCasesSection,
    "analysis": AnalysisSection,
    "generative": GenerativeSection,
    "speech": SpeechSection,
}
NOTEBOOK_SECTIONS = {n.id: n.section for n in NOTEBOOKS}
# What a notebook reads from another section (notebook 03 scores use cases over notebook 02's network profiles).
BORROWED = {
    "03-use-cases": {"network_profiles": "measurements", "cloud": "measurements"},
    "04-metrics-analysis": {"network_profiles": "measurements", "loadgen": "measurements"},
    "05-generative-inference": {"network_profiles": "measurements"},
    "06-speech-recognition": {"network_profiles": "measurements"},
}


class Params(Section):
    shared: Shared = Field(default_factory=Shared)
    system: SystemSection = Field(default_factory=SystemSection)
    concepts: ConceptsSection = Field(default_factory=ConceptsSection)
    measurements: MeasurementsSection = Field(default_factory=MeasurementsSection)
    usecases: UseCasesSection = Field(default_factory=UseCasesSection)
    analysis: AnalysisSection = Field(default_factory=AnalysisSection)
    generative: GenerativeSection = Field(default_factory=GenerativeSection)
    speech: SpeechSection = Field(default_factory=SpeechSection)
    report: ReportSection = Field(default_factory=ReportSection)

    @model_validator(mode="after")
    def _references_exist(self) -> Params:
        models = set(ZOO) | {c.name for c in self.shared.custom_models if not c.generative}
        language = {SHIPPED_LLM} | {c.name for c in self.shared.custom_models if c.generative}
        if self.generative.model not in language:
            raise ValueError(
                f"generative.model: {self.generative.model!r} is neither {SHIPPED_LLM} nor a custom model with a "
                "gguf_path or an hf_path"
            )
        if self.measurements.model not in models:
            raise ValueError(f"measurements.model: {self.measurements.model!r} is neither in the zoo nor custom")
        measured = {t.name for t in self.measurements.edge_targets} | {CLOUD_CPU}
        for name, case in self.usecases.cases.items():
            if case.model not in models:
                raise ValueError(f"usecases.cases.{name}.model: {case.model!r} is neither in the zoo nor custom")
            if case.network not in self.measurements.network_profiles:
                raise ValueError(f"usecases.cases.{name}.network: {case.network!r} is not a network profile")
        profiles = self.measurements.network_profiles
        if self.analysis.cascade.network not in profiles:
            raise ValueError(f"analysis.cascade.network: {self.analysis.cascade.network!r} is not a network profile")
        for name in self.analysis.split.profiles:
            if name not in profiles:
                raise ValueError(f"analysis.split.profiles: {name!r} is not a network profile")
        for name in self.generative.served_profiles:
            if name not in profiles:
                raise ValueError(f"generative.served_profiles: {name!r} is not a network profile")
        for name, device in self.usecases.devices.items():
            if device.measured_target and not device.measured_machine and device.measured_target not in measured:
                raise ValueError(
                    f"usecases.devices.{name}.measured_target: {device.measured_target!r} is not "
                    f"measured here ({sorted(measured)})"
                )
        return self

    def for_notebook(self, notebook: str) -> dict:
        """The flat papermill parameters of one notebook: shared fields, its section's, and what it borrows."""
        section = getattr(self, NOTEBOOK_SECTIONS[notebook])
        borrowed = {k: getattr(self, s).model_dump()[k] for k, s in BORROWED.get(notebook, {}).items()}
        return {**self.shared.model_dump(), **section.model_dump(), **borrowed}


class ParamsError(Exception):
    """A params file that cannot be used; str() is one line per problem."""


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[", "constrained-")):
            out += f".{part}" if out else str(part)
    return out


def _cut(text: str, limit: int = 80) -> str:
    """A value as shown in a message: at most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


MOVED = {"concepts.calibration_samples": "shared.calibration_samples"}  # keys that moved, so old files say where


def format_errors(path: Path | str, err: ValidationError) -> str:
    """One line per problem: file, key path, bad value, what is allowed."""
    lines = []
    for e in err.errors():
        where = _loc(e["loc"]) or "(top level)"
        if e["type"] == "missing":
            lines.append(f"{path}: {where}: required key is missing")
        elif e["type"] == "extra_forbidden" and where in MOVED:
            lines.append(f"{path}: {where}: this key is now {MOVED[where]}")
        elif e["type"] == "extra_forbidden":
            lines.append(f"{path}: {where}: unknown key (allowed keys are listed in README.md#parameters)")
        elif not e["loc"] and e["type"] == "value_error":  # a cross-field rule: its message names the key
            lines.append(f"{path}: {e['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{path}: {where}: {_cut(repr(e['input']))} is not allowed: {e['msg']}")
    return "\n".join(lines)


def _merge(base: dict, overlay: dict) -> dict:
    """Deep-merge overlay into base: mappings merge key by key, anything else (lists too) replaces."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: a few lines cannot expand into gigabytes (a 'billion laughs')."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"aliases (*name) are not allowed in params, line {mark.line + 1}")
        return super().compose_node(parent, index)


def _yaml_error(e: yaml.YAMLError) -> str:
    """A YAML error in one line: what, and where."""
    mark = getattr(e, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{getattr(e, 'problem', None) or str(e).splitlines()[0]}{where}"


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """A params mapping with its `extends:` chain resolved (relative to the file)."""
    if not path.is_file():
        where = f" (extended by {chain[-1]})" if chain else ""
        raise ParamsError(f"{path}: no such params file{where}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not a text file (params are UTF-8 YAML)") from None
    if not text.strip():
        raise ParamsError(f"{path}: the file is empty (start from params/default.yaml)")
    try:
        raw = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {_yaml_error(e)}") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: (top level): expected a mapping of sections, got {type(raw).__name__}")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    base = (path.parent / str(parent)).resolve()
    if base in chain or base == path.resolve():
        raise ParamsError(f"{path}: extends: {parent!r} makes a cycle")
    return _merge(_read_yaml(base, (*chain, path.resolve())), raw)


def load_params(path: Path | str) -> Params:
    """Read and validate a params YAML file (an overlay when it says `extends: default.yaml`), raising ParamsError
    with one readable line per problem."""
    path = Path(path)
    raw = _read_yaml(path)
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        raise ParamsError(format_errors(path, e)) from None


def params_table() -> str:
    """A Markdown table of every parameter, generated from the schema's descriptions."""
    rows = ["| key | default | description |", "| --- | --- | --- |"]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            key = f"{prefix}{name}"
            if isinstance(ann, type) and issubclass(ann, Section) and ann is not Section:
                walk(ann, key + ".")
                continue
            default = field.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump()
            if isinstance(default, list) and default and isinstance(default[0], BaseModel):
                default = [d.model_dump() for d in default]
            shown = "required" if field.is_required() else f"`{default}`"
            if len(shown) > 60:
                shown = "see params/default.yaml"
            rows.append(f"| `{key}` | {shown} | {field.description or ''} |")

    walk(Params, "")
    return "\n".join(rows)


def from_namespace(notebook: str, namespace: dict) -> tuple[Shared, Section]:
    """Rebuild and validate a notebook's (shared, section) params from its parameters-cell variables."""
    section_cls = SECTIONS[NOTEBOOK_SECTIONS[notebook]]
    shared = Shared.model_validate({k: namespace[k] for k in Shared.model_fields})
    return shared, section_cls.model_validate({k: namespace[k] for k in section_cls.model_fields})
