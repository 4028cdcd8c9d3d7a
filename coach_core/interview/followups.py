"""The interviewer's follow-up: at most one question after an answer, chosen from what the analysis found.

Rules, first that applies wins (docs for users: the follow-up always says why it was asked):

1. ``too_short``: the answer lasted under ``TOO_SHORT_SHARE`` of the question's time budget.
2. ``missed_key_point``: the first key point (in the question's order) the coverage did not find; the
   question's own follow-up from the data file's ``key_points`` section when it has one, else a generic one.
3. Behavioural questions, a STAR part not heard: ``star_result`` first, then ``star_action``, ``star_task``,
   ``star_situation`` (the outcome and what *you* did are what an interviewer probes first).
4. ``no_numbers``: no number anywhere in the answer, when the answer is a behavioural story (its claims are
   unmeasured: "How did you measure that?") or the question is about scale or performance (a system design
   question, or one whose text names scale, latency, load, memory and the like, ``SCALE_WORDS``).

A complete answer gets no follow-up. The wording comes only from ``coach_core/data/follow_ups.json``
(placeholders ``{key_point}`` and ``{topic}``); among a kind's phrasings one is picked by a hash of the
question and the kind, so the same answer always gets the same follow-up.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from coach_core.formatting import clock
from coach_core.schema import Plain, Question, Report

KINDS = (
    "missed_key_point",
    "star_result",
    "star_task",
    "star_action",
    "star_situation",
    "no_numbers",
    "too_short",
)
STAR_ORDER = ("result", "action", "task", "situation")
STAR_REASONS = {
    "result": "Your story had no clear result.",
    "action": "I couldn't clearly hear what you did yourself.",
    "task": "I couldn't clearly hear what you were responsible for.",
    "situation": "I couldn't clearly hear the situation the story starts from.",
}
# An answer shorter than this share of its time budget leaves most of the question unsaid (the bank's
# budgets are what a full answer takes; a third of it is a headline, not an answer).
TOO_SHORT_SHARE = 0.35
SCALE_TOPICS = frozenset({"system design"})
SCALE_WORDS = re.compile(
    r"\b(scal\w*|latency|slow\w*|fast\w*|performance|throughput|load|traffic|memory|billion|million|"
    r"per second|requests?|capacity|bottleneck\w*)\b",
    re.I,
)
# Digits, or number words a transcript may hold instead ("two thousand invoices", "half"). "one" is left
# out: "the one who", "no one" are not measurements.
NUMBER = re.compile(
    r"\d|%|\b(zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
    r"thousands?|millions?|billions?|dozens?|percent|half|halved|double[ds]?|twice|triple[ds]?|tenfold)\b",
    re.I,
)
KEY_POINT_REASON_LIMIT = 90


@dataclass
class FollowUp(Plain):
    """One follow-up question and why it is asked."""

    text: str
    reason: str  # a short sentence for the person: why this follow-up
    kind: str  # one of KINDS
    key_point: str | None = None  # the missed key point, for ``missed_key_point``
    phrased_by: str = "template"  # "template" | "llm" (see coach_core.interview.phrasing)


@dataclass(frozen=True)
class FollowUpTemplates:
    """The follow-up wording from the data file."""

    templates: dict[str, tuple[str, ...]]
    key_points: dict[str, dict[str, str]] = field(default_factory=dict)  # question id -> key point index -> text


def read_templates(path: Path) -> FollowUpTemplates:
    """Read a follow-up file (the format of ``coach_core/data/follow_ups.json``).

    Raises:
        ValueError: a follow-up kind has no phrasing, or the file is not in that format.
    """
    return _parse(json.loads(path.read_text("utf-8")), str(path))


@lru_cache(maxsize=1)
def bundled_templates() -> FollowUpTemplates:
    """The follow-ups shipped with the app (``coach_core/data/follow_ups.json``), read once."""
    raw = resources.files("coach_core").joinpath("data/follow_ups.json").read_text("utf-8")
    return _parse(json.loads(raw), "coach_core/data/follow_ups.json")


def choose_follow_up(question: Question, report: Report, templates: FollowUpTemplates | None = None) -> FollowUp | None:
    """The one follow-up worth asking after ``report`` (the analysed answer to ``question``), or ``None``.

    Args:
        question: the question asked (its id selects the question's own follow-ups and the phrasing).
        report: the analysis of the answer: duration, key-point coverage, STAR, transcript.
        templates: the wording; defaults to the bundled ``follow_ups.json``.
    """
    templates = templates or bundled_templates()
    metrics = report.metrics
    budget = question.time_budget_s
    if budget and report.duration_s < TOO_SHORT_SHARE * budget:
        reason = f"Your answer lasted {clock(report.duration_s)}; this question usually takes about {clock(budget)}."
        return _make(templates, question, "too_short", reason)

    coverage = metrics.coverage
    if coverage is not None and coverage.missed:
        point = coverage.missed[0].key_point.strip()
        own = _own_key_point_text(templates, question, point)
        reason = f"You didn't mention: {_shorten(_no_full_stop(point))}"
        if own is not None:
            return FollowUp(text=_fill(own, point, question), reason=reason, kind="missed_key_point", key_point=point)
        return _make(templates, question, "missed_key_point", reason, point)

    star = metrics.star
    if question.is_behavioural and star is not None:
        for part in STAR_ORDER:
            if not getattr(star, part).present:
                return _make(templates, question, f"star_{part}", STAR_REASONS[part])

    if not has_number(report.transcript):
        if question.is_behavioural:
            return _make(templates, question, "no_numbers", "Your story made its claims without a single number.")
        if is_about_scale(question):
            reason = "The question is about scale or performance, and your answer gave no numbers."
            return _make(templates, question, "no_numbers", reason)
    return None


def has_number(text: str) -> bool:
    """Whether the text holds a number: digits, a percent sign, or a number word (not "one")."""
    return NUMBER.search(text) is not None


def is_about_scale(question: Question) -> bool:
    """A system design question, or one whose text names scale or performance (``SCALE_WORDS``)."""
    return (question.topic or "").lower() in SCALE_TOPICS or SCALE_WORDS.search(question.text) is not None


def _make(
    templates: FollowUpTemplates, question: Question, kind: str, reason: str, key_point: str | None = None
) -> FollowUp:
    options = templates.templates[kind]
    digest = hashlib.sha256(f"{question.id or question.text}|{kind}".encode()).digest()
    chosen = options[int.from_bytes(digest[:8], "big") % len(options)]
    return FollowUp(text=_fill(chosen, key_point, question), reason=reason, kind=kind, key_point=key_point)


def _own_key_point_text(templates: FollowUpTemplates, question: Question, point: str) -> str | None:
    own = templates.key_points.get(question.id or "")
    if not own:
        return None
    points = [k.strip() for k in question.key_points]
    if point not in points:
        return None
    text = own.get(str(points.index(point)))
    return text.strip() if text and text.strip() else None


def _fill(template: str, key_point: str | None, question: Question) -> str:
    # Plain replacement, not str.format: a stray brace in the data must not break an interview.
    text = template.replace("{topic}", question.topic or "this")
    if key_point is not None:
        text = text.replace("{key_point}", _as_phrase(key_point))
    return " ".join(text.split())


def _as_phrase(point: str) -> str:
    """A key point ("Put a cache in front of the database.") read inside a sentence: no full stop, and a
    lower-case first word unless it is a name or an acronym ("SQL", "A/B")."""
    point = _no_full_stop(point)
    first = point.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower() and first.isalpha():
        point = point[:1].lower() + point[1:]
    return point


def _no_full_stop(text: str) -> str:
    return text.strip().rstrip(".").strip()


def _shorten(text: str) -> str:
    if len(text) <= KEY_POINT_REASON_LIMIT:
        return text
    return text[: KEY_POINT_REASON_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _parse(raw: object, source: str) -> FollowUpTemplates:
    if not isinstance(raw, dict) or not isinstance(raw.get("templates"), dict):
        raise ValueError(f"{source}: expected an object with a 'templates' section.")
    templates: dict[str, tuple[str, ...]] = {}
    for kind in KINDS:
        options = raw["templates"].get(kind)
        if not isinstance(options, list) or not [o for o in options if isinstance(o, str) and o.strip()]:
            raise ValueError(f"{source}: no phrasing for the follow-up kind '{kind}'.")
        templates[kind] = tuple(o.strip() for o in options if isinstance(o, str) and o.strip())
        if kind != "missed_key_point" and any("{key_point}" in o for o in templates[kind]):
            raise ValueError(f"{source}: '{{key_point}}' is only known for 'missed_key_point', not for '{kind}'.")
    key_points: dict[str, dict[str, str]] = {}
    for question_id, entries in (raw.get("key_points") or {}).items():
        if isinstance(entries, dict):
            key_points[str(question_id)] = {str(k): str(v) for k, v in entries.items() if isinstance(v, str)}
    return FollowUpTemplates(templates=templates, key_points=key_points)
