"""The cloud answer as a cluster would take it: manifests KServe's CRD schema accepts, settings MLServer accepts."""

from __future__ import annotations

import json

import pytest
import yaml

from edgecloud import deploy
from edgecloud.serving import ServedModel

SERVED = ServedModel("minilm", "minilm", precision="int8", threads=2, max_batch_size=8, max_batch_time_ms=5.0)


def _deployment(**changes) -> deploy.Deployment:
    fields = dict(
        case="Smart home voice",
        option="t4",
        kind="modeled",
        served=SERVED,
        replicas=3,
        cpu=2,
        memory_mib=832,
        accelerators={"nvidia.com/gpu": 1},
        image="edgecloud-serving:latest",
        note="t4: modeled",
    )
    return deploy.Deployment(**{**fields, **changes})


def test_written_manifests_carry_the_measured_configuration_and_the_sizing(tmp_path) -> None:
    folder = tmp_path / "deploy"
    written = deploy.write([_deployment()], folder)
    assert sorted(p.name for p in written) == ["inferenceservice.yaml", "model-settings.json", "settings.json"]
    config, isvc = yaml.safe_load_all((folder / "smart-home-voice" / "inferenceservice.yaml").read_text())
    predictor = isvc["spec"]["predictor"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 3
    resources = predictor["containers"][0]["resources"]
    assert resources["requests"] == {"cpu": "2", "memory": "832Mi"}
    assert resources["limits"]["nvidia.com/gpu"] == "1"
    settings = json.loads(config["data"]["model-settings.json"])
    assert (
        settings == SERVED.settings() == json.loads((folder / "smart-home-voice" / "model-settings.json").read_text())
    )
    assert settings["max_batch_size"] == 8 and settings["max_batch_time"] == pytest.approx(0.005)
    paths = {i["path"] for i in predictor["volumes"][0]["configMap"]["items"]}
    assert paths == {"settings.json", "minilm/model-settings.json"}  # the folder layout `mlserver start` reads


def test_the_schema_refuses_an_unknown_field_and_a_wrong_type() -> None:
    isvc, _ = deploy.inference_service(_deployment())
    deploy.validate(isvc)
    isvc["spec"]["predictor"]["minReplica"] = 2  # a typo `kubectl apply` (strict) would refuse
    with pytest.raises(deploy.ManifestInvalid, match="minReplica"):
        deploy.validate(isvc)
    isvc, _ = deploy.inference_service(_deployment(replicas=0))
    isvc["spec"]["predictor"]["minReplicas"] = "three"
    with pytest.raises(deploy.ManifestInvalid, match=r"spec\.predictor\.minReplicas"):
        deploy.validate(isvc)


def test_an_invalid_manifest_is_never_written_and_the_last_good_folder_stays(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "deploy"
    deploy.write([_deployment()], folder)
    before = (folder / "smart-home-voice" / "inferenceservice.yaml").read_text()
    real = deploy.inference_service

    def broken(d):
        isvc, config = real(d)
        isvc["spec"]["predictor"]["containers"][0]["resources"]["limits"]["cpu"] = ["2"]
        return isvc, config

    monkeypatch.setattr(deploy, "inference_service", broken)
    with pytest.raises(deploy.ManifestInvalid):
        deploy.write([_deployment(case="another case")], folder)
    assert (folder / "smart-home-voice" / "inferenceservice.yaml").read_text() == before
    assert not (folder / "another-case").exists()


def test_mlserver_refuses_settings_it_cannot_load() -> None:
    deploy.validate_settings([SERVED.settings()])
    for change, named in (
        ({"max_batch_time": "soon"}, "max_batch_time"),
        ({"implementation": "edgecloud.gone.R"}, "gone"),
    ):
        with pytest.raises(ValueError, match=named):
            deploy.validate_settings([{**SERVED.settings(), **change}])


def test_checking_the_settings_leaves_the_grpc_client_usable() -> None:
    """MLServer's protobufs are never imported here: the gRPC client's share their package and would not load."""
    from edgecloud.client import connect

    deploy.validate_settings([SERVED.settings()])
    connect("grpc", "http://127.0.0.1:9", "127.0.0.1:9").close()  # loads tritonclient's protobufs: no clash


def test_the_schema_from_a_crd_drops_descriptions_and_is_strict_where_kubernetes_is() -> None:
    crd = {
        "spec": {
            "versions": [
                {
                    "name": "v1beta1",
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "metadata": {"type": "object"},
                                "spec": {
                                    "description": "x",
                                    "type": "object",
                                    "properties": {
                                        "a": {"type": "integer"},
                                        "free": {
                                            "type": "object",
                                            "properties": {"b": {"type": "string"}},
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                    },
                                },
                                "status": {"type": "object"},
                            },
                        }
                    },
                }
            ]
        }
    }
    found = deploy.schema_from_crd(crd)
    assert "status" not in found["properties"] and "description" not in found["properties"]["spec"]
    assert found["properties"]["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in found["properties"]["spec"]["properties"]["free"]


@pytest.mark.parametrize(("text", "name"), [("Smart home voice", "smart-home-voice"), ("3d scan", "uc-3d-scan")])
def test_use_case_names_become_kubernetes_names(text, name) -> None:
    assert deploy.dns_name(text) == name


def test_memory_is_the_measured_peak_with_headroom_in_64_mib_steps() -> None:
    assert deploy.memory_request_mib(600.0) == 768  # 600 × 1.25 = 750 → 768
    assert deploy.memory_request_mib(614.4) == 768
    assert deploy.memory_request_mib(615.0) == 832
