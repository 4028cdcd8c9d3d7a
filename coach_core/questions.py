"""The curated question bank (a data file) plus questions users add themselves."""

from __future__ import annotations

import json
import random
from functools import lru_cache
from importlib import resources

from coach_core.schema import Question

ROLES = ("software_engineer", "data_ml", "product_manager", "general")
# Limits on a user's own question, so one person cannot fill a shared server (or the key-point matcher).
MAX_QUESTION_CHARS = 1000
MAX_KEY_POINTS = 20
MAX_KEY_POINT_CHARS = 300
MIN_BUDGET_S, MAX_BUDGET_S = 15.0, 600.0  # how long an answer should take, for the timer and the pacing cues
KINDS = ("technical", "behavioural")


@lru_cache(maxsize=1)
def bank() -> tuple[Question, ...]:
    raw = json.loads(resources.files("coach_core").joinpath("data/questions.json").read_text("utf-8"))
    return tuple(Question.from_dict(q) for q in raw["questions"])


def get(question_id: str) -> Question | None:
    return next((q for q in bank() if q.id == question_id), None)


def filter_questions(
    questions: list[Question] | tuple[Question, ...],
    role: str | None = None,
    kind: str | None = None,
) -> list[Question]:
    return [q for q in questions if (not role or q.role == role) and (not kind or q.kind == kind)]


def draw(questions: list[Question], rng: random.Random | None = None) -> Question | None:
    return (rng or random).choice(questions) if questions else None


def normalise_kind(kind: str) -> str:
    k = kind.strip().lower()
    if k in {"behavioral", "behavioural"}:
        return "behavioural"
    if k == "technical":
        return "technical"
    raise ValueError(f"kind must be 'technical' or 'behavioural', got {kind!r}")


def custom_question(
    text: str, key_points: list[str], kind: str = "technical", role: str = "general", time_budget_s: float = 120.0
) -> Question:
    """A user's own question; key points may be empty (content is then not scored)."""
    text = text.strip()
    if not text:
        raise ValueError("The question text is empty.")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"The question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}.")
    points = [k.strip() for k in key_points if k.strip()]
    if len(points) > MAX_KEY_POINTS:
        raise ValueError(f"{len(points)} key points given; at most {MAX_KEY_POINTS} (merge the smaller ones).")
    long = next((p for p in points if len(p) > MAX_KEY_POINT_CHARS), None)
    if long is not None:
        raise ValueError(f"A key point is {len(long)} characters long (\"{long[:40]}…\"); keep each under "
                         f"{MAX_KEY_POINT_CHARS}.")  # fmt: skip
    return Question(
        text=text,
        key_points=points,
        kind=normalise_kind(kind),
        role=role,
        id=None,
        time_budget_s=min(max(float(time_budget_s), MIN_BUDGET_S), MAX_BUDGET_S),
    )
