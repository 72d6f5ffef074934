"""The ceiling for bench/web.py: bare Flask JSON POST endpoints, run under the same gunicorn
settings as the app (gunicorn.conf.py).

    POST /echo        parse a JSON body, answer a small JSON body (no Redis)
    POST /echo-redis  the same plus one EVALSHA of a one-key script on BENCH_REDIS_URL
"""

from __future__ import annotations

import os

import redis
from flask import Flask, jsonify, request

app = Flask(__name__)
store = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
count = store.register_script("return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)")


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/echo")
def echo():
    body = request.get_json()
    return jsonify(status="counted", level=body["level"]), 201


@app.post("/echo-redis")
def echo_redis():
    body = request.get_json()
    n = count(keys=["bench:{ceiling}:counts"], args=[body["level"]])
    return jsonify(status="counted", level=body["level"], n=n), 201
