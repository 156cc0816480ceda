"""``crmsync sandbox serve``: run the local Salesforce sandbox until SIGINT/SIGTERM.

Prints the URLs, the CA certificate path, the environment unmodified clients need, and a final
``sandbox ready`` line (scripts wait for it), then serves until interrupted and exits 0.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
import yaml

from connectors.salesforce.sandbox import FaultConfig, Sandbox, SandboxConfig, SeedConfig

app = typer.Typer(help="The local Salesforce sandbox that real Salesforce clients work against.",
                  no_args_is_help=True)


def _load_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise typer.BadParameter("must hold a mapping of SandboxConfig fields", param_hint="--config")
    return data


def build_config(base: dict[str, Any], listeners: dict[str, Any], seed: dict[str, Any] | None,
                 faults: dict[str, Any], extra: dict[str, Any]) -> SandboxConfig:
    """Config file values, overridden by the flags that were given. ``seed`` None means --no-seed; otherwise
    its keys (seed, defects, and generator counts under ``options``) override the file's seed section."""
    data = {**base, **{k: v for k, v in listeners.items() if v is not None},
            **{k: v for k, v in extra.items() if v is not None}}
    if seed is None:
        data["seed"] = None
    else:
        file_seed = dict(base.get("seed") or {})
        options = {**file_seed.get("options", {}), **seed.get("options", {})}
        data["seed"] = SeedConfig.model_validate({**file_seed, **{k: v for k, v in seed.items() if k != "options"},
                                                  "options": options}).model_dump()
    given_faults = {k: v for k, v in faults.items() if v is not None}
    if given_faults:
        data["faults"] = FaultConfig.model_validate({**base.get("faults", {}), **given_faults}).model_dump()
    return SandboxConfig.model_validate(data)


@app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option("--port", help="Plain HTTP port (0 = any free port).")] = 0,
    https_port: Annotated[int | None, typer.Option(help="HTTPS port (0 = any free port).")] = 0,
    proxy_port: Annotated[int | None, typer.Option(help="HTTPS CONNECT proxy port (0 = any free port).")] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    db: Annotated[str | None, typer.Option(help="SQLite file (kept between runs) or :memory:.")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Bulk result files and the CA certificate.")] = None,
    ca_path: Annotated[Path | None, typer.Option(help="Where to write the CA certificate (PEM).")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML or JSON file of SandboxConfig fields.")] = None,
    seed: Annotated[int | None, typer.Option(help="Generator seed (same seed, same data; default 42).")] = None,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Start with an empty org.")] = False,
    defects: Annotated[bool | None, typer.Option("--defects/--no-defects",
                                                 help="Inject the generator's data defects.")] = None,
    accounts: Annotated[int | None, typer.Option(help="Accounts to generate.")] = None,
    contacts_per_account: Annotated[int | None, typer.Option(help="Contacts per account.")] = None,
    opportunities_per_account: Annotated[int | None, typer.Option(help="Opportunities per account.")] = None,
    tasks_per_account: Annotated[int | None, typer.Option(help="Tasks per account.")] = None,
    events_per_account: Annotated[int | None, typer.Option(help="Events per account.")] = None,
    leads: Annotated[int | None, typer.Option(help="Leads to generate.")] = None,
    users: Annotated[int | None, typer.Option(help="Users to generate.")] = None,
    shared_modstamp_block: Annotated[int | None, typer.Option(help="Rows sharing one SystemModstamp.")] = None,
    api_budget: Annotated[int | None, typer.Option(help="DailyApiRequests limit.")] = None,
    session_ttl: Annotated[float | None, typer.Option(help="Session lifetime in seconds.")] = None,
    fault_seed: Annotated[int | None, typer.Option(help="Seed of the fault RNG.")] = None,
    fault_503: Annotated[float | None, typer.Option(help="Share of calls answered 503 SERVER_UNAVAILABLE.")] = None,
    fault_concurrent_limit: Annotated[float | None, typer.Option(
        help="Share answered 403 REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn).")] = None,
    fault_query_timeout: Annotated[float | None, typer.Option(help="Share of queries answered QUERY_TIMEOUT.")] = None,
    fault_drop: Annotated[float | None, typer.Option(help="Share of calls whose connection is dropped.")] = None,
    fault_slow: Annotated[float | None, typer.Option(help="Share of calls delayed by --fault-slow-seconds.")] = None,
    fault_slow_seconds: Annotated[float | None, typer.Option(help="Delay of a slow call.")] = None,
    fault_invalid_session_every: Annotated[int | None, typer.Option(
        help="Expire the caller's session on every Nth call (401 INVALID_SESSION_ID).")] = None,
) -> None:
    """Serve the sandbox until interrupted (Ctrl-C or SIGTERM)."""
    counts = {k: v for k, v in {
        "accounts": accounts, "contacts_per_account": contacts_per_account,
        "opportunities_per_account": opportunities_per_account, "tasks_per_account": tasks_per_account,
        "events_per_account": events_per_account, "leads": leads, "users": users,
        "shared_modstamp_block": shared_modstamp_block}.items() if v is not None}
    given = {k: v for k, v in {"seed": seed, "defects": defects}.items() if v is not None}
    seed_config = None if no_seed else {**given, "options": counts}
    faults = {"seed": fault_seed, "server_unavailable_rate": fault_503, "concurrent_limit_rate": fault_concurrent_limit,
              "query_timeout_rate": fault_query_timeout, "drop_rate": fault_drop, "slow_rate": fault_slow,
              "slow_seconds": fault_slow_seconds, "invalid_session_every": fault_invalid_session_every}
    listeners = {"http_port": port, "https_port": https_port, "proxy_port": proxy_port, "host": host}
    extra = {"db": db, "work_dir": work_dir, "ca_path": ca_path, "api_budget": api_budget, "session_ttl": session_ttl}
    cfg = build_config(_load_file(config), listeners, seed_config, faults, extra)
    run(Sandbox(cfg))


def run(sandbox: Sandbox) -> None:
    """Start, print where to connect, wait for SIGINT/SIGTERM, stop."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        urls = sandbox.start()
        for label, value in (("http", urls.http), ("https", urls.https), ("proxy", urls.proxy),
                             ("ca", urls.ca_path)):
            if value:
                typer.echo(f"sandbox {label}: {value}")
        for name, value in urls.client_env().items():
            if name.isupper():
                typer.echo(f"sandbox env: {name}={value}")
        if sandbox.seeded:
            typer.echo("sandbox seeded: " + ", ".join(f"{k}={v}" for k, v in sandbox.seeded.items()))
        typer.echo("sandbox ready")
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("sandbox stopped")
