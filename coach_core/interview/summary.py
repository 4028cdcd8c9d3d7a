"""One report for a whole mock interview: each question's scores, averages, the strongest and the
weakest answer, and three priorities for next time drawn from what went wrong most often."""

from __future__ import annotations

from dataclasses import dataclass, field

from coach_core.analysis.scoring import FILLERS_GOOD, PACE_GOOD
from coach_core.interview.followups import TOO_SHORT_SHARE, FollowUp, has_number, is_about_scale
from coach_core.schema import Plain, Question, Report

SCORE_NAMES = ("overall", "content", "confidence", "clarity", "resilience", "engagement")
DIMENSIONS = SCORE_NAMES[1:]
PRIORITIES = 3
SINGULAR = {"answers": "answer", "stories": "story"}
GOOD_SCORE = 75.0  # the "good" band of a 0-100 score, as the dashboard and the PDF colour it
# What to practise when a score is the lowest of the interview (the norms are in docs/scoring.md).
DIMENSION_ADVICE = {
    "content": "open with a one-line answer, then walk through the points the question needs and back each with "
    "an example",
    "confidence": "drop the hedges ('I think', 'maybe'), end sentences firmly rather than trailing off, and let a "
    "silent pause replace a filler",
    "clarity": f"keep to {PACE_GOOD[0]:.0f}-{PACE_GOOD[1]:.0f} words a minute, under {FILLERS_GOOD:.0f} fillers per "
    "100 words, and pause between ideas rather than in the middle of a sentence",
    "resilience": "when a question throws you, pause, breathe out and restart the sentence: how fast you settle "
    "again is what this score measures",
    "engagement": "vary your pitch on the words that matter and look into the camera when you make your main point",
}


@dataclass
class InterviewItem(Plain):
    """One question of an interview as it happened; a skipped question has no report."""

    question: Question
    report: Report | None = None
    follow_up: FollowUp | None = None
    follow_up_report: Report | None = None


@dataclass
class QuestionResult(Plain):
    number: int  # 1-based position in the interview
    question: str
    question_id: str | None
    kind: str
    answered: bool
    session_id: str | None = None
    duration_s: float | None = None
    scores: dict[str, float | None] = field(default_factory=dict)  # SCORE_NAMES; empty when skipped
    key_points_total: int = 0
    key_points_missed: list[str] = field(default_factory=list)
    follow_up: FollowUp | None = None
    follow_up_session_id: str | None = None
    follow_up_scores: dict[str, float | None] = field(default_factory=dict)


@dataclass
class InterviewSummary(Plain):
    questions: list[QuestionResult]
    answered: int
    skipped: int
    follow_ups_asked: int
    follow_ups_answered: int
    averages: dict[str, float | None]  # over answered questions; None when no answer had that score
    strongest: int | None  # index into ``questions`` (highest overall), None when nothing was answered
    weakest: int | None  # index into ``questions`` (lowest overall); the same as strongest with one answer
    priorities: list[str]  # exactly PRIORITIES sentences, most pressing first


@dataclass
class _Candidate:
    severity: float  # 0-1: how much of the interview the problem touched
    text: str


def summarise(items: list[InterviewItem]) -> InterviewSummary:
    """The interview report's summary.

    Args:
        items: the questions in the order asked, each with its answer's report (None if skipped), the
            follow-up asked (None if none) and the follow-up answer's report (None if not answered).

    Returns:
        Per-question scores, averages over the answered questions (follow-up answers are listed with
        their question but not averaged), the strongest and weakest answer by overall score (the first
        one on a tie) and exactly three priorities: the lowest average score with what to practise, then
        the problems that recurred most (missed key points, stories without a result, answers far under
        their time, no numbers, skipped questions), then the next-lowest scores.
    """
    results = [_result(i, item) for i, item in enumerate(items)]
    answered = [(i, item.report) for i, item in enumerate(items) if item.report is not None]
    averages: dict[str, float | None] = {}
    for name in SCORE_NAMES:
        values = [v for _, r in answered if (v := _score(r, name)) is not None]
        averages[name] = round(sum(values) / len(values), 1) if values else None
    strongest = weakest = None
    if answered:
        strongest = max(answered, key=lambda a: (a[1].scores.overall, -a[0]))[0]
        weakest = min(answered, key=lambda a: (a[1].scores.overall, a[0]))[0]
    return InterviewSummary(
        questions=results,
        answered=len(answered),
        skipped=len(items) - len(answered),
        follow_ups_asked=sum(item.follow_up is not None for item in items),
        follow_ups_answered=sum(item.follow_up_report is not None for item in items),
        averages=averages,
        strongest=strongest,
        weakest=weakest,
        priorities=priorities(items, averages),
    )


def priorities(items: list[InterviewItem], averages: dict[str, float | None]) -> list[str]:
    """Exactly three plain sentences on what to work on next, most pressing first."""
    answered = [(i, item.report) for i, item in enumerate(items) if item.report is not None]
    if not answered:
        return [
            f"Answer the questions: none of the {len(items)} was answered, so there is nothing to measure yet.",
            "Start with a short interview of 3 questions and answer each one, even briefly.",
            "Find a quiet place and check the microphone before you start, so every answer can be analysed.",
        ]
    dimensions = sorted(
        ((name, avg) for name in DIMENSIONS if (avg := averages.get(name)) is not None), key=lambda d: d[1]
    )
    texts = [_dimension_sentence(name, avg, len(answered), lowest=True) for name, avg in dimensions[:1]]
    texts += [c.text for c in sorted(_recurring(items), key=lambda c: -c.severity)]
    # Other scores only while they are below the "good" band: a strong score is not a priority.
    texts += [_dimension_sentence(n, avg, len(answered), lowest=False) for n, avg in dimensions[1:] if avg < GOOD_SCORE]
    best, report = max(answered, key=lambda a: (a[1].scores.overall, -a[0]))
    texts += [
        f"Keep what worked in your strongest answer (question {best + 1}, {report.scores.overall:.0f}/100) and "
        "give every answer the same shape.",
        "Try a longer interview next time: more questions show which habits hold up as you tire.",
        "Replay an answer next to its model answer and compare them point by point.",
    ]
    return texts[:PRIORITIES]


def _recurring(items: list[InterviewItem]) -> list[_Candidate]:
    """The problems found in more than one place, each with the share of answers it touched."""
    answered = [(item.question, item.report) for item in items if item.report is not None]
    found: list[_Candidate] = []
    skipped = len(items) - len(answered)
    if skipped:
        text = (
            f"You skipped {skipped} of {len(items)} questions: answer every one next time, even briefly; "
            "a rough answer can be coached, a skipped one cannot."
        )
        found.append(_Candidate(skipped / len(items), text))
    total = missed = with_gaps = 0
    example = ""
    for _, report in answered:
        coverage = report.metrics.coverage
        if coverage is None:
            continue
        total += len(coverage.matched) + len(coverage.missed)
        missed += len(coverage.missed)
        if coverage.missed:
            with_gaps += 1
            example = example or coverage.missed[0].key_point.strip().rstrip(".")
    if missed:
        text = (
            f"You left out key points in {_share(with_gaps, len(answered), 'answers')} ({missed} of {total} "
            f'points in all), for example "{_short(example)}". Before you answer, name to yourself the three or four '
            "things the question needs, then say each one in a sentence of its own."
        )
        found.append(_Candidate(missed / total, text))
    stories = [report for question, report in answered if question.is_behavioural]
    no_result = [r for r in stories if r.metrics.star is not None and not r.metrics.star.result.present]
    if no_result:
        text = (
            f"{_cap(_share(len(no_result), len(stories), 'stories'))} had no clear result: end each story with "
            "what changed because of you, ideally with a number."
        )
        found.append(_Candidate(len(no_result) / len(stories), text))
    short = [r for q, r in answered if q.time_budget_s and r.duration_s < TOO_SHORT_SHARE * q.time_budget_s]
    if short:
        text = (
            f"{_cap(_share(len(short), len(answered), 'answers'))} ran far shorter than the question needs: give "
            "the reasoning and an example, not only the headline."
        )
        found.append(_Candidate(len(short) / len(answered), text))
    numeric = [report for question, report in answered if question.is_behavioural or is_about_scale(question)]
    no_numbers = [report for report in numeric if not has_number(report.transcript)]
    if no_numbers:
        text = (
            f"{_cap(_share(len(no_numbers), len(numeric), 'answers'))} that called for numbers had none: say how "
            'much, how many or how fast ("cut the load time from 4 to 1.5 seconds").'
        )
        found.append(_Candidate(len(no_numbers) / len(numeric), text))
    return found


def _dimension_sentence(name: str, avg: float, answers: int, *, lowest: bool) -> str:
    if lowest:
        which = "your lowest score" if avg < GOOD_SCORE else "your lowest score, though already good"
    else:
        which = "also below the good band"
    over = f"over {answers} answers" if answers != 1 else "in your one answer"
    return f"{name.capitalize()} was {which} (average {avg:.0f}/100 {over}): {DIMENSION_ADVICE[name]}."


def _share(part: int, whole: int, noun: str) -> str:
    """ "1 of your 3 answers", "both of your answers", "your only answer" (``noun`` in the plural)."""
    if whole == 1:
        return f"your only {SINGULAR[noun]}"
    if part == whole:
        return f"both of your {noun}" if whole == 2 else f"all {whole} of your {noun}"
    return f"{part} of your {whole} {noun}"


def _result(index: int, item: InterviewItem) -> QuestionResult:
    report, question = item.report, item.question
    result = QuestionResult(
        number=index + 1,
        question=question.text,
        question_id=question.id,
        kind=question.kind,
        answered=report is not None,
        follow_up=item.follow_up,
    )
    if report is not None:
        result.session_id = report.session_id
        result.duration_s = report.duration_s
        result.scores = {name: _score(report, name) for name in SCORE_NAMES}
        coverage = report.metrics.coverage
        if coverage is not None:
            result.key_points_total = len(coverage.matched) + len(coverage.missed)
            result.key_points_missed = [m.key_point for m in coverage.missed]
    if item.follow_up_report is not None:
        result.follow_up_session_id = item.follow_up_report.session_id
        result.follow_up_scores = {name: _score(item.follow_up_report, name) for name in SCORE_NAMES}
    return result


def _score(report: Report, name: str) -> float | None:
    value = getattr(report.scores, name)
    return None if value is None else float(value)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
