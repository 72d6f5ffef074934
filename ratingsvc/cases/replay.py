"""Cases and appeals rebuilt from a period's export (its "case" and "appeal" lines), so that a
closed period's case rates can be computed from the export alone, and `ratingsvc verify` can
check every step against the states (README "Cases", "Closing a period").

A case line: {"kind": "case", "of": tap id, "action", "from", "to", "by", "time", ...what
was set (verify_due, rectify_due, followup_due, verified, replied, closed: ISO times, as every
time in a file; followup 1-3; note, cause, act, reply; why)}. An appeal line: {"kind":
"appeal", "of", "action": file | uphold | reject, "by", "time", "level", reason, evidence or
note}. Times are to the second, so rates from an export are to the second too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..timeutil import iso_time
from .appeals import Appeal
from .store import STEPS, Case

TIMES = {"vd": "verify_due", "rd": "rectify_due", "fd": "followup_due", "vt": "verified", "rt": "replied",
         "ct": "closed"}  # log field -> export field, an ISO time
TEXT_FIELDS = ("note", "cause", "act", "reply", "why", "reason", "evidence")
ENDS = {**{a: to for a, (_, to) in STEPS.items()}, "open": "new", "void": "void"}
STARTS = {a: starts for a, (starts, _) in STEPS.items()}
APPEAL_ENDS = {"uphold": "upheld", "reject": "rejected"}
ATTRS = {"followup_due": "followup_due", "verified": "verified_ms", "replied": "replied_ms",
         "closed": "closed_ms"}  # export field -> Case attribute


def line_fields(f: dict, tz: str) -> dict:
    """What a log entry of a case or an appeal adds to its export line."""
    out: dict = {name: iso_time(int(f[k]), tz) for k, name in TIMES.items() if f.get(k) not in (None, "")}
    if f.get("fu"):
        out["followup"] = int(f["fu"])
    out.update({k: f[k] for k in TEXT_FIELDS if f.get(k)})
    return out


def ms(value: str) -> int:
    """An ISO time of an export as ms; ValueError if it is not one."""
    return int(datetime.fromisoformat(value).timestamp() * 1000)


def replay(lines: Iterable, problems: list[str] | None = None,
           check_taps: bool = False) -> tuple[list[Case], list[Appeal]]:
    """The cases and appeals the lines make (numbered as the export's lines: (number, line)
    pairs are also taken); a step that does not fit its case is said in problems and skipped.
    check_taps: the lines include the taps, and a case must open on a tap before it."""
    taps: set[tuple[str, str]] = set()
    cases: dict[tuple[str, str], Case] = {}
    found: dict[tuple[str, str], Appeal] = {}

    def say(number: int, text: str) -> None:
        if problems is not None:
            problems.append(f"line {number}: {text}")

    for number, line in enumerate(lines, 1):
        if isinstance(line, tuple):
            number, line = line
        kind = line.get("kind")
        if kind is None:
            taps.add((str(line["unit"]), str(line["id"])))
        if kind not in ("case", "appeal"):
            continue
        key, action, at = (str(line["unit"]), str(line["of"])), line.get("action"), ms(line["time"])
        if kind == "appeal":
            a = found.get(key)
            if action == "file" and a is None:
                found[key] = Appeal(key[0], key[1], "pending", int(line["window"]), int(line["level"]), 0,
                                    "", at, str(line.get("by", "")), str(line.get("reason", "")))
            elif action in APPEAL_ENDS and a is not None and a.state == "pending":
                a.state, a.decided_ms, a.note = APPEAL_ENDS[action], at, str(line.get("note", ""))
            else:
                say(number, f"the appeal of {key[1]} cannot be '{action}' here")
            continue
        c = cases.get(key)
        state = c.state if c else ""
        if action not in ENDS or line.get("to") != ENDS[action]:
            say(number, f"case {key[1]}: '{action}' does not end in '{line.get('to')}'")
            continue
        if line.get("from") != state:
            say(number, f"case {key[1]} goes from '{line.get('from')}', but it is '{state or 'not open'}'")
            continue
        if action == "open":
            if state not in ("", "void"):
                say(number, f"case {key[1]} is opened again while '{state}'")
                continue
            if check_taps and key not in taps:
                say(number, f"case {key[1]} opens on no tap before it")
                continue
            cases[key] = Case(key[0], key[1], int(line["window"]), int(line["level"]), 0, "", at, "new",
                              ms(line["verify_due"]), ms(line["rectify_due"]), history=c.history if c else [])
            continue
        if c is None or (action in STARTS and state not in STARTS[action]):
            say(number, f"case {key[1]}: '{action}' cannot start from '{state or 'not open'}'")
            continue
        c.state = ENDS[action]
        for name, attr in ATTRS.items():
            if name in line:
                setattr(c, attr, ms(line[name]))
        if "followup" in line:
            c.followup = int(line["followup"])
        if action == "void":
            c.why = str(line.get("why", ""))
    return list(cases.values()), list(found.values())
