"""`ratingsvc serve` (`make run`): embedded Redis if none is configured, demo data, gunicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from . import create_app, demo, localredis, registry
from .embedded import RedisServer
from .extensions import get_redis
from .settings import SETTINGS
from .views.manage import rating_url

READY_TIMEOUT = 30.0


def gunicorn_command(host: str, port: int, workers: int, project: Path) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(project / "gunicorn.conf.py"),
            "--workers", str(workers), "--bind", f"{host}:{port}", "--graceful-timeout", "10",
            "--chdir", str(project), "wsgi:app"]


def wait_for_port(host: str, port: int, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def port_taken(host: str, port: int) -> str | None:
    """Why gunicorn could not listen on host:port, or None: checked before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
            s.bind(infos[0][4])
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def prepare(env: dict[str, str], base: str) -> list[str]:
    """Load the demo once, mint demo keys, and say how to try it."""
    app = create_app({"REDIS_URL": env["RATINGSVC_REDIS_URL"], "PUBLIC_URL": base})
    with app.app_context():
        r, now = get_redis(), app.config["CLOCK"]()
        loaded = demo.load_once(r, now=now, tz=app.config["TIMEZONE"])
        keys = demo.mint_keys(r, now=now)
        window = demo.demo_window(r)
        unit = registry.get_unit(r, window.unit)
        token = rating_url(window).rsplit("/", 1)[1]
        period = demo.demo_period(r)
        first = demo.first_admin(r, now=now)
    console = [f"  console (in a browser): {base}/console/"]
    if first:
        console.append(f"    first office admin: user admin, password {first} "
                       "(shown once: change it at first login)")
    else:
        console.append("    forgot a password? .venv/bin/ratingsvc users reset-password NAME")
    return [
        "",
        f"ratingsvc is up on {base}" + (" (demo data loaded)" if loaded else ""),
        f"  rating page ({unit.name} / {window.name}):",
        f"    {base}/r/{token}",
        "  its QR code (PNG; needs the admin key):",
        f"    {base}/api/v1/windows/{window.id}/qr.png",
        f'    curl -H "Authorization: Bearer {keys["admin"]}" -o qr.png '
        f"{base}/api/v1/windows/{window.id}/qr.png",
        f"  admin key:  {keys['admin']}",
        f"  scorer key: {keys['scorer']}",
        "  scores:",
        f'    curl -H "Authorization: Bearer {keys["scorer"]}" "{base}/api/v1/scores?period={period}"',
        *console,
        f"  API description: {base}/api/v1/openapi.json",
        "Press Ctrl-C to stop.",
        "",
    ]


def run(*, host: str, port: int, workers: int, project: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k.startswith("RATINGSVC_")}
    env.setdefault("RATINGSVC_PUBLIC_URL", f"http://{host}:{port}")
    env.setdefault("RATINGSVC_PROXY_HOPS", "0")  # nothing in front: X-Forwarded-For is not trusted
    env.setdefault("RATINGSVC_RULE_DEFAULT_HOURS", "")  # the demo's windows have no hours: try it at any hour
    # No nginx in front to buffer requests: gevent workers, where a slow client or a change
    # stream is a greenlet, not a whole process (production runs sync workers behind nginx).
    env.setdefault("RATINGSVC_WORKER_CLASS", "gevent")
    env.setdefault("PROMETHEUS_MULTIPROC_DIR",
                   str(project / env.get("RATINGSVC_VAR_DIR", "var") / "metrics"))
    base = env["RATINGSVC_PUBLIC_URL"].rstrip("/")
    taken = port_taken(host, port)
    if taken:
        click.echo(f"cannot listen on {host}:{port}: {taken}. Stop what uses it, or choose "
                   "another port: ratingsvc serve --port N", err=True)
        return 1
    redis_server = None
    gunicorn = None
    state = localredis.state_file(project, env)
    try:
        if "RATINGSVC_REDIS_URL" not in env:
            data = project / env.get("RATINGSVC_VAR_DIR", "var") / "redis"
            fsync = env.get("RATINGSVC_REDIS_APPENDFSYNC", SETTINGS["REDIS_APPENDFSYNC"][0])
            durability = env.get("RATINGSVC_TAP_DURABILITY", SETTINGS["TAP_DURABILITY"][0])
            if durability == "always" and fsync != "always":
                click.echo(f"RATINGSVC_REDIS_APPENDFSYNC={fsync} cannot keep taps as "
                           "RATINGSVC_TAP_DURABILITY=always asks: use always, or set the durability "
                           "to server or waitaof", err=True)
                return 1
            redis_server = RedisServer(data, appendonly=True, appendfsync=fsync)
            redis_server.start()
            env["RATINGSVC_REDIS_URL"] = redis_server.url
            click.echo(f"embedded Redis on {redis_server.url} (append-only file in {data})")
        exports = project / env.get("RATINGSVC_EXPORT_DIR", SETTINGS["EXPORT_DIR"][0])  # gunicorn's cwd
        localredis.write_state(state, env["RATINGSVC_REDIS_URL"], str(exports.resolve()))
        banner = prepare(env, base)
        gunicorn = subprocess.Popen(gunicorn_command(host, port, workers, project),
                                    env={**os.environ, **env})
        if not wait_for_port(host, port, gunicorn):
            click.echo(f"gunicorn did not start listening on {host}:{port}", err=True)
            return 1
        click.echo("\n".join(banner))
        return gunicorn.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        localredis.remove_state(state)
        if gunicorn and gunicorn.poll() is None:
            gunicorn.terminate()
            try:
                gunicorn.wait(15)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        if redis_server:
            redis_server.stop()
