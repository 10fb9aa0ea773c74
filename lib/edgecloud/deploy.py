"""Take a cloud answer to a cluster: for each use case whose recommendation is a cloud option, the MLServer settings
that were measured (the batching parameters included) and a KServe `InferenceService` with replicas from the case's
`instances`, each checked (MLServer's own settings models, KServe's CRD schema) before anything is written."""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from edgecloud import paths
from edgecloud.serving import ServedModel

SCHEMA = Path(__file__).parent / "kserve_inferenceservice_v1beta1.json.gz"
HTTP_PORT, GRPC_PORT = 8080, 8081
IMAGE = "edgecloud-serving:latest"  # built from serving.Dockerfile (README: "Take a cloud answer to a cluster")
MEMORY_HEADROOM = 1.25  # the request: the measured peak RSS and a quarter more; the limit: twice the request


class ManifestInvalid(ValueError):
    """A generated manifest that KServe's schema rejects (a bug here, never written)."""


@dataclass(frozen=True)
class Deployment:
    """One use case's cloud answer, as it would be deployed."""

    case: str
    option: str
    kind: str  # measured: the server measured here; modeled: other hardware, from its published figures
    served: ServedModel
    replicas: int
    cpu: int
    memory_mib: int  # the request; measured as the server's peak RSS
    accelerators: dict[str, int]
    image: str
    note: str


class _Dumper(yaml.SafeDumper):
    """YAML with multi-line strings (the settings files in the ConfigMap) as literal blocks."""


_Dumper.add_representer(
    str,
    lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None),
)


def dns_name(text: str) -> str:
    """A Kubernetes resource name (RFC 1035 label) from a use-case name."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:53].strip("-")
    return name if name and name[0].isalpha() else f"uc-{name}"[:53]


def memory_request_mib(rss_peak_mib: float) -> int:
    """The memory request: the measured peak RSS with headroom, rounded up to 64 MiB."""
    return int(math.ceil(rss_peak_mib * MEMORY_HEADROOM / 64) * 64)


def server_settings() -> dict:
    """MLServer's settings.json: the measured server's settings, listening on the pod's ports."""
    return {
        "host": "0.0.0.0",
        "http_port": HTTP_PORT,
        "grpc_port": GRPC_PORT,
        "parallel_workers": 0,
        "load_models_at_startup": True,
    }


def inference_service(d: Deployment) -> tuple[dict, dict]:
    """The InferenceService (raw deployment, fixed replicas) and the ConfigMap that carries MLServer's settings."""
    name = dns_name(d.case)
    resources = {
        "requests": {"cpu": str(d.cpu), "memory": f"{d.memory_mib}Mi"},
        "limits": {
            "cpu": str(d.cpu),
            "memory": f"{2 * d.memory_mib}Mi",
            **{k: str(v) for k, v in d.accelerators.items()},
        },
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-mlserver"},
        "data": {
            "settings.json": json.dumps(server_settings(), indent=2),
            "model-settings.json": json.dumps(d.served.settings(), indent=2),
        },
    }
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "edgecloud"},
            "annotations": {
                "serving.kserve.io/deploymentMode": "RawDeployment",
                "edgecloud/use-case": d.case,
                "edgecloud/option": d.option,
                "edgecloud/kind": d.kind,
                "edgecloud/note": d.note,
            },
        },
        "spec": {
            "predictor": {
                "minReplicas": d.replicas,
                "maxReplicas": d.replicas,
                "containers": [
                    {
                        "name": "kserve-container",
                        "image": d.image,
                        "command": ["python", "-m", "edgecloud.serving_main", "/mnt/models"],
                        "env": [{"name": "OMP_NUM_THREADS", "value": str(d.served.threads)}],
                        "ports": [{"name": "http1", "containerPort": HTTP_PORT, "protocol": "TCP"}],
                        "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": HTTP_PORT}},
                        "resources": resources,
                        "volumeMounts": [{"name": "mlserver", "mountPath": "/mnt/models", "readOnly": True}],
                    }
                ],
                "volumes": [
                    {
                        "name": "mlserver",
                        "configMap": {
                            "name": f"{name}-mlserver",
                            "items": [
                                {"key": "settings.json", "path": "settings.json"},
                                {"key": "model-settings.json", "path": f"{d.served.name}/model-settings.json"},
                            ],
                        },
                    }
                ],
            }
        },
    }
    return isvc, config


def summary(deployments: list[Deployment]) -> pd.DataFrame:
    """What was written, one row per use case."""
    return pd.DataFrame(
        [
            {
                "use case": d.case,
                "option": d.option,
                "kind": d.kind,
                "model": d.served.model,
                "replicas": d.replicas,
                "CPU": d.cpu,
                "memory (MiB)": d.memory_mib,
                "accelerators": ", ".join(f"{k}: {v}" for k, v in d.accelerators.items()) or "—",
                "batching": f"≤ {d.served.max_batch_size} within {d.served.max_batch_time_ms:g} ms",
                "folder": f"outputs/deploy/{dns_name(d.case)}/",
            }
            for d in deployments
        ],
        columns=[
            "use case",
            "option",
            "kind",
            "model",
            "replicas",
            "CPU",
            "memory (MiB)",
            "accelerators",
            "batching",
            "folder",
        ],
    ).set_index("use case")


@functools.cache
def schema() -> dict:
    """KServe's InferenceService v1beta1 schema (from its CRD, see `schema_from_crd`)."""
    return json.loads(gzip.decompress(SCHEMA.read_bytes()))


def validate(isvc: dict) -> None:
    """Raise ManifestInvalid naming the field when KServe's CRD schema (strict about unknown fields) rejects it."""
    import jsonschema

    errors = sorted(jsonschema.Draft7Validator(schema()).iter_errors(isvc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        raise ManifestInvalid(f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}")


_CHECK_SETTINGS = """
import json, sys
from mlserver.settings import ModelSettings, Settings
doc = json.load(sys.stdin)
try:
    Settings.model_validate(doc["server"])
    for settings in doc["models"]:
        ModelSettings.model_validate(settings).implementation  # the property imports the runtime class
except Exception as e:
    sys.exit(str(e))
"""


def validate_settings(models: list[dict]) -> None:
    """MLServer's own settings models accept the files, the runtime class included; in a child process, because
    MLServer's protobufs and the gRPC client's (both package `inference`) cannot live in one process."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK_SETTINGS],
        input=json.dumps({"server": server_settings(), "models": models}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode:
        raise ValueError(f"MLServer refuses the settings: {proc.stderr.strip()[-500:]}")


def write(deployments: list[Deployment], folder: Path | None = None) -> list[Path]:
    """Check every deployment, then replace outputs/deploy/ with one folder per use case; returns the files."""
    folder = folder or paths.outputs() / "deploy"
    built = []
    for d in deployments:
        isvc, config = inference_service(d)
        validate(isvc)
        built.append((dns_name(d.case), isvc, config, d.served.settings()))
    if deployments:
        validate_settings([d.served.settings() for d in deployments])
    stage = Path(tempfile.mkdtemp(prefix=".deploy-", dir=folder.parent if folder.parent.exists() else None))
    written = []
    for name, isvc, config, settings in built:
        (stage / name).mkdir()
        files = {
            "inferenceservice.yaml": yaml.dump_all([config, isvc], Dumper=_Dumper, sort_keys=False),
            "model-settings.json": json.dumps(settings, indent=2) + "\n",
            "settings.json": json.dumps(server_settings(), indent=2) + "\n",
        }
        for file, text in files.items():
            (stage / name / file).write_text(text)
            written.append(folder / name / file)
    shutil.rmtree(folder, ignore_errors=True)
    stage.rename(folder)
    return written


def schema_from_crd(crd: dict) -> dict:
    """The v1beta1 InferenceService schema of KServe's CRD (config/crd/full/serving.kserve.io_inferenceservices.yaml)
    as JSON Schema: descriptions and status dropped, and unknown fields refused as `kubectl apply` (strict) does."""

    def strict(node: object) -> object:
        if isinstance(node, list):
            return [strict(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: strict(v) for k, v in node.items() if k != "description"}
        if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
        return out

    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta1")
    found = version["schema"]["openAPIV3Schema"]
    found["properties"].pop("status", None)
    found["properties"]["metadata"] = {"type": "object"}  # ObjectMeta: checked by the API server, not the CRD
    return strict(found)
