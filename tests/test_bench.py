"""`make bench` runs: bench/web.py, briefly, writes its JSON and chart, and its figures add up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from tests.helpers import PROJECT, need_binary


def stalled(row: dict) -> int:
    """Fresh taps are all answered 201, but for a few 503s: under appendfsync always a tap
    caught in a stalled fsync (this machine's disk: up to 0.4 s) answers 503 after
    REDIS_TIMEOUT (README: Performance). Returns those."""
    statuses = row["statuses"]
    assert set(statuses) <= {"201", "503"}, statuses
    assert statuses.get("503", 0) <= max(3, statuses["201"] // 100), statuses
    return statuses.get("503", 0)


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
    answered, late = fresh["statuses"]["201"], stalled(fresh)
    assert answered > 0  # every fresh tap counted
    # what Redis counted: the answered taps, and those still in flight when wrk stopped (or
    # answered 503 while the disk stalled: recorded, and a retry replays them)
    assert answered <= fresh["counted_in_redis"] <= answered + late + 4
    assert set(runs["POST /api/v1/ratings: duplicates"]["statuses"]) == {"200"}
    streamed = runs["POST /api/v1/ratings: fresh, change streams open"]
    stalled(streamed)
    assert streamed["ratio_to_no_streams"] > 0
    streams = streamed["streams"]
    assert streams["ok"] == streams["opened"] == 5 and streams["open_when_taps_ended"] == 5
    assert streams["still_open"] == 0 and streams["worker_timeouts"] == 0
    assert streams["lived_s"]["min"] >= streams["sse_max_seconds"] - 0.5  # not cut short
    assert streams["events"]["min"] > 0  # the taps reached the streams
    for name in ("POST /api/v1/ratings: fresh, TAP_DURABILITY=server (appendfsync everysec)",
                 "POST /api/v1/ratings: fresh, alternating with the run above (the default)"):
        stalled(runs[name])
        assert runs[name]["counted_in_redis"] >= runs[name]["statuses"]["201"]
    assert runs["GET /api/v1/scores (2,000 units)"]["statuses"]["200"] > 0
    assert runs["ceiling: bare Flask JSON POST"]["share_of_ceiling"] == 1.0
    for name in ("SET", "GET", "EVAL (one-key script)"):
        assert runs[f"redis-benchmark: {name}"]["rps"] > 0
