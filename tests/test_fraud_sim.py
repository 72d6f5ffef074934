"""The attack simulation (bench/fraud.py) runs, at a third of its size, and holds its goals."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "fraud", Path(__file__).resolve().parent.parent / "bench" / "fraud.py")
assert spec and spec.loader
fraud = importlib.util.module_from_spec(spec)
sys.modules["fraud"] = fraud  # dataclasses look their module up there
spec.loader.exec_module(fraud)


def test_simulation_counts_honest_citizens_and_almost_no_fraud(capsys):
    result = fraud.run(scale=0.3, seed=11)
    by_name = {s["name"]: s for s in result["scenarios"]}
    assert result["honest_citizens_counted_share"] >= 0.99
    assert by_name["one device taps 100 times"]["counted"] <= 1
    assert by_name["a script replays one ticket 100 times"]["counted"] <= 1
    # A slower bot gets more in before its address is flagged: at most about two buckets' worth.
    assert by_name["bot clears cookies, rescans, one IP"]["counted"] <= 2 * 8
    assert by_name["poster photo, hundreds of IPs, at night"]["counted"] == 0
    assert by_name["staff trickle, 5 phones, all day"]["counted"] <= 5  # a phone that tapped once
    # round two (issue 16): what each signal leaves at most (at this size the first few of an
    # attack weigh more than at full size, where the share counted is under 1%)
    assert by_name["staff, own phones, once a working day, a week"]["counted"] == 0  # returning
    assert by_name["patient bot, one IP, all afternoon, several windows"]["counted"] == 0  # ip_unit
    # burst holds the counted taps from outside before it too; offsite lets the first nine from
    # outside through on the poster's first day, with none from the hall (ten of ten is once in
    # 1,024 days at a half), and RULE_OFFSITE_MIN - 1 on the second, weighed with the first; a
    # window without hours goes by its unit's others
    assert by_name["poster photo spread, office hours, 300 IPs"]["counted"] <= 9 + 4
    assert by_name["crowd at night, window without hours"]["counted"] == 0
    assert by_name["rival's flood in two waves, 40 IPs, forged XFF"]["counted"] == 0
    assert by_name["the flood at a window under a flood (its taps)"]["counted"] == 0
    # (at a third of the size the first few taps of each attack weigh three times as much as at
    # full size, where the README's figure is measured: 0.57 %; here the spread poster's 13 are
    # 1.5 points of it)
    assert result["fraudulent_taps_counted_share"] <= 0.025
    for name in ("honest: two windows in one visit (受理 then 缴费)", "honest: busy hall, one IP, 600 a day",
                 "honest: busy hall, one IP, 600 a day, no network registered",
                 "honest: citizens at a window under a flood"):
        assert by_name[name]["counted"] == by_name[name]["sent"], name  # every one
    assert "share of fraudulent taps counted" in capsys.readouterr().out
