"""The deployment example (docs/deploy): a Kubernetes manifest valid against the API's schemas,
whose replicas are sent requests only when ready and run `dubber serve` with options it has."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import yaml

from dubber.cli.app import command as command_line
from dubber.engines.wire import READY_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "dubber-serve.yaml"


def resources() -> dict[str, dict]:
    return {r["kind"]: r for r in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8"))}


def test_the_manifest_is_valid_kubernetes():
    for resource in resources().values():
        kubernetes_validate.validate(resource, "1.37.0", strict=True)


def test_replicas_take_requests_only_when_ready_behind_one_service():
    deployment, service = resources()["Deployment"], resources()["Service"]
    assert deployment["spec"]["replicas"] >= 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    ready = container["readinessProbe"]["httpGet"]
    assert ready["path"] == READY_PATH and ports[ready["port"]] == 8000
    assert container["startupProbe"]["httpGet"]["path"] == READY_PATH
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert {port["targetPort"] for port in service["spec"]["ports"]} == set(ports)


def test_the_container_runs_dubber_serve_with_options_it_has():
    (container,) = resources()["Deployment"]["spec"]["template"]["spec"]["containers"]
    command, *arguments = container["args"]
    serve = command_line().get_command(None, command)  # type: ignore[union-attr]
    context = serve.make_context(command, list(arguments))
    assert context.params["host"] == "0.0.0.0" and context.params["http_port"] == 8000
