"""API keys and roles: 401 without a key, 403 for the wrong role or another unit's object."""

from __future__ import annotations

import pytest

from ratingsvc import apikeys

ENDPOINTS = [  # (method, path, body, roles allowed)
    ("get", "/api/v1/categories", None, {"admin", "scorer"}),
    ("post", "/api/v1/categories", {"id": "c9", "name": "x"}, {"admin"}),
    ("get", "/api/v1/units", None, {"admin", "manager", "scorer"}),
    ("post", "/api/v1/units", {"id": "u9", "name": "x", "category": "c1"}, {"admin"}),
    ("patch", "/api/v1/units/u1", {"name": "x"}, {"admin"}),
    ("post", "/api/v1/units/u1/windows", {"name": "x"}, {"admin"}),
    ("get", "/api/v1/windows/{wid}", None, {"admin", "manager"}),
    ("patch", "/api/v1/windows/{wid}", {"name": "x"}, {"admin"}),
    ("get", "/api/v1/windows/{wid}/qr.png", None, {"admin", "manager"}),
    ("post", "/api/v1/windows/{wid}/revoke", None, {"admin", "manager"}),
    ("post", "/api/v1/periods", {"id": "p9", "name": "x", "start": "2026-01-01",
                                 "end": "2026-02-01"}, {"admin"}),
    ("get", "/api/v1/scores?period=p1", None, {"admin", "scorer"}),
    ("get", "/api/v1/units/u1/score?period=p1", None, {"admin", "scorer", "manager"}),
]


@pytest.fixture
def wid(h):
    win = h.window("u1")
    h.period("p1")
    return win.id


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
@pytest.mark.parametrize("role", ["none", "bogus", "admin", "manager", "scorer"])
def test_role_matrix(h, wid, method, path, body, allowed, role):
    headers = {"none": {}, "bogus": {"Authorization": "Bearer rsk_not-a-key"}}.get(role)
    if headers is None:
        headers = h.key(role, ("u1",) if role == "manager" else ())
    resp = getattr(h.client, method)(path.format(wid=wid), headers=headers, json=body)
    if role in ("none", "bogus"):
        assert resp.status_code == 401 and resp.json["error"]["code"] in ("unauthorized", "invalid_key")
    elif role in allowed:
        assert resp.status_code in (200, 201), resp.json
    else:
        assert resp.status_code == 403 and resp.json["error"]["code"] == "wrong_role"


def test_a_manager_reaches_only_their_own_units_windows(h):
    mine, theirs = h.window("u1"), h.window("u2")
    h.period("p1")
    m = h.key("manager", ("u1",))
    for path in ["/api/v1/windows/{}", "/api/v1/windows/{}/qr.png", "/api/v1/windows/{}/qr.svg"]:
        assert h.client.get(path.format(mine.id), headers=m).status_code == 200
        resp = h.client.get(path.format(theirs.id), headers=m)
        assert resp.status_code == 403 and resp.json["error"]["code"] == "other_unit"
    assert h.client.post(f"/api/v1/windows/{theirs.id}/revoke", headers=m).status_code == 403
    assert h.client.get(h.client.get(f"/api/v1/windows/{theirs.id}", headers=h.admin).json["rating_url"]
                        .split("PJ.CAIDIAN.GOV.CN")[1]).status_code == 200  # not revoked
    assert h.client.post(f"/api/v1/windows/{mine.id}/revoke", headers=m).status_code == 200
    assert h.client.get("/api/v1/units/u2/windows", headers=m).status_code == 403
    assert h.client.get("/api/v1/units/u2", headers=m).status_code == 403
    assert h.client.get("/api/v1/units/u2/score?period=p1", headers=m).status_code == 403
    assert [u["id"] for u in h.client.get("/api/v1/units", headers=m).json] == ["u1"]


@pytest.mark.parametrize("header", ["rsk_x", "Basic abc", "Bearer", "Bearer  ", "Token rsk_x"])
def test_malformed_authorization_gets_401(h, header):
    h.unit("u1")
    assert h.client.get("/api/v1/units", headers={"Authorization": header}).status_code == 401


def test_cli_creates_a_key_shown_once_and_stored_as_a_hash(h, r, runner):
    result = runner.invoke(["keys", "create", "--role", "scorer", "--name", "scoring service"])
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert key.startswith("rsk_") and len(key) > 40
    assert h.client.get("/api/v1/categories", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    stored = r.hgetall(apikeys.rkeys.API_KEYS)
    assert len(stored) == 1 and key not in str(stored)
    listing = runner.invoke(["keys", "list"])
    assert "scoring service" in listing.output and key not in listing.output
    key_id = apikeys.list_keys(r)[0].id
    assert runner.invoke(["keys", "revoke", key_id]).exit_code == 0
    assert h.client.get("/api/v1/categories", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_cli_refuses_a_manager_key_without_units(runner):
    result = runner.invoke(["keys", "create", "--role", "manager", "--name", "m"])
    assert result.exit_code != 0 and "names at least one unit" in result.output
