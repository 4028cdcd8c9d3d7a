"""Written model answers for the bank's questions (data/model_answers.json): what a strong answer says."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from coach_core.schema import Question


@dataclass(frozen=True)
class ModelAnswer:
    text: str
    covers: tuple[int, ...]  # indexes of the question's key points the model answer covers


@lru_cache(maxsize=1)
def _answers() -> dict[str, ModelAnswer]:
    raw = json.loads(resources.files("coach_core").joinpath("data/model_answers.json").read_text("utf-8"))
    return {qid: ModelAnswer(a["text"], tuple(a.get("covers", []))) for qid, a in raw["answers"].items()}


def model_answer(question: Question) -> ModelAnswer | None:
    """The model answer of a bank question (None for a person's own question)."""
    return _answers().get(question.id or "")


def side_by_side(question: Question, matched: set[str], model: ModelAnswer) -> list[tuple[str, bool, bool]]:
    """(key point, said in the answer, said in the model answer) for each of the question's key points."""
    return [(p, p in matched, i in model.covers) for i, p in enumerate(question.key_points)]
