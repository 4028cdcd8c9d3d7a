"""The interview report as a PDF: every question with its scores and follow-up, averages, the strongest
and weakest answer, and three priorities (the same Chromium and stylesheet as a session's report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from coach_core.config import Settings, load_settings
from coach_core.formatting import clock
from coach_core.interview.summary import SCORE_NAMES, InterviewSummary
from coach_core.reporting.pdf import TEMPLATES_DIR, get_renderer
from coach_core.reporting.report_context import band

TEMPLATE = "interview.html.j2"
_environment: Environment | None = None


def interview_context(summary: InterviewSummary, created_at: datetime, role: str | None) -> dict[str, Any]:
    def score(value: float | None) -> dict[str, str]:
        return {"value": "–" if value is None else f"{value:.0f}", "band": band(value)}

    questions = []
    for q in summary.questions:
        questions.append({
            "number": q.number, "text": q.question, "kind": q.kind, "answered": q.answered,
            "duration": clock(q.duration_s) if q.duration_s is not None else "–",
            "scores": {name: score(q.scores.get(name)) for name in SCORE_NAMES},
            "missed": q.key_points_missed, "points_total": q.key_points_total,
            "follow_up": q.follow_up.text if q.follow_up else None,
            "follow_up_reason": q.follow_up.reason if q.follow_up else None,
            "follow_up_answered": q.follow_up_session_id is not None,
            "follow_up_overall": score(q.follow_up_scores.get("overall")) if q.follow_up_scores else None,
        })  # fmt: skip
    pick = lambda i: summary.questions[i] if i is not None else None  # noqa: E731
    return {
        "date": f"{created_at:%Y-%m-%d %H:%M}",
        "role": (role or "your own questions").replace("_", " "),
        "answered": summary.answered,
        "total": len(summary.questions),
        "skipped": summary.skipped,
        "follow_ups_asked": summary.follow_ups_asked,
        "follow_ups_answered": summary.follow_ups_answered,
        "averages": [{"name": n.title(), **score(summary.averages.get(n))} for n in SCORE_NAMES],
        "strongest": pick(summary.strongest),
        "weakest": pick(summary.weakest),
        "priorities": summary.priorities,
        "questions": questions,
        "score_names": [n.title() for n in SCORE_NAMES],
        "score_keys": list(SCORE_NAMES),
    }


def interview_html(summary: InterviewSummary, created_at: datetime, role: str | None) -> str:
    global _environment
    if _environment is None:
        _environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                                   trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    return _environment.get_template(TEMPLATE).render(**interview_context(summary, created_at, role))


def render_interview_pdf(summary: InterviewSummary, created_at: datetime, role: str | None,
                         settings: Settings | None = None) -> bytes:  # fmt: skip
    """The interview report as A4 PDF bytes (raises PdfError with a one-line reason)."""
    return get_renderer(settings or load_settings()).render(interview_html(summary, created_at, role))
