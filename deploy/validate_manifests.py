#!/usr/bin/env python3
"""Checks that the deployment files agree with each other and with the real `tad` binary.

Run by deploy/validate.sh (which also checks the schemas); needs PyYAML. Arguments: the
repository root, then the rendered (kustomize) output of each Kubernetes tree to check.

What it checks, each reported as one `ok`/`FAIL` line:
  * kustomizations: every listed resource, patch and generator file exists, every patch and
    `replicas` entry targets a resource of its bases, overlays only patch what exists;
  * every TAD_* variable set anywhere (compose, ConfigMap, container env) is a declared key of
    deploy/config-keys.json (`tad config keys --json`, generated from common/src/config/keys.rs),
    with no empty value a number parser would reject;
  * every command given to the `tad` image is a subcommand of tad/src/cli.rs;
  * listen ports, gRPC service ports, probe ports and *_ADDR URLs agree with the declared
    defaults (resource 50051, artifact 50052, jobs 50053, appinhouse 50054, gateway 8080);
    every role that calls another service is given its TAD_<SERVICE>_ADDR (the default is
    loopback);
  * gRPC probe service names exist in proto/protos, HTTP probe and scrape paths are routes of
    gateway/src/routes.rs;
  * each rendered Deployment: probes, resources, non-root, read-only root filesystem; gateway,
    jobs and appinhouse with two replicas or more; secretKeyRefs only to keys of secret.example.yaml;
  * the Prometheus and OpenTelemetry collector configs reference what they define.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1]).resolve()
RENDERED = [Path(p) for p in sys.argv[2:]]

passed = 0
failed = 0


def check(name: str, problems: list[str]) -> None:
    global passed, failed
    if problems:
        failed += 1
        print(f"FAIL {name}")
        for problem in problems:
            print(f"     - {problem}")
    else:
        passed += 1
        print(f"ok   {name}")


def load_all(path: Path) -> list[dict]:
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


# --- what the binary accepts -----------------------------------------------------------------

cli_rs = (ROOT / "tad/src/cli.rs").read_text()
telemetry_rs = (ROOT / "common/src/telemetry.rs").read_text()
routes_rs = (ROOT / "gateway/src/routes.rs").read_text()

# The declared configuration keys: `tad config keys --json`, generated from
# common/src/config/keys.rs (a test of common fails when this file is not current).
CONFIG_KEYS = json.loads((ROOT / "deploy/config-keys.json").read_text())
SERVICES = {  # key -> (VARIABLE, default port), e.g. resource -> (RESOURCE, 50051)
    service["name"]: (service["variable"], int(service["port"])) for service in CONFIG_KEYS["services"]
}
GATEWAY_PORT = int(CONFIG_KEYS["gateway_port"])
KNOWN_VARS = {key["env"] for key in CONFIG_KEYS["keys"]}
# Parsed (numbers, booleans): an empty value is an error, not "unset".
PARSED_VARS = {key["env"] for key in CONFIG_KEYS["keys"] if key["kind"] == "parsed"}
OTHER_VARS = set(re.findall(r'"(OTEL_[A-Z_]+)"', telemetry_rs)) | {"RUST_LOG"}


def enum_variants(source: str, name: str) -> list[str]:
    body = re.search(r"pub enum " + name + r" \{(.*?)\n\}", source, re.S).group(1)
    return re.findall(r"^    ([A-Z]\w*)", body, re.M)


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


COMMANDS = {kebab(v) for v in enum_variants(cli_rs, "Command")}
APPINHOUSE_COMMANDS = {kebab(v) for v in enum_variants(cli_rs, "AppinhouseCommand")}
ROLE_PORTS = {  # the command of each long-running role -> the port it listens on
    ("gateway",): GATEWAY_PORT,
    ("resource",): SERVICES["resource"][1],
    ("artifact",): SERVICES["artifact"][1],
    ("jobs",): SERVICES["jobs"][1],
    ("appinhouse", "serve"): SERVICES["appinhouse"][1],
}
ROLE_SERVICE = {("resource",): "resource", ("artifact",): "artifact", ("jobs",): "jobs",
                ("appinhouse", "serve"): "appinhouse"}
# The services each role calls (tad/src/runtime.rs): the gateway all of them, jobs resource and
# artifact, artifact resource (an upload's application must exist), resource jobs (a cluster a
# job step is bound to is not deleted).
ROLE_DIALS = {
    ("gateway",): ("resource", "artifact", "jobs", "appinhouse"),
    ("jobs",): ("resource", "artifact"),
    ("artifact",): ("resource",),
    ("resource",): ("jobs",),
}

GRPC_SERVICES = set()
for proto in (ROOT / "proto/protos").rglob("*.proto"):
    text = proto.read_text()
    package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
    GRPC_SERVICES |= {f"{package}.{s}" for s in re.findall(r"^service\s+(\w+)", text, re.M)}
GRPC_SERVICES.add("")  # the server's overall health
HTTP_ROUTES = set(re.findall(r'(?:get|post|delete)\("([^"]+)", to!', routes_rs))

check(
    "the binary's facts were read (roles, ports, variables, routes, gRPC services)",
    [p for p, ok in [
        ("service ports from deploy/config-keys.json", set(SERVICES) == {"resource", "artifact", "jobs", "appinhouse"}),
        ("subcommands from cli.rs", {"gateway", "resource", "artifact", "jobs", "appinhouse", "migrate"} <= COMMANDS),
        ("appinhouse serve from cli.rs", "serve" in APPINHOUSE_COMMANDS),
        ("TAD_* variables from deploy/config-keys.json", {"TAD_LISTEN", "TAD_JWT_SECRET", "TAD_RESOURCE_LISTEN"} <= KNOWN_VARS),
        ("OTEL_EXPORTER_OTLP_ENDPOINT from telemetry.rs", "OTEL_EXPORTER_OTLP_ENDPOINT" in OTHER_VARS),
        ("/healthz, /readyz, /metrics from routes.rs", {"/healthz", "/readyz", "/metrics"} <= HTTP_ROUTES),
        ("gRPC services from proto/", len(GRPC_SERVICES) >= 5),
    ] if not ok],
)


def command_problems(where: str, argv: list[str]) -> list[str]:
    if not argv or argv[0] not in COMMANDS:
        return [f"{where}: {argv!r} is not a tad subcommand ({', '.join(sorted(COMMANDS))})"]
    if argv[0] == "appinhouse" and (len(argv) < 2 or argv[1] not in APPINHOUSE_COMMANDS):
        return [f"{where}: {argv!r}: appinhouse takes {', '.join(sorted(APPINHOUSE_COMMANDS))}"]
    return []


def role_of(argv: list[str]) -> tuple[str, ...] | None:
    for role in ROLE_PORTS:
        if tuple(argv[: len(role)]) == role:
            return role
    return None


def env_problems(where: str, env: dict[str, str | None]) -> list[str]:
    problems = []
    for name, value in env.items():
        if name.startswith("TAD_") and name not in KNOWN_VARS:
            problems.append(f"{where}: {name} is not a declared key (deploy/config-keys.json)")
        elif not name.startswith("TAD_") and name not in OTHER_VARS:
            problems.append(f"{where}: {name} is not a variable tad reads")
        if name in PARSED_VARS and value is not None and str(value).strip() == "":
            problems.append(f"{where}: {name} is empty (tad parses it: an error at startup)")
    return problems


def listen_port_problems(where: str, role, env: dict[str, str | None]) -> list[str]:
    if role is None:
        return []
    variable = "TAD_LISTEN" if role == ("gateway",) else f"TAD_{SERVICES[ROLE_SERVICE[role]][0]}_LISTEN"
    value = env.get(variable)
    if value is None:
        return [f"{where}: {variable} is not set (the default listens on 127.0.0.1 only)"]
    host, _, port = str(value).rpartition(":")
    problems = []
    if host in ("127.0.0.1", "localhost", "[::1]"):
        problems.append(f"{where}: {variable}={value} listens on loopback only")
    if port != str(ROLE_PORTS[role]):
        problems.append(f"{where}: {variable}={value}, expected port {ROLE_PORTS[role]}")
    return problems


def dial_problems(where: str, role, env: dict[str, str | None]) -> list[str]:
    """A role that calls another service is told where it is."""
    return [
        f"{where}: TAD_{SERVICES[service][0]}_ADDR is not set (`tad {' '.join(role)}` calls {service})"
        for service in ROLE_DIALS.get(role, ())
        if f"TAD_{SERVICES[service][0]}_ADDR" not in env
    ]


def addr_problems(where: str, env: dict[str, str | None], hosts: dict[str, set[int]]) -> list[str]:
    """Every TAD_<SERVICE>_ADDR names a host that exists, on the service's port."""
    problems = []
    for key, (variable, port) in SERVICES.items():
        value = env.get(f"TAD_{variable}_ADDR")
        if value is None:
            continue
        match = re.fullmatch(r"https?://([\w.-]+):(\d+)/?", str(value))
        if not match:
            problems.append(f"{where}: TAD_{variable}_ADDR={value} is not http://HOST:PORT")
            continue
        host, addr_port = match.group(1).split(".")[0], int(match.group(2))
        if addr_port != port:
            problems.append(f"{where}: TAD_{variable}_ADDR={value}, expected port {port}")
        if host not in hosts or addr_port not in hosts[host]:
            problems.append(f"{where}: TAD_{variable}_ADDR={value}: no such service and port")
    return problems


# --- docker-compose.yml ------------------------------------------------------------------------

compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
services = compose.get("services", {})
tad_services = {
    name: svc for name, svc in services.items()
    if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile") == "deploy/Dockerfile"
}
compose_hosts: dict[str, set[int]] = {}
problems = []
for name, svc in tad_services.items():
    argv = [str(a) for a in svc.get("command", [])]
    problems += command_problems(f"compose {name}", argv)
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    role = role_of(argv)
    problems += env_problems(f"compose {name}", env)
    problems += listen_port_problems(f"compose {name}", role, env)
    problems += dial_problems(f"compose {name}", role, env)
    if role is not None:
        compose_hosts[name] = {ROLE_PORTS[role]}
for name, svc in tad_services.items():
    env = svc.get("environment") or {}
    problems += addr_problems(f"compose {name}", env, compose_hosts)
roles = {tuple(str(a) for a in svc.get("command", [])) for svc in tad_services.values()}
for role in list(ROLE_PORTS) + [("migrate",)]:
    if role not in roles:
        problems.append(f"compose: no service runs `tad {' '.join(role)}`")
for name in ("gateway", "jobs", "appinhouse"):
    if (services.get(name, {}).get("deploy") or {}).get("replicas", 1) < 2:
        problems.append(f"compose {name}: fewer than two replicas")
for name, svc in services.items():
    for dependency, condition in (svc.get("depends_on") or {}).items() if isinstance(svc.get("depends_on"), dict) else []:
        if dependency not in services:
            problems.append(f"compose {name}: depends on unknown service {dependency}")
        elif condition.get("condition") == "service_healthy" and "healthcheck" not in services[dependency]:
            problems.append(f"compose {name}: waits for {dependency} healthy, which has no healthcheck")
# Every ${VAR} the file needs from .env is documented in deploy/compose.env.example.
raw_compose = (ROOT / "docker-compose.yml").read_text()
needed = set(re.findall(r"\$\{([A-Z0-9_]+)(?::?[?-])?", raw_compose))
example = (ROOT / "deploy/compose.env.example").read_text()
documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, re.M))
for variable in sorted(needed - documented):
    problems.append(f"compose: ${{{variable}}} is not in deploy/compose.env.example")
for volume in [v.split(":")[0] for svc in services.values() for v in svc.get("volumes", []) if isinstance(v, str)]:
    if volume.startswith("./") and not (ROOT / volume).exists():
        problems.append(f"compose: bind mount {volume} does not exist")
check("docker-compose.yml agrees with the binary (commands, TAD_* variables, ports, addresses)", problems)

# --- Prometheus and the collector --------------------------------------------------------------

prometheus = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
problems = []
scraped = set()
for job in prometheus.get("scrape_configs", []):
    path = job.get("metrics_path", "/metrics")
    for sd in job.get("dns_sd_configs", []):
        for host in sd.get("names", []):
            scraped.add(host)
            port = sd.get("port")
            if host in tad_services:
                role = role_of([str(a) for a in tad_services[host].get("command", [])])
                if role != ("gateway",):
                    problems.append(f"prometheus: {host} serves no HTTP /metrics (gRPC only)")
                elif port != GATEWAY_PORT or path not in HTTP_ROUTES:
                    problems.append(f"prometheus: {host}:{port}{path} is not the gateway's /metrics")
            elif host not in services:
                problems.append(f"prometheus: {host} is not a compose service")
gateways = [n for n, s in tad_services.items() if role_of([str(a) for a in s.get("command", [])]) == ("gateway",)]
for name in gateways:
    if name not in scraped:
        problems.append(f"prometheus: gateway service {name} is not scraped")
check("deploy/prometheus.yml scrapes every gateway's /metrics (the only HTTP /metrics)", problems)

otel = yaml.safe_load((ROOT / "deploy/otel-collector.yaml").read_text())
problems = []
for pipeline, spec in otel.get("service", {}).get("pipelines", {}).items():
    for kind in ("receivers", "processors", "exporters"):
        for component in spec.get(kind, []):
            if component not in (otel.get(kind) or {}):
                problems.append(f"otel-collector: pipeline {pipeline} uses undefined {kind[:-1]} {component}")
grpc_endpoint = otel.get("receivers", {}).get("otlp", {}).get("protocols", {}).get("grpc", {}).get("endpoint", "")
for name, svc in tad_services.items():
    endpoint = (svc.get("environment") or {}).get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint and not str(endpoint).endswith(":" + grpc_endpoint.rpartition(":")[2]):
        problems.append(f"compose {name}: OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} is not the collector's OTLP/gRPC port")
check("deploy/otel-collector.yaml pipelines and the services' OTLP endpoint agree", problems)

# --- kustomizations (raw files) ----------------------------------------------------------------


def kustomize_tree(directory: Path, problems: list[str]) -> list[dict]:
    """The raw resources of a kustomization and its bases (before patches); checks references."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    resources: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            if not (path / "kustomization.yaml").exists():
                problems.append(f"{directory.relative_to(ROOT)}: {entry} has no kustomization.yaml")
            else:
                resources += kustomize_tree(path, problems)
        elif path.is_file():
            resources += load_all(path)
        else:
            problems.append(f"{directory.relative_to(ROOT)}: resource {entry} does not exist")
    for generator in kustomization.get("configMapGenerator", []) + kustomization.get("secretGenerator", []):
        for entry in generator.get("envs", []) + generator.get("files", []):
            if not (directory / entry.split("=")[-1]).is_file():
                problems.append(f"{directory.relative_to(ROOT)}: generator file {entry} does not exist")
        if generator.get("behavior") != "merge":
            resources.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}})
    names = {(r.get("kind"), r.get("metadata", {}).get("name")) for r in resources}
    for patch in kustomization.get("patches", []) + [{"path": p} for p in kustomization.get("patchesStrategicMerge", [])]:
        targets = []
        if "target" in patch:
            targets.append((patch["target"].get("kind"), patch["target"].get("name")))
        if "path" in patch:
            path = directory / patch["path"]
            if not path.is_file():
                problems.append(f"{directory.relative_to(ROOT)}: patch {patch['path']} does not exist")
                continue
            if "target" not in patch:
                for doc in load_all(path):
                    targets.append((doc.get("kind"), doc.get("metadata", {}).get("name")))
        for kind, name in targets:
            if (kind, name) not in names:
                problems.append(f"{directory.relative_to(ROOT)}: patch targets {kind}/{name}, which no base defines")
    for entry in kustomization.get("replicas", []):
        if not any(kind in ("Deployment", "StatefulSet") and name == entry["name"] for kind, name in names):
            problems.append(f"{directory.relative_to(ROOT)}: replicas for unknown {entry['name']}")
    for generator in kustomization.get("configMapGenerator", []):
        if generator.get("behavior") == "merge" and ("ConfigMap", generator["name"]) not in names:
            problems.append(f"{directory.relative_to(ROOT)}: merges into unknown ConfigMap {generator['name']}")
        for literal in generator.get("literals", []):
            name, _, value = literal.partition("=")
            problems.extend(env_problems(f"{directory.relative_to(ROOT)} literal", {name: value}))
        for entry in generator.get("envs", []):
            path = directory / entry
            if path.is_file():
                pairs = {}
                for line in path.read_text().splitlines():
                    if line.strip() and not line.lstrip().startswith("#"):
                        name, _, value = line.partition("=")
                        pairs[name.strip()] = value
                problems.extend(env_problems(str(path.relative_to(ROOT)), pairs))
    return resources


k8s = ROOT / "deploy/k8s"
trees = [k8s / "base"] + sorted(p for p in (k8s / "overlays").iterdir() if p.is_dir())
for tree in trees:
    problems = []
    kustomize_tree(tree, problems)
    check(f"{tree.relative_to(ROOT)}: kustomization references and patch targets exist", problems)

# --- rendered Kubernetes output ----------------------------------------------------------------

secret_example = load_all(k8s / "base/secret.example.yaml")[0]
SECRET_KEYS = set(secret_example.get("stringData", {})) | set(secret_example.get("data", {}))
SECRET_NAME = secret_example["metadata"]["name"]

for rendered in RENDERED:
    docs = load_all(rendered)
    problems = []
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    k8s_hosts: dict[str, set[int]] = {}
    for doc in docs:
        if doc["kind"] == "Service":
            k8s_hosts[doc["metadata"]["name"]] = {p["port"] for p in doc["spec"]["ports"]}
    workloads = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    seen_roles = set()
    for doc in workloads:
        where = f"{rendered.name} {doc['kind']}/{doc['metadata']['name']}"
        pod = doc["spec"]["template"]["spec"]
        pod_security = pod.get("securityContext", {})
        if not pod_security.get("runAsNonRoot"):
            problems.append(f"{where}: runAsNonRoot is not set")
        for container in pod["containers"]:
            argv = [str(a) for a in container.get("args", container.get("command", []))]
            problems += command_problems(where, argv)
            role = role_of(argv)
            seen_roles.add(role or tuple(argv))
            env: dict[str, str | None] = {}
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if ref not in configmaps:
                    problems.append(f"{where}: envFrom ConfigMap {ref} is not rendered")
                env.update(configmaps.get(ref, {}))
            for item in container.get("env", []):
                secret_ref = item.get("valueFrom", {}).get("secretKeyRef")
                if secret_ref:
                    if secret_ref["name"] != SECRET_NAME or secret_ref["key"] not in SECRET_KEYS:
                        problems.append(f"{where}: {item['name']} from {secret_ref['name']}/{secret_ref['key']}, not a key of secret.example.yaml")
                    env[item["name"]] = None
                else:
                    env[item["name"]] = item.get("value")
            problems += env_problems(where, env)
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if not security.get("readOnlyRootFilesystem"):
                problems.append(f"{where}: root filesystem is writable")
            resources = container.get("resources", {})
            if not resources.get("requests") or not resources.get("limits"):
                problems.append(f"{where}: no resource requests and limits")
            if doc["kind"] != "Deployment" or role is None:
                continue
            problems += listen_port_problems(where, role, env)
            problems += addr_problems(where, env, k8s_hosts)
            problems += dial_problems(where, role, env)
            port = ROLE_PORTS.get(role)
            ports = {p["containerPort"]: p.get("name") for p in container.get("ports", [])}
            if port not in ports:
                problems.append(f"{where}: containerPort {port} is not declared")
            for probe_name in ("livenessProbe", "readinessProbe"):
                probe = container.get(probe_name)
                if not probe:
                    problems.append(f"{where}: no {probe_name}")
                    continue
                if role == ("gateway",):
                    http = probe.get("httpGet", {})
                    expected = "/healthz" if probe_name == "livenessProbe" else "/readyz"
                    if http.get("path") != expected or http.get("port") not in (port, ports.get(port)):
                        problems.append(f"{where}: {probe_name} should be HTTP {expected} on {port}")
                else:
                    grpc = probe.get("grpc", {})
                    if grpc.get("port") != port or grpc.get("service", "") not in GRPC_SERVICES:
                        problems.append(f"{where}: {probe_name} should be gRPC health on {port} ({grpc})")
            if role in ROLE_SERVICE and doc["metadata"]["name"] not in k8s_hosts:
                problems.append(f"{where}: no Service of the same name")
            if role in (("gateway",), ("jobs",), ("appinhouse", "serve")) and doc["spec"].get("replicas", 1) < 2:
                problems.append(f"{where}: fewer than two replicas")
    for role in list(ROLE_PORTS) + [("migrate",)]:
        if role not in seen_roles:
            problems.append(f"{rendered.name}: no workload runs `tad {' '.join(role)}`")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for kind, name in [("PodDisruptionBudget", "tad-gateway"), ("PodDisruptionBudget", "tad-jobs"),
                       ("HorizontalPodAutoscaler", "tad-gateway"), ("Job", "tad-migrate")]:
        if (kind, name) not in kinds:
            problems.append(f"{rendered.name}: no {kind}/{name}")
    if any(d["kind"] == "Secret" for d in docs):
        problems.append(f"{rendered.name}: renders a Secret (secrets are created by the operator)")
    check(f"{rendered.name}: workloads agree with the binary (commands, variables, ports, probes, security)", problems)

print(f"consistency: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
