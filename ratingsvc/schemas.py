"""Request and response bodies. Unknown fields are rejected (marshmallow's default)."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .feed import valid_cursor
from .hours import compile_hours
from .recording import TAGS

SLUG = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$", error="1-40 letters, digits, '-' or '_'")
NAME = validate.Length(min=1, max=100)
LEVELS = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}


#: every point in time in an answer (timeutil.iso_time); calendar days are ISO dates
TIME = "ISO 8601 with the offset of TIMEZONE, e.g. 2026-11-23T09:30:05+08:00"


class StrictInt(fields.Integer):
    """An integer that must be a JSON number: no strings, no booleans, no fractions."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


POSTER_TAPS = validate.OneOf(("count", "hold"))
POSTER_TAPS_DOC = {"description": "how a poster tap counts on a window of a hall (visit tokens "
                                  "exist): count, or hold for review (README \"Visit tokens\")"}


class CategorySchema(Schema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=NAME)
    active = fields.Boolean(load_default=True)
    poster_taps = fields.String(load_default="count", validate=POSTER_TAPS, metadata=POSTER_TAPS_DOC)


class CategoryUpdateSchema(Schema):
    name = fields.String(validate=NAME)
    active = fields.Boolean()
    poster_taps = fields.String(validate=POSTER_TAPS, metadata=POSTER_TAPS_DOC)


class UnitSchema(Schema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=NAME)
    category = fields.String(required=True, validate=SLUG)
    active = fields.Boolean(load_default=True)


class UnitUpdateSchema(Schema):
    name = fields.String(validate=NAME)
    category = fields.String(validate=SLUG)
    active = fields.Boolean()


class UnitQuerySchema(Schema):
    category = fields.String(validate=SLUG)


class HoursSchema(Schema):
    days = fields.List(fields.Integer(validate=validate.Range(1, 7)), required=True,
                       validate=validate.Length(min=1, max=7),
                       metadata={"description": "weekdays, 1 = Monday"})
    open = fields.List(fields.String(validate=validate.Regexp(
        r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")), required=True,
        validate=validate.Length(min=1, max=6), metadata={"example": ["08:30-12:00", "14:00-17:30"]})

    @validates_schema
    def _ranges(self, data, **kwargs):
        try:
            compile_hours(data)
        except ValueError as exc:
            raise ValidationError(str(exc), "open") from exc


def hours_field() -> fields.Nested:
    return fields.Nested(HoursSchema, allow_none=True, metadata={
        "description": "opening hours; taps outside them (plus a grace) are held; null: always"})


class WindowSchema(Schema):
    id = fields.Integer(dump_only=True)
    unit = fields.String(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    epoch = fields.Integer(dump_only=True, metadata={"description": "bumped by every revoke"})
    active = fields.Boolean(dump_only=True)
    hours = hours_field()
    rating_url = fields.String(dump_only=True, metadata={"description": "what the QR encodes"})


class WindowUpdateSchema(Schema):
    name = fields.String(validate=NAME)
    active = fields.Boolean()
    hours = hours_field()


class QrQuerySchema(Schema):
    size = fields.Integer(load_default=512, validate=validate.Range(64, 4096),
                     metadata={"description": "width in pixels"})


class PosterQuerySchema(Schema):
    format = fields.String(load_default="a4", validate=validate.OneOf(["a4", "a5", "tent"]))
    period = fields.String(validate=SLUG, metadata={
        "description": "the period printed; default: the one under way, else the next"})


# Days are keyed YYYYMMDD and compared as text, and a period's counts run to the day after
# its end: four-digit years, and a last day that has a next.
DAY = validate.Range(date(1000, 1, 1), date(9999, 12, 30), error="from 1000-01-01 to 9999-12-30")


class PeriodSchema(Schema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=NAME)
    start = fields.Date(required=True, validate=DAY)
    end = fields.Date(required=True, validate=DAY)

    @validates_schema
    def _order(self, data, **kwargs):
        if data["end"] < data["start"]:
            raise ValidationError("end is before start", "end")


class PeriodPublicSchema(Schema):
    """Whether the public results page shows the period while it runs."""

    public = fields.Boolean(required=True)


class PeriodUpdateSchema(Schema):
    """A correction before the period starts: any of name, start, end."""

    name = fields.String(validate=NAME)
    start = fields.Date(validate=DAY)
    end = fields.Date(validate=DAY)

    @validates_schema
    def _some(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of name, start, end")
        if "start" in data and "end" in data and data["end"] < data["start"]:
            raise ValidationError("end is before start", "end")


class LevelSchema(Schema):
    level = fields.Integer()
    label = fields.String()


class NamedSchema(Schema):
    id = fields.Raw()
    name = fields.String()


class PowSchema(Schema):
    bits = fields.Integer()
    challenge = fields.String(metadata={"description": "find s: SHA-256(challenge:s) starts with bits zeros"})


class PeriodDaysSchema(Schema):
    id = fields.String()
    name = fields.String()
    start = fields.Date(metadata={"description": "its first day, YYYY-MM-DD"})
    end = fields.Date(metadata={"description": "its last day, YYYY-MM-DD"})


class ScanSchema(Schema):
    unit = fields.Nested(NamedSchema)
    window = fields.Nested(NamedSchema)
    levels = fields.List(fields.Nested(LevelSchema))
    ticket = fields.String(metadata={"description": "signed; send it back with the rating"})
    expires_in = fields.Integer(metadata={"description": "seconds the ticket stays valid"})
    pow = fields.Nested(PowSchema, metadata={"description": "only when proof of work is on"})
    office = fields.String(metadata={"description": "who runs the evaluation (EVALUATION_OFFICE)"})
    period = fields.Nested(PeriodDaysSchema, allow_none=True, metadata={
        "description": "the evaluation period containing today (TIMEZONE), or null if none"})
    now = fields.String(metadata={"description": "the server's time of this answer (ISO 8601 with "
                                  "offset): the page measures change_until against it"})
    channel = fields.String(metadata={"description": "poster, visit, kiosk or sms (README \"Channels\")"})


class RatingSchema(Schema):
    ticket = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    level = StrictInt(required=True, validate=validate.Range(1, 5))
    pow = fields.String(validate=validate.Length(min=1, max=20),
                        metadata={"description": "the proof of work, when the scan asked for one"})


def change_until_field() -> fields.String:
    return fields.String(allow_none=True, metadata={
        "format": "date-time", "example": "2026-06-01T10:02:05+08:00",
        "description": "ISO time with offset until which its rater may change the level "
                       "(RATING_CHANGE_SECONDS after the tap); null: it cannot be changed"})


class CaseLinksSchema(Schema):
    """What a tap's answer adds when the tap is a 差评 that opened a case."""
    case_url = fields.String(metadata={
        "description": "only when the rating is a counted 差评 (level at most CASE_MAX_LEVEL) with its "
                       "case: the rater's own link to it (查看处理结果), signed, to keep"})
    notify_url = fields.String(metadata={
        "description": "with case_url when WeChat notices are on (WECHAT_SUBSCRIBE_TEMPLATE): the "
                       "link that asks the rater's consent to one WeChat notice of the reply"})


class RatingAnswerSchema(CaseLinksSchema):
    status = fields.String(metadata={"description": "counted (201), held (202) or duplicate (200)"})
    rating_id = fields.String()
    level = fields.Integer(metadata={
        "description": "the level the rating has now; a duplicate: that of the rater's earlier "
                       "rating of this window today"})
    change_until = change_until_field()


class LevelChangeSchema(Schema):
    level = StrictInt(required=True, metadata={"description": "the new level, 1-5 (else 422)"})


class LevelChangeAnswerSchema(CaseLinksSchema):
    status = fields.String(metadata={"description": "changed, or unchanged: it had that level"})
    rating_id = fields.String()
    level = fields.Integer(metadata={"description": "the level the rating has now"})
    change_until = change_until_field()


class FollowupSchema(Schema):
    followup = StrictInt(required=True, metadata={
        "description": "the citizen's rating of the handling: 1 满意, 2 基本满意, 3 不满意 (else 422)"})


class CitizenCaseSchema(Schema):
    """A case as its citizen sees it: nothing of the rater, nothing of the unit's inner notes."""
    state = fields.String(metadata={"description": "new, verified, rectified, explained, closed or void"})
    state_name = fields.String(metadata={"description": "the state in the citizen's words (已受理, ...)"})
    note = fields.String(metadata={"description": "where the case is and what comes next, in Chinese"})
    unit = fields.String()
    window = fields.String()
    level = fields.Integer(metadata={"description": "the level of the rating that opened the case"})
    level_name = fields.String()
    tapped_at = fields.String(metadata={"format": "date-time"})
    opened_at = fields.String(metadata={"format": "date-time"})
    verify_due = fields.String(metadata={"format": "date-time"})
    rectify_due = fields.String(metadata={"format": "date-time"})
    followup_due = fields.String(allow_none=True, metadata={
        "format": "date-time", "description": "once replied: until when the handling may be rated"})
    verified_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    replied_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    closed_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    reply = fields.String(allow_none=True, metadata={"description": "the unit's reply to the citizen"})
    cause = fields.String(allow_none=True, metadata={"description": "rectified: the cause found"})
    act = fields.String(allow_none=True, metadata={"description": "rectified: what was done"})
    followup = fields.Integer(allow_none=True, metadata={"description": "the citizen's rating of the "
                                                                        "handling: 1, 2 or 3"})
    followup_name = fields.String(allow_none=True)
    followup_open = fields.Boolean(metadata={"description": "the handling may be rated now (once)"})


class DetailsSchema(Schema):
    tags = fields.List(fields.String(validate=validate.OneOf(TAGS)), load_default=list,
                       validate=validate.Length(max=len(TAGS)))
    comment = fields.String(load_default="", validate=validate.Length(max=500))

    @validates_schema
    def _something(self, data, **kwargs):
        if not data["tags"] and not data["comment"].strip():
            raise ValidationError("give at least one tag or a comment")


class DetailsAnswerSchema(Schema):
    status = fields.String()


class ScoresQuerySchema(Schema):
    period = fields.String(required=True, validate=SLUG)
    category = fields.String(validate=SLUG)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


class UnitScoreQuerySchema(Schema):
    period = fields.String(required=True, validate=SLUG)


class RatesSchema(Schema):
    bad = fields.Integer(metadata={"description": "差评数: cases of the period's taps, not voided"})
    replied = fields.Integer()
    reply_rate = fields.Float(allow_none=True, metadata={"description": "差评回复率: replied / bad"})
    timely = fields.Integer(metadata={"description": "replies given by the rectify deadline"})
    rectify_rate = fields.Float(allow_none=True, metadata={"description": "整改率: replied on time / bad"})
    followups = fields.Integer()
    satisfied = fields.Integer()
    satisfaction_rate = fields.Float(allow_none=True, metadata={
        "description": "回访整改满意率: 满意 or 基本满意 / follow-ups"})
    median_verify_days = fields.Float(allow_none=True)
    median_close_days = fields.Float(allow_none=True)
    overdue = fields.Integer()
    appeals = fields.Integer()
    upheld = fields.Integer()


class StatsSchema(Schema):
    """The national statistics of counted taps (README "Statistics")."""

    volume = fields.Integer(metadata={"description": "services done (imported volumes)"})
    rated = fields.Integer(metadata={"description": "counted taps"})
    good_rate = fields.Float(allow_none=True, metadata={"description": "好评率: levels 3-5 / rated"})
    bad_rate = fields.Float(allow_none=True, metadata={"description": "差评率: levels 1-2 / rated"})
    participation = fields.Float(allow_none=True, metadata={
        "description": "参评率: rated / volume (null: no volume)"})
    unrated = fields.Float(allow_none=True, metadata={
        "description": "未评率: max(0, volume - rated) / volume (null: no volume)"})


class ChannelCountsSchema(StatsSchema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "counted taps per level '1'..'5'"})
    pending = fields.Integer()


class UnitScoreSchema(Schema):
    unit = fields.String()
    name = fields.String()
    category = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "counted taps per level '1'..'5'"})
    n = fields.Integer(metadata={"description": "counted taps"})
    pending = fields.Integer(metadata={"description": "taps held for review, not decided yet"})
    rejected = fields.Integer(allow_none=True, metadata={
        "description": "held taps rejected on review (null: a period closed before they were "
                       "told apart from pending ones)"})
    raw = fields.Float(allow_none=True, metadata={"description": "mean index / 10, 0-10"})
    score = fields.Float(allow_none=True, metadata={
        "description": "shrunk toward the category mean; ranked on; null: no ratings"})
    ci95 = fields.List(fields.Float(), allow_none=True, metadata={
        "description": "95% interval of raw; null: no ratings"})
    good_rate = fields.Float(allow_none=True, metadata={"description": "share of levels 3-5"})
    status = fields.String(metadata={
        "description": "ok | insufficient (fewer than min_n counted taps) | no_ratings (none)"})
    rank = fields.Integer(allow_none=True)
    excluded = fields.Integer(allow_none=True, metadata={
        "description": "taps taken out after an upheld appeal (null: closed before appeals)"})
    cases = fields.Nested(RatesSchema, allow_none=True, metadata={
        "description": "the unit's case rates (README \"Cases\"; null: closed before cases)"})
    stats = fields.Nested(StatsSchema, allow_none=True, metadata={
        "description": "好评率, 差评率, 参评率, 未评率 (null: closed before statistics)"})
    channels = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelCountsSchema), allow_none=True,
                           metadata={"description": "per channel (poster, visit, kiosk, sms) that has "
                                                    "taps: its counts and statistics (README \"Channels\"); "
                                                    "null when every tap came by the window's poster"})


class CategoryMeanSchema(Schema):
    mean = fields.Float()
    n = fields.Integer()
    cases = fields.Nested(RatesSchema, allow_none=True, metadata={
        "description": "the category's case rates (null: a period closed before cases)"})


class TableSchema(Schema):
    """What a live score table and a closed period's result share."""

    prior_weight = fields.Float()
    min_n = fields.Integer()
    categories = fields.Dict(keys=fields.String(), values=fields.Nested(CategoryMeanSchema))
    units = fields.List(fields.Nested(UnitScoreSchema))


class ScoresSchema(TableSchema):
    period = fields.Nested(PeriodSchema)
    frozen = fields.Boolean(metadata={"description": "true: a closed period's stored result"})
    digest = fields.String(metadata={"description": "a closed period's export digest"})


class ReviewQuerySchema(Schema):
    unit = fields.String(validate=SLUG)
    window = fields.Integer()
    reason = fields.String(validate=validate.Length(max=40))


class HeldTapSchema(Schema):
    rating_id = fields.String()
    unit = fields.String()
    window = fields.Integer()
    level = fields.Integer()
    reasons = fields.List(fields.String(), metadata={"description": "the rules that held it"})
    time = fields.String(metadata={"description": f"when it was tapped: {TIME}"})


class HeldCountSchema(Schema):
    unit = fields.String()
    window = fields.Integer()
    reason = fields.String()
    count = fields.Integer()


class ReviewQueueSchema(Schema):
    by_window_and_reason = fields.List(fields.Nested(HeldCountSchema))
    taps = fields.List(fields.Nested(HeldTapSchema))


class DecisionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["release", "reject"]))
    why = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DecisionAnswerSchema(Schema):
    status = fields.String(metadata={"description": "released or rejected"})
    decision = fields.String(metadata={"description": "the decision's entry in the unit's log"})


class HeldAsSchema(Schema):
    window = fields.Integer()
    level = fields.Integer()
    reasons = fields.List(fields.String())
    time = fields.String(metadata={"description": f"when it was held: {TIME}"})


class DecisionRecordSchema(Schema):
    rating_id = fields.String()
    action = fields.String()
    by = fields.String(metadata={"description": "who decided: key:<API key id>, or account:<username> "
                                                        "(the console)"})
    name = fields.String(metadata={"description": "name of that key"})
    why = fields.String()
    time = fields.String(metadata={"description": f"when it was decided: {TIME}"})
    decision = fields.String()
    held = fields.Nested(HeldAsSchema, metadata={"description": "the tap as it was held"})


CURSOR = r"^(0|[0-9]{1,20}-[0-9]{1,20})$"


def _cursor(value: str) -> None:
    if not valid_cursor(value):
        raise ValidationError("expected a cursor from an earlier answer, or 0")


class ChangesQuerySchema(Schema):
    period = fields.String(required=True, validate=SLUG)
    after = fields.String(load_default="0", validate=[validate.Regexp(CURSOR), _cursor],
                          metadata={"description": "a cursor from an earlier answer; 0: the start"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 5000))


class ChangeSchema(Schema):
    id = fields.String(metadata={"description": "the cursor after this change"})
    unit = fields.String()
    kind = fields.String(metadata={"description": "counted | held | hold | release | reject | "
                                                  "change (a counted tap's level changed by its "
                                                  "rater) | appeal (a tap taken out after an "
                                                  "upheld appeal) | volume (a window's services "
                                                  "done that day, imported)"})
    day = fields.String(metadata={"description": "the day whose counts changed: an ISO date, "
                                                 "e.g. 2026-11-23, counted in TIMEZONE"})
    score = fields.Nested(UnitScoreSchema, allow_none=True, metadata={
        "description": "the unit's aggregates now; null for a unit that is not scored (deactivated)"})


class ChangesSchema(Schema):
    period = fields.String()
    changes = fields.List(fields.Nested(ChangeSchema))
    cursor = fields.String(metadata={"description": "resume from here (after=)"})
    more = fields.Boolean(metadata={"description": "more changes are waiting"})


class ClosedSchema(Schema):
    period = fields.String()
    taps = fields.Integer(metadata={"description": "taps in the export (change, case and appeal lines "
                                                   "not counted)"})
    digest = fields.String(metadata={"description": "SHA-256 chain value of the export's last line"})
    case_categories = fields.Dict(keys=fields.String(), values=fields.Nested(RatesSchema), metadata={
        "description": "each category's case rates, from the export (absent: closed before cases)"})
    closed_at = fields.String(metadata={"description": TIME})
    export = fields.String(metadata={"description": "the export's file name"})


class ResultSchema(TableSchema):
    period = fields.String()
    start = fields.Date()
    end = fields.Date()
    closed_at = fields.String(metadata={"description": TIME})
    taps = fields.Integer(metadata={"description": "taps in the export (change, case and appeal lines "
                                                   "not counted)"})
    digest = fields.String(metadata={"description": "SHA-256 chain value of the export's last line"})
    case_categories = fields.Dict(keys=fields.String(), values=fields.Nested(RatesSchema), metadata={
        "description": "each category's case rates, from the export (absent: closed before cases)"})


class ReportQuerySchema(Schema):
    category = fields.String(validate=SLUG)
    n = fields.Integer(load_default=10, validate=validate.Range(1, 50),
                       metadata={"description": "how many best and worst units"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "html", "xlsx"]))


class ReportRowSchema(Schema):
    unit = fields.String()
    name = fields.String()
    rank = fields.Integer(allow_none=True)
    score = fields.Float(allow_none=True, metadata={"description": "null: no ratings"})
    ci95 = fields.List(fields.Float(), allow_none=True, metadata={"description": "null: no ratings"})
    n = fields.Integer()
    pending = fields.Integer()
    rejected = fields.Integer(allow_none=True)
    raw = fields.Float(allow_none=True)
    good_rate = fields.Float(allow_none=True)
    status = fields.String(metadata={"description": "ok | insufficient | no_ratings"})
    cases = fields.Nested(RatesSchema, allow_none=True, metadata={
        "description": "the unit's case rates (null: a period closed before cases)"})
    stats = fields.Nested(StatsSchema, allow_none=True, metadata={
        "description": "好评率, 差评率, 参评率, 未评率 (null: closed before statistics)"})


class ReportCategorySchema(Schema):
    id = fields.String()
    name = fields.String()
    mean = fields.Float()
    cases = fields.Nested(RatesSchema, allow_none=True, metadata={
        "description": "the category's case rates (null: a period closed before cases)"})
    ranked = fields.Integer(metadata={"description": "units ranked (enough ratings)"})
    listed = fields.Integer(metadata={
        "description": "units on each of best and worst: min(n, ranked // 2), so no unit is on both"})
    best = fields.List(fields.Nested(ReportRowSchema))
    worst = fields.List(fields.Nested(ReportRowSchema), metadata={"description": "the last first"})
    insufficient = fields.List(fields.Nested(ReportRowSchema), metadata={
        "description": "too few ratings, then none (status no_ratings)"})
    statistics = fields.Dict(keys=fields.String(), allow_none=True,
                             values=fields.Nested(lambda: StatisticsFiguresSchema()), metadata={
                                 "description": "the category's figures: \"all\" channels, then each "
                                                "with taps (README \"Statistics\"; null: closed before "
                                                "statistics)"})


class ReportSchema(Schema):
    period = fields.String()
    frozen = fields.Boolean(metadata={"description": "true: a closed period's stored result"})
    digest = fields.String(allow_none=True, metadata={"description": "a closed period's export digest"})
    n = fields.Integer()
    basis = fields.String(metadata={"description": "what the ranking is based on, for people"})
    categories = fields.List(fields.Nested(ReportCategorySchema))


#: the body of an answer that is not JSON, for the document
TEXT = {"type": "string"}
BINARY = {"type": "string", "format": "binary"}


# Halls, visit tokens, kiosks and volumes (README "Visit tokens", "Statistics") -------------
def cidr(value: str) -> None:
    """A network in CIDR notation (an address alone is one of its own)."""
    import ipaddress

    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValidationError("not a network, e.g. 203.0.113.0/28") from None


class HallSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    windows = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list,
                          validate=validate.Length(max=2000),
                          metadata={"description": "the hall's windows (a window is in one hall at most)"})
    valid_minutes = fields.Integer(load_default=1440, validate=validate.Range(1, 2880), metadata={
        "description": "how long a visit token or SMS link counts after it was made (at most 48 hours)"})
    active = fields.Boolean(load_default=True)
    created = fields.Float(dump_only=True)
    networks = fields.List(fields.String(validate=cidr), load_default=list, validate=validate.Length(max=50),
                           metadata={"description": "the hall's own addresses as the server sees them (CIDR, "
                                                    "e.g. 203.0.113.0/28): a rater there is on site"})


class HallUpdateSchema(Schema):
    name = fields.String(validate=NAME)
    networks = fields.List(fields.String(validate=cidr), validate=validate.Length(max=50))
    windows = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(max=2000))
    valid_minutes = fields.Integer(validate=validate.Range(1, 2880))
    active = fields.Boolean()


class HallKeySchema(Schema):
    hall = fields.Nested(HallSchema)
    key = fields.String(metadata={"description": "the hall's key, shown once: rsh_<hall>_<base32>"})


class TokenRequestSchema(Schema):
    window = fields.Integer(required=True, validate=validate.Range(min=1))
    channel = fields.String(load_default="visit", validate=validate.OneOf(("visit", "sms")),
                            metadata={"description": "visit (a queue ticket or screen) or sms (a link)"})


class TokenAnswerSchema(Schema):
    token = fields.String()
    url = fields.String(metadata={"description": "what the QR code or the SMS carries"})
    channel = fields.String()
    window = fields.Integer()
    expires_at = fields.String(metadata={"description": "after this the token counts no rating"})
    qr_svg = fields.String(metadata={"description": "the URL's QR code, an SVG data: URI"})


class KioskOpenSchema(Schema):
    window = fields.Integer(required=True, validate=validate.Range(min=1))


class KioskStateSchema(Schema):
    window = fields.Nested(NamedSchema)
    unit = fields.Nested(NamedSchema)
    open = fields.Boolean()
    token = fields.String(allow_none=True, metadata={"description": "the opening's visit token"})
    seconds = fields.Integer(metadata={"description": "seconds an opening lasts"})


class KioskLinkSchema(Schema):
    url = fields.String(metadata={"description": "the window's kiosk page: open it on the device"})


class VolumeRowSchema(Schema):
    window = fields.Integer(required=True, validate=validate.Range(min=1))
    day = fields.Date(required=True)
    services = StrictInt(required=True, validate=validate.Range(0, 1_000_000))


class VolumesSchema(Schema):
    rows = fields.List(fields.Nested(VolumeRowSchema), required=True,
                       validate=validate.Length(min=1, max=50_000))


class VolumesAnswerSchema(Schema):
    rows = fields.Integer()
    units = fields.Integer()
    days = fields.Integer()
    moved = fields.Integer(metadata={"description": "the change of the services counted"})
    held = fields.Integer(metadata={"description": "counted poster taps above the services done (and "
                                                   "RULE_VOLUME_MARGIN) held for review as 'volume', "
                                                   "today's and yesterday's"})


class StatisticsQuerySchema(Schema):
    period = fields.String(required=True, validate=SLUG)
    by = fields.String(load_default="unit", validate=validate.OneOf(["category", "unit", "window"]),
                       metadata={"description": "a row per category, unit or window (window: of one "
                                                "category or unit)"})
    category = fields.String(validate=SLUG)
    unit = fields.String(validate=SLUG)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


class StatisticsFiguresSchema(StatsSchema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    pending = fields.Integer()


class StatisticsRowSchema(Schema):
    category = fields.String()
    unit = fields.String(allow_none=True)
    name = fields.String()
    window = fields.Integer(allow_none=True)
    window_name = fields.String(allow_none=True)
    channels = fields.Dict(keys=fields.String(), values=fields.Nested(StatisticsFiguresSchema), metadata={
        "description": "\"all\" (every channel together), then each channel with taps"})


class StatisticsSchema(Schema):
    period = fields.Nested(PeriodSchema)
    by = fields.String()
    rows = fields.List(fields.Nested(StatisticsRowSchema))
