"""Fuzzing the API against its own OpenAPI document (schemathesis, in-process over WSGI).

Every operation of /api/v1/openapi.json is called with an admin key, with data made from the
document, valid and not. Each answer must be no 5xx, of a status the document names for that
operation, of a content type it names for that status, and match its schema there. Bounded
and deterministic: derandomized with a fixed seed, a few examples per operation, no shrinking.

The document is read at collection from an app that connects to nothing (create_app opens
none). The operations are then called, in the document's order, on one app per module on the
suite's Redis, seeded the same way every time: so what one operation leaves (a unit
deactivated, a period created) is there for the next. Half the values of the parameters that
name objects are those of seeded objects (their ids, QR codes and scan tickets are known in
advance), or free ids ("uz", "pz", ...) that creating operations may take and later ones use.
(schemathesis.pytest.from_fixture would load the document from a fixture instead, but it
reads a node attribute that pytest 9.2 no longer has.)
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ratingsvc import apikeys, create_app, registry
from ratingsvc.registry import Category, Unit
from tests.conftest import GENEROUS, PUBLIC_URL, SIGNALS_OFF, START
from tests.helpers import Clock, Helper, tap_from

pytestmark = pytest.mark.filterwarnings(
    # schemathesis's WSGI transport reads a streamed answer (the export: a file) without closing
    # it, so the file is closed only when collected; servers close what they send
    r"ignore:Exception ignored in.*/exports\d*/\w+\.jsonl:pytest.PytestUnraisableExceptionWarning")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
MAX_EXAMPLES = 25
UNITS = {"u1": "c1", "u2": "c1"}
WINDOWS = {1: "u1", 2: "u1", 3: "u2", 4: "u2"}  # ids as the seeding makes them on an empty Redis
PERIODS = {"p0": ("2026-05-01", "2026-05-20"),  # over and closed
           "p1": ("2026-05-01", "2026-09-30"),  # under way
           "p2": ("2026-05-01", "2026-05-31")}  # over, open: it can be closed
FREE = {"category": "cz", "unit": "uz", "period": "pz"}  # ids nothing seeded has
SETTINGS = {"TESTING": True, "PUBLIC_URL": PUBLIC_URL, **GENEROUS, **SIGNALS_OFF, "RULE_MIN_TAP_MS": 800}


def unconnected_app():
    """An app on the clock's start that never reaches its Redis: the document needs none."""
    return create_app({**SETTINGS, "CLOCK": Clock(START), "REDIS_URL": "redis://127.0.0.1:1/0"})


def known_values() -> dict[str, list]:
    """Ids, QR codes and scan tickets of the seeded objects: every app here signs with the
    (development) default keys, and the tickets are from the clock's start."""
    signing = unconnected_app().extensions["ratingsvc.signing"]
    return {
        "units": [*UNITS, FREE["unit"]], "categories": ["c1", FREE["category"]],
        "periods": [*PERIODS, FREE["period"]], "windows": list(WINDOWS), "new_ids": list(FREE.values()),
        "tokens": [signing.qr_token(wid, 1) for wid in WINDOWS],
        "tickets": [signing.ticket(wid, uid, 1, f"fuzz-device-{wid}", nonce=f"fuzz{wid}")
                    for wid, uid in WINDOWS.items()],
    }


def fuzz_config() -> schemathesis.Config:
    bindings = {"path.uid": "units", "path.wid": "windows", "path.pid": "periods",
                "path.cid": "categories", "path.token": "tokens", "query.period": "periods",
                "query.category": "categories", "query.unit": "units", "query.window": "windows",
                "body.ticket": "tickets", "body.id": "new_ids", "body.category": "categories"}
    return schemathesis.Config.from_dict({
        "seed": 20260601,
        "dictionaries": {name: {"values": values} for name, values in known_values().items()},
        "parameters": {key: {"dictionary": name, "probability": 0.5} for key, name in bindings.items()},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "no-shrink": True,
                       "database": "none"},
    })


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", unconnected_app(), config=fuzz_config())


@pytest.fixture(scope="module")
def fuzzed(redis_server, tmp_path_factory):
    """The app on the suite's Redis (as conftest's, exports into a temporary folder), with: a
    category, two units with two windows each, the periods, a counted and a held tap, a closed
    period, and a key of each role (the calls use the admin's)."""
    clock = Clock(START)
    app = create_app({**SETTINGS, "CLOCK": clock, "REDIS_URL": redis_server.url,
                      "EXPORT_DIR": str(tmp_path_factory.mktemp("exports"))})
    r = app.extensions["ratingsvc.redis"]
    r.flushdb()  # empty, as every test leaves it: the window ids are then known
    h = Helper(app, r, clock)
    registry.save_category(r, Category("c1", "窗口服务"), create=True)
    for uid, cid in UNITS.items():
        registry.save_unit(r, Unit(uid, f"单位{uid}", cid), create=True)
    windows = [registry.create_window(r, uid, f"{wid}号窗口") for wid, uid in WINDOWS.items()]
    assert [w.id for w in windows] == list(WINDOWS)
    for pid, (start, end) in PERIODS.items():
        h.period(pid, start, end)
    assert tap_from(h, windows[0], level=4).json["status"] == "counted"
    assert tap_from(h, windows[2], level=1, wait=0.1).json["status"] == "held"
    assert h.client.post("/api/v1/periods/p0/close", headers=h.admin).status_code == 201
    h.keys = {role: apikeys.create_key(r, name=f"fuzz {role}", role=role, now=clock(),
                                       units=["u1"] if role == "manager" else [])[0]
              for role in apikeys.ROLES}
    yield h
    r.flushdb()


@schema.parametrize()
def test_the_api_keeps_to_its_document(case, fuzzed):
    case.call_and_validate(app=fuzzed.app, headers={"Authorization": f"Bearer {fuzzed.keys['admin']}"},
                           checks=CHECKS)
