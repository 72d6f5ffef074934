"""`make bench` runs: bench/web.py, briefly, writes its JSON and chart, and its figures add up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from tests.helpers import PROJECT, need_binary


def test_the_http_benchmark_runs_and_counts_what_it_says(tmp_path):
    need_binary(shutil.which("wrk"), "wrk is not installed (apt-get install wrk)")
    need_binary(shutil.which("redis-benchmark"),
                "redis-benchmark is not installed (apt-get install redis-tools)")
    done = subprocess.run(
        [sys.executable, str(PROJECT / "bench" / "web.py"), "--duration", "1", "--units", "2000",
         "--connections", "4", "--workers", "2", "--redis-requests", "2000", "--streams", "5",
         "--rounds", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "of the bare POST ceiling" in done.stdout
    [result] = tmp_path.glob("*.json")
    assert result.with_suffix(".png").stat().st_size > 10_000
    runs = json.loads(result.read_text())["runs"]
    fresh = runs["POST /api/v1/ratings: fresh (counted)"]
    answered = fresh["statuses"]["201"]
    assert answered > 0 and set(fresh["statuses"]) == {"201"}  # every fresh tap counted
    # what Redis counted: the answered taps, and those still in flight when wrk stopped
    assert answered <= fresh["counted_in_redis"] <= answered + 4
    assert set(runs["POST /api/v1/ratings: duplicates"]["statuses"]) == {"200"}
    streamed = runs["POST /api/v1/ratings: fresh, change streams open"]
    assert set(streamed["statuses"]) == {"201"} and streamed["ratio_to_no_streams"] > 0
    streams = streamed["streams"]
    assert streams["ok"] == streams["opened"] == 5 and streams["open_when_taps_ended"] == 5
    assert streams["still_open"] == 0 and streams["worker_timeouts"] == 0
    assert streams["lived_s"]["min"] >= streams["sse_max_seconds"] - 0.5  # not cut short
    assert streams["events"]["min"] > 0  # the taps reached the streams
    for name in ("POST /api/v1/ratings: fresh, TAP_DURABILITY=server (appendfsync everysec)",
                 "POST /api/v1/ratings: fresh, alternating with the run above (the default)"):
        assert set(runs[name]["statuses"]) == {"201"}
        assert runs[name]["counted_in_redis"] >= runs[name]["statuses"]["201"]
    assert runs["GET /api/v1/scores (2,000 units)"]["statuses"]["200"] > 0
    assert runs["ceiling: bare Flask JSON POST"]["share_of_ceiling"] == 1.0
    for name in ("SET", "GET", "EVAL (one-key script)"):
        assert runs[f"redis-benchmark: {name}"]["rps"] > 0
