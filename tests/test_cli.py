"""The command line: which Redis it uses and says, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from click.testing import CliRunner

from ratingsvc import apikeys, localredis, periods
from ratingsvc.cli import PROJECT, main
from ratingsvc.embedded import free_port


def cli(args, **env):
    """The command as a person runs it: no RATINGSVC_REDIS_URL unless given."""
    env = {"RATINGSVC_REDIS_URL": None, **env}
    return CliRunner(env=env).invoke(main, args)


def test_the_command_line_uses_the_redis_make_run_started_and_says_so(r, redis_server, tmp_path):
    var = tmp_path / "var"
    localredis.write_state(localredis.state_file(PROJECT, {"RATINGSVC_VAR_DIR": str(var)}),
                           redis_server.url)  # as `ratingsvc serve` does; this process is alive
    result = cli(["keys", "create", "--role", "scorer", "--name", "cli"], RATINGSVC_VAR_DIR=str(var))
    assert result.exit_code == 0, result.output
    assert f"Redis: {redis_server.url} (the one `make run` uses)" in result.stderr
    assert [k.name for k in apikeys.list_keys(r)] == ["cli"]


def test_a_state_file_left_by_a_dead_serve_is_not_used(redis_server, tmp_path):
    env = {"RATINGSVC_VAR_DIR": str(tmp_path / "var")}
    path = localredis.state_file(PROJECT, env)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"redis_url": redis_server.url, "pid": int(dead)}))
    assert localredis.choose(PROJECT, env) == (
        localredis.DEFAULT_URL, "the default: RATINGSVC_REDIS_URL is not set and no `make run` is up")
    path.write_text("{not json")
    assert localredis.choose(PROJECT, env)[0] == localredis.DEFAULT_URL


def test_an_explicit_url_wins_and_is_said_without_its_password(redis_server, tmp_path):
    assert localredis.choose(PROJECT, {"RATINGSVC_REDIS_URL": "redis://u:secret@h:1/0"}) == (
        "redis://u:secret@h:1/0", "RATINGSVC_REDIS_URL")
    assert localredis.shown("redis://u:secret@h:1/0") == "redis://u:***@h:1/0"
    assert localredis.shown("redis://:secret@h:1/0") == "redis://:***@h:1/0"


def test_a_redis_that_does_not_answer_is_one_line_and_exit_1(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    for args in (["keys", "list"], ["units", "import", str(PROJECT / "examples" / "units.csv")],
                 ["periods", "close", "p1"]):
        result = cli(args, RATINGSVC_REDIS_URL=url)
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit)  # no traceback
        assert f"Error: cannot reach Redis at {url}: " in result.stderr
        assert "Traceback" not in result.output


def test_verify_says_what_is_missing_or_malformed_in_one_line(tmp_path):
    export = tmp_path / "p1.jsonl"
    export.write_text('{"unit": "u1"}\n')
    missing = cli(["verify", str(export)])
    assert missing.exit_code == 1 and isinstance(missing.exception, SystemExit)
    assert f"Error: {tmp_path / 'p1.result.json'}: no such file" in missing.stderr
    assert "--result" in missing.stderr

    result = tmp_path / "p1.result.json"
    for text, said in (("{", "not a result file: Expecting property name"),
                       ("{}", "not a result file (at KeyError('period'))"),
                       ("[1]", "not a result file (at TypeError")):
        result.write_text(text)
        bad = cli(["verify", str(export)])
        assert bad.exit_code == 1 and isinstance(bad.exception, SystemExit), bad.output
        assert f"Error: {result}: {said}" in bad.stderr

    result.write_text(json.dumps({"period": "p1", "digest": "0", "taps": 2, "units": [],
                                  "prior_weight": 5, "min_n": 1}))
    export.write_text('garbage\n{"unit": "u1"}\n')
    bad = cli(["verify", str(export)])
    assert bad.exit_code == 1 and isinstance(bad.exception, SystemExit), bad.output
    assert "line 1: not a tap of an export: 'garbage\\n'" in bad.stderr
    assert "line 2: not a tap of an export" in bad.stderr
    export.write_bytes(b"\xff\xfe\x00garbage\n")
    bad = cli(["verify", str(export)])
    assert bad.exit_code == 1 and f"Error: {export}: not an export (not UTF-8 text" in bad.stderr
    nothing = cli(["verify", str(tmp_path / "none.jsonl")])
    assert nothing.exit_code == 2 and "does not exist" in nothing.stderr


def test_while_make_run_is_up_a_redis_that_does_not_answer_is_its_own_not_the_default(tmp_path):
    """Never fall back to another Redis while `make run` is up: fail on its own, and say so."""
    var = tmp_path / "var"
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing answers there
    localredis.write_state(localredis.state_file(PROJECT, {"RATINGSVC_VAR_DIR": str(var)}), url)
    assert localredis.choose(PROJECT, {"RATINGSVC_VAR_DIR": str(var)}) == (
        url, "the one `make run` uses, not answering now")
    result = cli(["keys", "list"], RATINGSVC_VAR_DIR=str(var))
    assert result.exit_code == 1 and f"Error: cannot reach Redis at {url}: " in result.stderr


def test_the_command_line_closes_into_the_export_folder_of_make_run(r, redis_server, tmp_path,
                                                                    monkeypatch):
    """A relative EXPORT_DIR is the server's (its working directory), not the command's."""
    var, exports = tmp_path / "var", tmp_path / "served" / "exports"
    localredis.write_state(localredis.state_file(PROJECT, {"RATINGSVC_VAR_DIR": str(var)}),
                           redis_server.url, str(exports))
    monkeypatch.chdir(tmp_path)  # elsewhere: ./var/exports here is not where the server reads
    periods.create_period(r, periods.Period("p1", "p1", date(2026, 5, 1), date(2026, 6, 1)))
    result = cli(["periods", "close", "p1"], RATINGSVC_VAR_DIR=str(var))
    assert result.exit_code == 0, result.output
    assert (exports / "p1.jsonl").is_file() and not (tmp_path / "var" / "exports").exists()
