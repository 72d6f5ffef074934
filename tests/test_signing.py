"""QR tokens, scan tickets, device cookies and rater hashes (no Redis, no Flask)."""

from __future__ import annotations

import pytest

import qr
from ratingsvc.signing import BadTicket, BadToken, Signing, parse_qr_keys
from tests.helpers import Clock

KEYS = "1:first-secret-0123456789"


def signer(keys: str = KEYS, secret: str = "s" * 32, clock: Clock | None = None) -> Signing:
    return Signing(secret, keys, clock or Clock(1_780_000_000))


@pytest.mark.parametrize(("window", "epoch"), [(1, 1), (127, 128), (300_000, 70_000), (2**28, 5)])
def test_qr_token_round_trip(window, epoch):
    s = signer()
    token = s.qr_token(window, epoch)
    assert token == token.upper() and set(token) <= qr.ALPHANUMERIC
    assert s.read_qr_token(token) == s.read_qr_token(token.lower())
    got = s.read_qr_token(token)
    assert (got.window, got.epoch, got.kid) == (window, epoch, 1)


@pytest.mark.parametrize("host", ["pj.caidian.gov.cn:80", "abcdefghij.gov.cn.xy"])
def test_poster_url_fits_version_4_at_q_for_a_20_character_host(host):
    assert len(host) == 20
    s = signer()
    for window, epoch in [(1, 1), (99_999_999, 9_999)]:
        url = f"HTTPS://{host.upper()}/R/{s.qr_token(window, epoch)}"
        code = qr.make(url)
        assert code.version <= 4, (url, code.version)
        assert code.error_correction == qr.render.qrcode.constants.ERROR_CORRECT_Q
        assert [d.mode for d in code.data_list] == [qr.render.qrcode.util.MODE_ALPHA_NUM]


def test_mac_has_at_least_80_bits():
    from ratingsvc.signing import MAC_BYTES

    assert MAC_BYTES * 8 >= 80


def flipped(token: str, i: int) -> str:
    c = "B" if token[i] != "B" else "C"
    return token[:i] + c + token[i + 1:]


def test_every_tampered_or_truncated_token_is_refused():
    s = signer()
    token = s.qr_token(4242, 3)
    bad = [flipped(token, i) for i in range(len(token))]
    bad += [token[:n] for n in range(len(token))] + [token + "A", token + "AAAAAAAA", "", "1!"]
    for b in bad:
        with pytest.raises(BadToken):
            s.read_qr_token(b)


def test_key_rotation_old_tokens_work_until_their_key_is_removed():
    old = signer("1:first-secret-0123456789").qr_token(7, 1)
    both = signer("1:first-secret-0123456789,2:second-secret-987654321")
    assert both.read_qr_token(old).kid == 1
    new = both.qr_token(7, 1)
    assert both.read_qr_token(new).kid == 2
    only_new = signer("2:second-secret-987654321")
    assert only_new.read_qr_token(new).window == 7
    with pytest.raises(BadToken):
        only_new.read_qr_token(old)


@pytest.mark.parametrize("spec", ["", "x:abc", "256:abc", "1:", "1abc", " , "])
def test_bad_qr_key_specs_are_refused(spec):
    with pytest.raises(ValueError):
        parse_qr_keys(spec)


def test_ticket_round_trip_carries_issue_time_from_the_clock():
    clock = Clock(1_780_000_000)
    s = signer(clock=clock)
    t = s.read_ticket(s.ticket(5, "u1", 2, "dev-1"))
    assert (t.window, t.unit, t.epoch, t.device, t.issued_at) == (5, "u1", 2, "dev-1", 1_780_000_000)
    assert t.nonce != s.read_ticket(s.ticket(5, "u1", 2, "dev-1")).nonce


@pytest.mark.parametrize("mangle", [lambda t: t[:-1], lambda t: t + "x", lambda t: "x" + t[1:],
                                    lambda t: t.replace(".", "!", 1)])
def test_tampered_ticket_is_refused(mangle):
    s = signer()
    with pytest.raises(BadTicket):
        s.read_ticket(mangle(s.ticket(5, "u1", 2, "dev-1")))


def test_ticket_from_another_secret_is_refused():
    with pytest.raises(BadTicket):
        signer(secret="t" * 32).read_ticket(signer().ticket(5, "u1", 2, "dev-1"))


def test_device_cookie_round_trip_and_tamper():
    s = signer()
    cookie = s.device_cookie("abc")
    assert s.read_device_cookie(cookie) == "abc"
    assert s.read_device_cookie(cookie[:-2]) is None
    assert s.read_device_cookie(None) is None


def test_person_hash_is_keyed_and_hides_the_identifier():
    a, b = signer(secret="a" * 32), signer(secret="b" * 32)
    h = a.person_hash("device", "my-device-id")
    assert h == a.person_hash("device", "my-device-id")
    assert h != b.person_hash("device", "my-device-id")
    assert h != a.person_hash("openid", "my-device-id")
    assert "my-device-id" not in h and len(h) == 32
