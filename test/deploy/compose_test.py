#!/usr/bin/env python3
"""Deploy test (label deploy): deploy/compose/compose.yaml.

Validated against the compose specification by docker compose (or Debian's
docker-compose, which validates without an engine); then what an operator
relies on: every image pinned to a version, every published port on
127.0.0.1, healthchecks and depends_on conditions, the files it mounts exist,
Prometheus's configuration and rules pass promtool, Grafana's datasource is
the stack's Prometheus and the dashboard lands where its provider reads.
The stack's images cannot be pulled on a machine without a registry, so it
is not started here; the Kafnus image itself is tested by image_test.sh.
Exit 77 (skipped) only when no compose implementation is installed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
folder = os.path.join(root, "deploy", "compose")
compose_file = os.path.join(folder, "compose.yaml")
failures = []


def check(what, ok, detail=""):
    print(("ok   - " if ok else "FAIL - ") + what + ("" if ok or not detail else ": " + detail))
    if not ok:
        failures.append(what)


def compose_command():
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


cmd = compose_command()
if cmd is None:
    print("SKIPPED: neither docker compose nor docker-compose (apt-get install docker-compose) is installed")
    sys.exit(77)

for profile in ([], ["--profile", "orion"]):
    r = subprocess.run(cmd + ["-f", compose_file] + profile + ["config", "-q"], capture_output=True, text=True)
    check("the compose file is valid (%s%s)" % (" ".join(cmd), " --profile orion" if profile else ""),
          r.returncode == 0, r.stderr.strip())

with open(compose_file) as f:
    spec = yaml.safe_load(f)
services = spec["services"]

for name, s in services.items():
    image = s.get("image", "")
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    if "build" in s:
        check("%s is built from the Containerfile" % name,
              os.path.exists(os.path.join(folder, s["build"]["context"], s["build"].get("dockerfile", "Dockerfile"))))
        continue
    check("%s's image %s is pinned to a version" % (name, image),
          bool(tag) and tag != "latest" and re.search(r"\d", tag) is not None)

for name, s in services.items():
    for port in s.get("ports", []):
        check("%s publishes %s on 127.0.0.1 only" % (name, port), str(port).startswith("127.0.0.1:"))

for name in ("kafka", "postgis", "prometheus", "grafana", "mongo"):
    check("%s has a healthcheck" % name, "healthcheck" in services[name])
for name in ("kafnus", "orion"):
    for dep in ("kafka",):
        cond = services[name].get("depends_on", {}).get(dep, {}).get("condition")
        check("%s waits for %s to be healthy" % (name, dep), cond == "service_healthy")
check("kafnus waits for postgis to be healthy",
      services["kafnus"]["depends_on"]["postgis"]["condition"] == "service_healthy")
check("the service map: Kafnus 8000, Prometheus 9090, Grafana 3000",
      "127.0.0.1:8000:8000" in services["kafnus"]["ports"] and "127.0.0.1:9090:9090" in services["prometheus"]["ports"]
      and "127.0.0.1:3000:3000" in services["grafana"]["ports"])
grace = services["kafnus"].get("stop_grace_period", "0s")
check("kafnus's stop grace (%s) is longer than shutdown.timeout_s (30 s)" % grace,
      grace.endswith("s") and int(grace[:-1]) > 30)
check("the orion profile holds orion and mongo",
      services["orion"].get("profiles") == ["orion"] and services["mongo"].get("profiles") == ["orion"])
env = services["kafnus"]["environment"]
check("kafnus reads the database password from a secret file",
      env.get("KAFNUS_POSTGRES_PASSWORD_FILE", "").startswith("/run/secrets/") and "KAFNUS_POSTGRES_PASSWORD" not in env)

mounts = {}
for name, s in services.items():
    for v in s.get("volumes", []):
        source, target = v.split(":")[0], v.split(":")[1]
        if source.startswith("."):
            path = os.path.normpath(os.path.join(folder, source))
            check("%s mounts %s, which exists" % (name, os.path.relpath(path, root)), os.path.exists(path))
            mounts[target] = path
for secret in spec.get("secrets", {}).values():
    check("secret file %s exists" % secret["file"], os.path.exists(os.path.join(folder, secret["file"])))

# Prometheus: the configuration and the rules it loads, as mounted.
promtool = shutil.which("promtool")
check("promtool is installed (Debian: prometheus)", promtool is not None)
if promtool:
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(mounts["/etc/prometheus/prometheus.yml"], os.path.join(d, "prometheus.yml"))
        shutil.copy(mounts["/etc/prometheus/alerts.yml"], os.path.join(d, "alerts.yml"))
        r = subprocess.run([promtool, "check", "config", os.path.join(d, "prometheus.yml")], capture_output=True, text=True)
        check("promtool check config passes on the stack's prometheus.yml and alerts", r.returncode == 0,
              r.stdout + r.stderr)
with open(mounts["/etc/prometheus/prometheus.yml"]) as f:
    prom = yaml.safe_load(f)
targets = [t for job in prom["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
check("Prometheus scrapes kafnus:8000", "kafnus:8000" in targets)
with open(os.path.join(root, "monitoring", "prometheus.yml")) as f:
    reference = yaml.safe_load(f)
for job in reference["scrape_configs"]:
    for sc in job["static_configs"]:
        sc["targets"] = ["kafnus:8000" if t == "localhost:8000" else t for t in sc["targets"]]
check("the stack's prometheus.yml is monitoring/prometheus.yml with the stack's target", prom == reference,
      "they differ: change both")

# Grafana: datasource and dashboards, where the provisioning reads them.
with open(mounts["/etc/grafana/provisioning/datasources/kafnus.yml"]) as f:
    ds = yaml.safe_load(f)["datasources"][0]
check("Grafana's datasource is the stack's Prometheus", ds["url"] == "http://prometheus:9090" and ds["type"] == "prometheus")
with open(mounts["/etc/grafana/provisioning/dashboards/kafnus.yml"]) as f:
    provider_path = yaml.safe_load(f)["providers"][0]["options"]["path"]
check("the dashboards are mounted where the provider reads them (%s)" % provider_path,
      provider_path in mounts and os.path.exists(os.path.join(mounts[provider_path], "kafnus.json")))

r = subprocess.run(["bash", "-n", os.path.join(folder, "orion-demo.sh")], capture_output=True, text=True)
check("orion-demo.sh parses", r.returncode == 0, r.stderr)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
