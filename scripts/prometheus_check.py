#!/usr/bin/env python3
"""A real Prometheus scraping ``batchtui exporter`` against the simulator, read back over its HTTP API.

    apt-get install -y prometheus        # the Debian package: prometheus and promtool
    python scripts/prometheus_check.py   # exit 0 when every check holds

What it does, all on loopback, in a temporary directory it removes afterwards:

1. ``promtool check rules`` and ``promtool test rules`` on contrib/prometheus/batchtui-alerts*.yml,
   and ``promtool check config`` on the shipped contrib/prometheus/prometheus.yml;
2. a simulated account (frozen world) on a loopback port, and a second account whose endpoint
   nobody answers, both as config.toml profiles;
3. ``batchtui exporter --profile sim --profile gone --refresh 1`` as its own process;
4. the ``prometheus`` binary (not the service) with the shipped config, pointed at the exporter
   and evaluating every second, its own ``--storage.tsdb.path`` in the temporary directory;
5. through ``/api/v1/query``: every job's failed-task count and node counts equal what the
   simulator answers to direct client reads; the account nobody answers is ``azure_batch_up 0``
   with its AzureBatchAccountDown alert pending; every alert rule is healthy; every Grafana panel's
   query runs.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRIB = ROOT / "contrib"
RULES = CONTRIB / "prometheus" / "batchtui-alerts.yml"
RULE_TESTS = CONTRIB / "prometheus" / "batchtui-alerts.test.yml"
CONFIG = CONTRIB / "prometheus" / "prometheus.yml"
DASHBOARD = CONTRIB / "grafana" / "batchtui-dashboard.json"
KEY = base64.b64encode(b"prometheus-check" * 4).decode()
ACCOUNT = "simacct"
DEADLINE = 90.0  # seconds for the whole chain to show a value

sys.path.insert(0, str(ROOT))


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"prometheus-check: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def promtool(*argv: str) -> None:
    run = subprocess.run(["promtool", *argv], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise CheckFailed(f"promtool {' '.join(argv)} failed:\n{run.stdout}{run.stderr}")
    say(f"promtool {argv[0]} {argv[1]} {Path(argv[-1]).name}: ok")


def query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
    except urllib.error.HTTPError as exc:  # 400/422: the query itself is wrong
        raise CheckFailed(f"Prometheus refused {expr!r}: {exc.read().decode(errors='replace')}") from None
    if doc.get("status") != "success":
        raise CheckFailed(f"Prometheus answered {doc} to {expr!r}")
    result: list[dict[str, Any]] = doc["data"]["result"]
    return result


def get_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as r:
        return int(r.status)


def wait_for(what: str, check: Any, within: float = DEADLINE) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, CheckFailed) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.5)
    raise CheckFailed(f"timed out after {within:.0f} s waiting for {what} (last: {last})")


async def truth(url: str) -> dict[str, Any]:
    """Direct client reads of the simulated account: what the metrics must say."""
    from batchtui.batch.auth import SharedKeyAuth
    from batchtui.batch.client import BatchClient

    async with BatchClient(url, SharedKeyAuth(ACCOUNT, KEY), account=ACCOUNT) as client:
        jobs = await client.list_jobs()
        counts = {j.id: await client.get_task_counts(j.id or "") for j in jobs}
        pools: dict[str, Any] = {}
        lister = getattr(client, "list_pool_node_counts", None)
        if lister is not None:
            pools = {p.pool_id: p for p in await lister()}
    return {"jobs": jobs, "counts": counts, "pools": pools}


def shipped_config(exporter: str, rules: Path) -> str:
    """contrib/prometheus/prometheus.yml as shipped, but scraping this exporter every second."""
    text = CONFIG.read_text()
    for old, new in (
        ('"127.0.0.1:9464"', json.dumps(exporter)),
        ("scrape_interval: 15s", "scrape_interval: 1s"),
        ("evaluation_interval: 15s", "evaluation_interval: 1s"),
        ("- batchtui-alerts.yml", f"- {json.dumps(str(rules))}"),
    ):
        if old not in text:
            raise CheckFailed(f"{CONFIG} no longer holds {old!r}: update this script with it")
        text = text.replace(old, new)
    return text


def panel_queries() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", []) if t.get("expr")]
    substitute = {"$account": ".*", "$pool": ".*", "$__rate_interval": "30s"}
    out = []
    for expr in exprs:
        for var, value in substitute.items():
            expr = expr.replace(var, value)
        if "$" in expr:
            raise CheckFailed(f"a dashboard variable this script does not know: {expr}")
        out.append(expr)
    return out


def check(workdir: Path, keep_going: float) -> None:
    from batchtui.sim import SimConfig, Simulator
    from batchtui.sim.server import BackgroundServer

    promtool("check", "rules", str(RULES))
    promtool("test", "rules", str(RULE_TESTS))
    promtool("check", "config", str(CONFIG))

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=SimConfig().warmup)
    sim = Simulator(SimConfig(account=ACCOUNT, key=KEY, seed=11, jobs=24, time_scale=0, start=start))
    procs: list[subprocess.Popen[str]] = []
    with BackgroundServer(sim) as server:
        try:
            want = asyncio.run(truth(server.url))
            say(f"simulator {server.url}: {len(want['jobs'])} jobs, {len(want['pools'])} pools")
            (workdir / "config").mkdir()
            cfg = workdir / "config" / "config.toml"
            cfg.write_text(
                f'[accounts.sim]\nendpoint = "{server.url}"\naccount = "{ACCOUNT}"\nkey = "{KEY}"\n'
                f'[accounts.gone]\nendpoint = "http://127.0.0.1:{free_port()}"\naccount = "gone"\nkey = "{KEY}"\n'
            )
            cfg.chmod(0o600)
            env = {**os.environ, "BATCHTUI_CONFIG_DIR": str(cfg.parent), "PYTHONUNBUFFERED": "1"}
            exporter = subprocess.Popen(
                [sys.executable, "-m", "batchtui", "exporter", "--listen", "127.0.0.1:0", "--refresh", "1"]
                + ["--completed-for", "2d", "--profile", "sim", "--profile", "gone"],
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
                env=env,
                cwd=ROOT,
            )
            procs.append(exporter)
            assert exporter.stderr is not None
            banner = exporter.stderr.readline()
            m = re.search(r"serving http://(127\.0\.0\.1:\d+)/metrics", banner)
            if not m:
                raise CheckFailed(f"the exporter did not start: {banner}{exporter.stderr.read()}")
            say(f"exporter on {m.group(1)}")

            port = free_port()
            (workdir / "prometheus.yml").write_text(shipped_config(m.group(1), RULES))
            prom = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(workdir / "prometheus.log").open("w"),
                text=True,
            )
            procs.append(prom)
            base = f"http://127.0.0.1:{port}"
            wait_for("Prometheus to be ready", lambda: get_status(f"{base}/-/ready") == 200)
            with urllib.request.urlopen(f"{base}/api/v1/status/buildinfo", timeout=10) as r:
                version = json.load(r)["data"].get("version", "?")
            say(f"Prometheus {version} on {base}")

            # Every job's failed tasks, as Prometheus stored them, against the simulator.
            failed = {j: c.task_counts.failed for j, c in want["counts"].items()}
            expr = f'azure_batch_job_tasks{{account="{ACCOUNT}",state="failed"}}'
            got = wait_for(
                f"{expr} for every job",
                lambda: (r := query(base, expr)) and len(r) == len(failed) and r,
            )
            stored = {s["metric"]["job"]: float(s["value"][1]) for s in got}
            if stored != {j: float(n) for j, n in failed.items()}:
                raise CheckFailed(f"Prometheus holds {stored}, the simulator says {failed}")
            job = max(failed, key=lambda j: (failed[j], j))
            say(
                f'read back azure_batch_job_tasks{{job="{job}",state="failed"}} = {stored[job]:g} (the simulator says {failed[job]})'
            )

            if want["pools"]:
                nodes = query(base, f'azure_batch_pool_nodes{{account="{ACCOUNT}"}}')
                pool_metrics = {
                    (s["metric"]["pool"], s["metric"]["kind"], s["metric"]["state"]): float(s["value"][1])
                    for s in nodes
                }
                expected = {}
                for pool_id, p in want["pools"].items():
                    for kind, counts in (("dedicated", p.dedicated), ("lowPriority", p.low_priority)):
                        for state, n in counts.counts:
                            expected[(pool_id, kind, state)] = float(n)
                if pool_metrics != expected:
                    raise CheckFailed(
                        f"pool nodes: Prometheus holds {pool_metrics}, the simulator says {expected}"
                    )
                say(f"azure_batch_pool_nodes: {len(pool_metrics)} series equal the simulator's /nodecounts")

            # The account nobody answers: down, and its alert on the way (pending for 5 minutes).
            wait_for(
                "azure_batch_up 0 for the account that does not answer",
                lambda: [s for s in query(base, 'azure_batch_up{account="gone"}') if s["value"][1] == "0"],
            )
            alert = wait_for(
                "AzureBatchAccountDown for the account that does not answer",
                lambda: query(base, 'ALERTS{alertname="AzureBatchAccountDown",account="gone"}'),
            )
            say(f"account 'gone': azure_batch_up 0, AzureBatchAccountDown {alert[0]['metric']['alertstate']}")
            if query(base, f'azure_batch_up{{account="{ACCOUNT}"}}')[0]["value"][1] != "1":
                raise CheckFailed(f"azure_batch_up{{account={ACCOUNT!r}}} is not 1")

            with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=10) as r:
                groups = json.load(r)["data"]["groups"]
            rules = [rule for g in groups for rule in g["rules"]]
            bad = [(rule["name"], rule.get("lastError")) for rule in rules if rule.get("health") != "ok"]
            if not rules or bad:
                raise CheckFailed(f"alert rules not healthy in Prometheus: {bad or 'none loaded'}")
            say(f"{len(rules)} alert rules loaded and evaluated without error")

            for expr in panel_queries():
                query(base, expr)  # raises if Prometheus refuses it
            say(f"{len(panel_queries())} Grafana panel queries run")
            if keep_going:
                say(f"leaving it all running for {keep_going:g} s: {base}")
                time.sleep(keep_going)
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if procs and procs[0].returncode not in (0, None):
            err = procs[0].stderr.read() if procs[0].stderr else ""
            raise CheckFailed(f"the exporter exited with {procs[0].returncode}: {err}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep", type=float, default=0, metavar="SECONDS", help="leave it running this long at the end"
    )
    args = parser.parse_args(argv)
    missing = [tool for tool in ("prometheus", "promtool") if shutil.which(tool) is None]
    if missing:
        say(f"needs {' and '.join(missing)}: apt-get install -y prometheus")
        return 2
    with tempfile.TemporaryDirectory(prefix="batchtui-prometheus-") as tmp:
        try:
            check(Path(tmp), args.keep)
        except CheckFailed as exc:
            say(f"FAILED: {exc}")
            log = Path(tmp) / "prometheus.log"
            if log.exists() and log.read_text().strip():
                say("prometheus.log:\n" + log.read_text()[-4000:])
            return 1
    say("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
