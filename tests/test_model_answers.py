"""Model answers and follow-up questions (issue 16), checked with the app's own content analysis (real MiniLM,
the text path of tests/test_content.py): every bank question has a written model answer that meets every key
point it claims to cover, a behavioural one is a full STAR story with a measured result, and every key point has
its own follow-up question. The generic follow-up templates use only the placeholders the interviewer fills in."""

from __future__ import annotations

import json
import re
import string
from functools import cache
from pathlib import Path

import pytest

from coach_core.analysis.pipeline import content_metrics
from coach_core.questions import bank, get
from coach_core.schema import Coverage, Star, Word

DATA = Path(__file__).resolve().parents[1] / "coach_core" / "data"
# (question id, key point index) pairs a model answer may leave unmet by the coverage matcher after honest
# rewording, each with the reason. Kept exact: a pair listed here must really be unmet.
UNMET_ALLOWED: dict[tuple[str, int], str] = {
    ("beh-pm-saying-no", 2): "said ('Digging in, the real need behind the request was that invoices over a certain "
    "amount needed a second sign-off'), but the key-point model gives it 0.24: four rewordings moved it between 0.24 "
    "and 0.41 and pushed other points under 0.5 (a known miss of the model, docs/scoring.md)",
}
FOLLOW_UP_KINDS = (
    "missed_key_point",
    "star_situation",
    "star_task",
    "star_action",
    "star_result",
    "no_numbers",
    "too_short",
)
PLACEHOLDERS = {kind: {"topic"} for kind in FOLLOW_UP_KINDS} | {"missed_key_point": {"key_point", "topic"}}
WORDS_SPOKEN = (120, 220)  # about a minute to a minute and a half said aloud
STAR_PARTS = ("situation", "task", "action", "result")
# A key point's own follow-up asks about the point without giving the answer away: it repeats less than
# this share of the point's content words (the closest in the file repeats two thirds: "What would you do after
# the decision, especially for the people whose requests didn't make it?", leaving out "communicate").
READS_OUT_SHARE = 0.75
_STOP_WORDS = frozenset(
    "a an and are as at be by did do does for from how in is it its of on or so such than that the their then "
    "there they this to was were what when which who why with would you your".split()
)


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 2 and w not in _STOP_WORDS}


@cache
def _answers() -> dict[str, dict]:
    doc = json.loads((DATA / "model_answers.json").read_text("utf-8"))
    assert doc["version"] == 1
    return doc["answers"]


@cache
def _follow_ups() -> dict:
    doc = json.loads((DATA / "follow_ups.json").read_text("utf-8"))
    assert doc["version"] == 1
    return doc


def words(text: str) -> list[Word]:
    return [Word(word=w, start=i * 0.35, end=i * 0.35 + 0.3, probability=0.95) for i, w in enumerate(text.split())]


@cache
def analysed(question_id: str) -> tuple[Coverage | None, Star | None]:
    """The model answer as the app reads a spoken answer: key-point coverage and, if behavioural, STAR."""
    question = get(question_id)
    assert question is not None
    return content_metrics(question, words(_answers()[question_id]["text"]))


BANK_IDS = [q.id for q in bank()]
BEHAVIOURAL_IDS = [q.id for q in bank() if q.is_behavioural]


def test_every_bank_question_has_a_model_answer_and_every_key_point_a_follow_up() -> None:
    answers, own = _answers(), _follow_ups()["key_points"]
    assert set(answers) == set(BANK_IDS), "model answers must match the bank exactly"
    assert set(own) == set(BANK_IDS), "key-point follow-ups must match the bank exactly"
    assert {qid for qid, _ in UNMET_ALLOWED} <= set(BANK_IDS) and len(UNMET_ALLOWED) <= 5
    for q in bank():
        entry, indexes = answers[q.id], range(len(q.key_points))
        assert set(entry) == {"text", "covers"}, q.id
        unmet = {i for qid, i in UNMET_ALLOWED if qid == q.id}
        assert entry["covers"] == [i for i in indexes if i not in unmet], q.id
        text = entry["text"]
        assert text == " ".join(text.split()), f"{q.id}: one paragraph, no line breaks"
        assert WORDS_SPOKEN[0] <= len(text.split()) <= WORDS_SPOKEN[1], (q.id, len(text.split()))
        assert not re.search(r"[*#_`\[\]]|^\s*[-•]|\n", text), f"{q.id}: plain spoken text, no markdown"
        assert len(re.findall(r"\b(I|I'[a-z]+|my|me)\b", text)) >= 2, f"{q.id}: said in the first person"
        assert set(own[q.id]) == {str(i) for i in indexes}, q.id
        for follow_up in own[q.id].values():
            assert follow_up == follow_up.strip() and follow_up.endswith("?"), (q.id, follow_up)
            assert "{" not in follow_up and "}" not in follow_up, (q.id, follow_up)
        for point, follow_up in zip(q.key_points, (own[q.id][str(i)] for i in indexes), strict=True):
            said = _content_words(point) & _content_words(follow_up)
            assert len(said) < READS_OUT_SHARE * len(_content_words(point)), f"{q.id}: reads the point out: {said}"


@pytest.mark.slow
@pytest.mark.parametrize("question_id", BANK_IDS)
def test_a_model_answer_meets_every_key_point_it_covers(question_id: str) -> None:
    question = get(question_id)
    assert question is not None
    found, _ = analysed(question_id)
    assert found is not None
    met = {m.key_point for m in found.matched}
    unmet = {i: m for i, k in enumerate(question.key_points) for m in found.missed if m.key_point == k.strip()}
    allowed = {i for qid, i in UNMET_ALLOWED if qid == question_id}
    report = {i: (round(m.similarity, 3), m.sentence[:80]) for i, m in unmet.items()}
    assert set(unmet) == allowed, f"unmet key points (strength, closest words) vs threshold {found.threshold}: {report}"
    assert all(question.key_points[i].strip() in met for i in _answers()[question_id]["covers"])


@pytest.mark.slow
@pytest.mark.parametrize("question_id", BEHAVIOURAL_IDS)
def test_a_behavioural_model_answer_is_a_star_story_with_a_measured_result(question_id: str) -> None:
    _, star = analysed(question_id)
    assert star is not None
    missing = {part: getattr(star, part).reason for part in STAR_PARTS if not getattr(star, part).present}
    assert star.complete and not missing, missing
    # no STAR flag: the result names a number, and the story says what "I" did rather than "we"
    assert star.flags == [], star.flags
    assert star.i_count > star.we_count, (star.i_count, star.we_count)


def test_follow_up_templates_use_only_known_placeholders() -> None:
    templates = _follow_ups()["templates"]
    assert set(templates) == set(FOLLOW_UP_KINDS)
    formatter = string.Formatter()
    for kind, phrasings in templates.items():
        assert 3 <= len(phrasings) <= 4, kind
        assert len(set(phrasings)) == len(phrasings), kind
        for phrasing in phrasings:
            assert phrasing == " ".join(phrasing.split()) and "?" in phrasing, (kind, phrasing)
            names = {name for _, name, spec, conv in formatter.parse(phrasing) if name is not None}
            assert names <= PLACEHOLDERS[kind], (kind, phrasing, names - PLACEHOLDERS[kind])
            fields = [(spec, conv) for _, name, spec, conv in formatter.parse(phrasing) if name is not None]
            assert all(spec == "" and conv is None for spec, conv in fields), phrasing
    assert all("{key_point}" in p for p in templates["missed_key_point"]), "a generic follow-up names the point"
