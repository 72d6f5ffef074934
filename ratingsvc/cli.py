"""The `ratingsvc` command: serve, import units, manage API keys."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import redis
from flask import Flask

from . import accounts, actions, apikeys, create_app, localredis, rkeys
from .audit import cli_actor
from .extensions import get_redis
from .importcmd import import_units

PROJECT = Path(__file__).resolve().parent.parent


@contextmanager
def app_context(config: dict | None = None) -> Iterator[Flask]:
    """An app on the Redis the command line uses (see localredis), said on stderr."""
    url, why = localredis.choose(PROJECT, os.environ)
    click.echo(f"Redis: {localredis.shown(url)} ({why})", err=True)
    click.get_current_context().meta["ratingsvc.redis_url"] = url
    app = create_app({"REDIS_URL": url, **localredis.server_config(PROJECT, os.environ), **(config or {})})
    with app.app_context():
        yield app


class Commands(click.Group):
    """A Redis that does not answer is one line and exit 1, in every command, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except redis.RedisError as exc:
            url = localredis.shown(ctx.meta.get("ratingsvc.redis_url", "?"))
            what = ("cannot reach Redis" if isinstance(exc, redis.ConnectionError | redis.TimeoutError)
                    else "Redis refused")
            raise click.ClickException(f"{what} at {url}: {exc}") from None


@click.group(cls=Commands)
def main() -> None:
    """ratingsvc: signed QR codes per service window, one-tap ratings, mobile scores."""


@main.command()
def check() -> None:
    """Check every RATINGSVC_* setting as the app does at start; exit 1 with the reason."""
    from .settings import ConfigError

    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"settings ok ({app.config['ENV']})")


@main.group()
def units() -> None:
    """Categories, units and windows."""


units.add_command(import_units)


@main.group()
def keys() -> None:
    """API keys (only their hashes are stored)."""


@keys.command("create")
@click.option("--role", type=click.Choice(apikeys.ROLES), required=True)
@click.option("--name", required=True, help="who holds the key, e.g. 'scoring service'")
@click.option("--unit", "units_", multiple=True, help="a unit a manager key may manage")
def create_key(role: str, name: str, units_: tuple[str, ...]) -> None:
    """Create a key and print it: this is the only time it is shown."""
    with app_context() as app:
        try:
            key, record = actions.create_key(get_redis(), cli_actor(), app.config["CLOCK"](), name=name,
                                             role=role, units=list(units_))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(key)
    click.echo(f"id {record.id}, role {role}, name {name!r}: store the key now; "
               "it cannot be shown again", err=True)


@keys.command("list")
def list_keys() -> None:
    """List keys by id, role and name."""
    with app_context():
        for k in apikeys.list_keys(get_redis()):
            click.echo(f"{k.id}  {k.role:8} {k.name}" + (f"  units={','.join(k.units)}"
                                                         if k.units else ""))


@keys.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """Delete the key with this id (as `keys list` shows it)."""
    if len(key_id) != 12:
        raise click.ClickException("请给出 `ratingsvc keys list` 显示的 12 位编号 "
                                   "(give the 12-character id that `ratingsvc keys list` shows)")
    with app_context() as app:
        n = actions.revoke_key(get_redis(), cli_actor(), app.config["CLOCK"](), key_id)
    if not n:
        raise click.ClickException(f"没有编号为 {key_id} 的密钥 (no key {key_id})")
    click.echo(f"revoked {key_id}")


@main.group()
def users() -> None:
    """Console accounts for people (admin, staff, manager)."""


def _account_line(a: accounts.Account) -> str:
    state = "" if a.active else "  停用 disabled"
    units = f"  units={','.join(a.units)}" if a.units else ""
    return f"{a.username:20} {a.role:8} {a.name}{units}{'  totp' if a.totp else ''}{state}"


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--name", default="", help="the person's name, as the console shows it")
@click.option("--unit", "units_", multiple=True, help="a unit a manager manages (repeat for more)")
def create_user(username: str, role: str, name: str, units_: tuple[str, ...]) -> None:
    """Create an account; its temporary password is printed once, to be changed at first login."""
    with app_context() as app:
        try:
            account, password = actions.create_account(get_redis(), cli_actor(), app.config["CLOCK"](),
                                                       username=username, name=name, role=role,
                                                       units=list(units_))
        except (accounts.AccountError, LookupError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(password)
    click.echo(f"{account.username} ({role}): temporary password above, shown once; it must be "
               "changed at first login", err=True)


@users.command("list")
def list_users() -> None:
    """Every account: username, role, name, units, state."""
    with app_context():
        for a in accounts.list_all(get_redis()):
            click.echo(_account_line(a))


def _set_active(username: str, active: bool) -> None:
    with app_context() as app:
        try:
            actions.update_account(get_redis(), cli_actor(), app.config["CLOCK"](), username, active=active)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{'enabled' if active else 'disabled'} {username}")


@users.command("disable")
@click.argument("username")
def disable_user(username: str) -> None:
    """Disable an account: its sessions end at once."""
    _set_active(username, False)


@users.command("enable")
@click.argument("username")
def enable_user(username: str) -> None:
    """Enable a disabled account again."""
    _set_active(username, True)


@users.command("reset-password")
@click.argument("username")
def reset_user_password(username: str) -> None:
    """A new temporary password, printed once; the account's sessions end."""
    with app_context() as app:
        try:
            password = actions.reset_password(get_redis(), cli_actor(), app.config["CLOCK"](), username)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(password)
    click.echo(f"{username}: temporary password above, shown once; it must be changed at next login",
               err=True)


@main.group("periods")
def periods_group() -> None:
    """Evaluation periods."""


@periods_group.command("close")
@click.argument("period_id")
def close_period(period_id: str) -> None:
    """Close a period that has ended: write its export and frozen result (RATINGSVC_EXPORT_DIR)."""
    import time

    from . import periods as periods_mod
    from .errors import ApiError
    from .views.closing import close_period as close_it
    from .views.closing import export_path

    with app_context() as app:
        retain = app.config["RETAIN_CLOSED_DAYS"]
        start = time.perf_counter()
        try:
            result = close_it(periods_mod.get_period(get_redis(), period_id), cli_actor())
        except (ApiError, LookupError) as exc:
            english = getattr(exc, "message_en", None)
            raise click.ClickException(str(exc) + (f" ({english})" if english else "")) from None
        path = export_path(period_id)
    click.echo(f"closed {period_id}: {result['taps']} taps in {time.perf_counter() - start:.1f} s")
    click.echo(f"export: {path}\nresult: {path.with_suffix('.result.json')}")
    click.echo(f"digest: {result['digest']}")
    click.echo(f"Redis keeps its data {retain} days (RETAIN_CLOSED_DAYS); "
               f"then: ratingsvc periods prune {period_id}")


@periods_group.command("public")
@click.argument("period_id")
@click.option("--off", is_flag=True, help="stop showing it")
def public_period(period_id: str, off: bool) -> None:
    """Show a running period's results on the public page /results/<id> (a closed period's are
    shown there always), or stop with --off. Audited."""
    from .registry import RegistryError

    with app_context() as app:
        try:
            actions.set_period_public(get_redis(), cli_actor(), app.config["CLOCK"](), period_id, not off)
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{period_id}: {'not shown' if off else 'shown'} on /results/{period_id} while it runs")


@periods_group.command("prune")
@click.argument("period_id")
@click.option("--now", "force", is_flag=True,
              help="do not wait RETAIN_CLOSED_DAYS after the close (the export is still checked)")
def prune_period(period_id: str, force: bool) -> None:
    """Remove from Redis what only a closed period needed, once its export checks out against its
    result: its day counters and old log entries (README "Retention"). Safe to run again."""
    from . import retention
    from .extensions import now
    from .views.closing import export_path

    with app_context() as app:
        path = export_path(period_id)
        try:
            done = actions.prune_period(get_redis(), cli_actor(), now(), period_id, path,
                                        tz=app.config["TIMEZONE"],
                                        retain_days=app.config["RETAIN_CLOSED_DAYS"], force=force)
        except retention.PruneRefused as exc:
            raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"pruned {period_id}: {done['units']} units, {done['days']} days; {done['keys']} keys "
               f"deleted, {done['index']} days unindexed, {done['entries']} log entries trimmed, "
               f"{done['reasons']} reasons dropped")


@main.group("cases")
def cases_group() -> None:
    """Cases (差评 and their handling)."""


@cases_group.command("sweep")
def sweep_cases() -> None:
    """Close the replied cases whose follow-up time has passed (each closing logged); closing a
    period does it too. Run it from cron, e.g. nightly, to keep the unit logs current. Drops the
    sealed openids kept for WeChat notices of cases that will get no reply (closed, voided)."""
    from .cases import notify
    from .cases import store as case_store
    from .extensions import now

    with app_context():
        r = get_redis()
        units = sorted(r.smembers(rkeys.UNITS))
        closed = case_store.sweep(r, units, int(now() * 1000))
        dropped = notify.forget_finished(r, units)
    click.echo(f"closed {closed} cases whose follow-up time had passed")
    if dropped:
        click.echo(f"dropped {dropped} kept WeChat openids of cases that will get no reply")


@main.command()
@click.argument("export", type=click.Path(exists=True, dir_okay=False))
@click.option("--result", "result_path", type=click.Path(exists=True, dir_okay=False),
              help="the published result (default: EXPORT with .result.json)")
def verify(export: str, result_path: str | None) -> None:
    """Check an export against its published result: its digest chain, every unit's counts."""
    import json
    import time

    from .closing import verify as check

    result_file = Path(result_path) if result_path else Path(export).with_suffix(".result.json")
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise click.ClickException(
            f"{result_file}: no such file. It is the result `periods close` wrote next to the "
            "export (EXPORT with .result.json); give another with --result") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"{result_file}: not a result file: {exc}") from None
    start = time.perf_counter()
    try:
        with open(export, encoding="utf-8") as lines:
            problems = check(lines, result)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{export}: not an export (not UTF-8 text: {exc})") from None
    except OSError as exc:
        raise click.ClickException(f"{export}: cannot read it: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise click.ClickException(f"{result_file}: not a result file (at {exc!r})") from None
    took = time.perf_counter() - start
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} 处不符，导出文件与公布的结果不一致 "
                                   f"({len(problems)} problems; the export does not match its result)")
    click.echo(f"OK: {result['taps']} taps, {len(result['units'])} units, digest {result['digest']}"
               f" ({took:.1f} s)")


@main.command()
@click.option("--unit", "unit_id", required=True, help="the unit whose windows to print")
@click.option("--format", "fmt", type=click.Choice(["a4", "a5", "tent"]), default="a4",
              show_default=True)
@click.option("--period", default=None, help="the period printed (default: current, else next)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def posters(unit_id: str, fmt: str, period: str | None, output: str) -> None:
    """Write every active window's poster of one unit to a PDF, a page each."""
    from datetime import datetime

    import qr.poster

    from . import posters as content
    from . import registry
    from .extensions import get_signing
    from .timeutil import zone

    with app_context() as app:
        r, config = get_redis(), app.config
        try:
            unit = registry.get_unit(r, unit_id)
            today = datetime.fromtimestamp(config["CLOCK"](), zone(config["TIMEZONE"])).date()
            pages = content.posters_for(get_signing(), config["PUBLIC_URL"], unit,
                                        registry.list_windows(r, unit_id),
                                        content.period_for(r, today, period))
        except registry.RegistryError as exc:
            raise click.ClickException(str(exc)) from None
    with open(output, "wb") as f:
        f.write(qr.poster.render(pages, fmt))
    click.echo(f"{output}: {len(pages)} posters ({fmt}) for {unit.name}")


@main.group("halls")
def halls_group() -> None:
    """Halls: their windows, keys and validity (visit tokens, README "Visit tokens")."""


@halls_group.command("create")
@click.argument("name")
@click.option("--window", "windows", type=int, multiple=True, help="a window of the hall (repeat)")
@click.option("--valid-minutes", type=click.IntRange(1, 2880), default=1440, show_default=True,
              help="how long a visit token or SMS link counts after it was made")
@click.option("--network", "networks", multiple=True,
              help="the hall's own addresses, CIDR (repeat): a rater there is on site")
def create_hall(name: str, windows: tuple[int, ...], valid_minutes: int, networks: tuple[str, ...]) -> None:
    """Create a hall and print its key: the only time it is shown (a queue machine signs its
    visit tokens with it, examples/visit_token.py)."""
    from .extensions import get_signing
    from .registry import RegistryError

    with app_context() as app:
        try:
            hall, key = actions.create_hall(get_redis(), get_signing(), cli_actor(), app.config["CLOCK"](),
                                            name=name, windows=list(windows), valid_minutes=valid_minutes,
                                            networks=list(networks))
        except (RegistryError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(key)
    click.echo(f"hall {hall.id} {hall.name!r}, windows {hall.windows}, tokens count {valid_minutes} min: "
               "store the key now; it cannot be shown again", err=True)


@halls_group.command("list")
def list_halls() -> None:
    """Halls by number, with their windows and validity (never their keys)."""
    from . import visits

    with app_context():
        for hall in visits.list_halls(get_redis()):
            click.echo(f"{hall.id}  {hall.name}  windows={','.join(map(str, hall.windows)) or '-'}  "
                       f"valid={hall.valid_minutes}min" + ("" if hall.active else "  (inactive)"))


@halls_group.command("key")
@click.argument("hall_id", type=int)
def new_hall_key(hall_id: int) -> None:
    """A new key for the hall, printed once; the old one stops at once."""
    from .extensions import get_signing
    from .registry import RegistryError

    with app_context() as app:
        try:
            _, key = actions.new_hall_key(get_redis(), get_signing(), cli_actor(), app.config["CLOCK"](),
                                          hall_id)
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(key)


@main.group("volumes")
def volumes_group() -> None:
    """Services done per window and day: what 参评率 and 未评率 are measured against."""


@volumes_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_volumes(file: str) -> None:
    """Import a CSV or .xlsx table with the columns window (窗口编号), day (日期, YYYY-MM-DD)
    and services (办件量); a window's day again replaces what it had. Audited."""
    from . import volumes
    from .registry import RegistryError
    from .tablefile import TableError, read_table

    try:
        table = read_table(Path(file).read_bytes())
        rows = volumes.from_table(table)
    except TableError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    with app_context() as app:
        try:
            done = actions.import_volumes(get_redis(), cli_actor(), app.config["CLOCK"](), rows,
                                          tz=app.config["TIMEZONE"],
                                          margin=app.extensions["ratingsvc.rules"].volume_margin)
        except (RegistryError, volumes.Refused) as exc:
            raise click.ClickException(f"{exc}; nothing was imported") from None
    click.echo(f"{file} ({table.source}): {done['rows']} rows, {done['units']} units, {done['days']} days; "
               f"services counted changed by {done['moved']:+d}"
               + (f"; {done['held']} counted taps above them held for review" if done["held"] else ""))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Run under gunicorn with demo data; start an embedded Redis unless RATINGSVC_REDIS_URL."""
    from .serve import run

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(run(host=host, port=port, workers=workers, project=PROJECT))

