"""Which questions a mock interview asks: a mix of technical and behavioural ones for a role."""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import zip_longest

from coach_core.questions import ROLES, bank, filter_questions
from coach_core.schema import Question

MIN_QUESTIONS, MAX_QUESTIONS = 3, 8
FALLBACK_ROLE = "general"


def plan_interview(
    role: str,
    length: int,
    rng: random.Random | None = None,
    custom: Sequence[Question] | None = None,
) -> list[Question]:
    """The questions of one interview, in the order they are asked.

    Args:
        role: one of ``questions.ROLES``; its own questions come first, the ``general`` ones fill a
            kind the role has too few of (the bank's technical questions are per role, most
            behavioural ones are general).
        length: how many questions, ``MIN_QUESTIONS``..``MAX_QUESTIONS``.
        rng: the random source; a seeded one gives the same interview every time.
        custom: the person's own saved questions; when given, the interview asks only these.

    Returns:
        About half technical and half behavioural (technical gets the odd one), alternating, no
        question twice, and different topics before a topic repeats. A kind short of questions
        (``general`` has no technical ones) is made up with the other kind.

    Raises:
        ValueError: a length outside 3-8, an unknown role, or fewer (custom) questions than the length.
    """
    if isinstance(length, bool) or not isinstance(length, int) or not MIN_QUESTIONS <= length <= MAX_QUESTIONS:
        raise ValueError(f"An interview has {MIN_QUESTIONS} to {MAX_QUESTIONS} questions, got {length!r}.")
    rng = rng or random.Random()
    if custom is not None:
        pool = [q for q in custom if q.text.strip()]
        if len(pool) < length:
            raise ValueError(
                f"An interview of {length} questions needs at least {length} of your own questions; {len(pool)} saved."
            )
        technical = _draw([q for q in pool if not q.is_behavioural], rng)
        behavioural = _draw([q for q in pool if q.is_behavioural], rng)
    else:
        if role not in ROLES:
            raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
        technical = _for_role(role, "technical", rng)
        behavioural = _for_role(role, "behavioural", rng)
    want_technical = min(len(technical), length - length // 2)
    want_behavioural = min(len(behavioural), length - want_technical)
    want_technical = min(len(technical), length - want_behavioural)  # behavioural short: more technical
    if want_technical + want_behavioural < length:
        raise ValueError(f"Not enough questions for an interview of {length} for the role {role!r}.")
    first, second = technical[:want_technical], behavioural[:want_behavioural]
    if len(second) > len(first):
        first, second = second, first
    return [q for pair in zip_longest(first, second) for q in pair if q is not None]


def _for_role(role: str, kind: str, rng: random.Random) -> list[Question]:
    """The role's own questions of a kind (drawn in random order), then the general ones."""
    own = _draw(filter_questions(bank(), role=role, kind=kind), rng)
    if role == FALLBACK_ROLE:
        return own
    return own + _draw(filter_questions(bank(), role=FALLBACK_ROLE, kind=kind), rng)


def _draw(pool: list[Question], rng: random.Random) -> list[Question]:
    """The pool shuffled, one question per topic first, then the topics' second questions, and so on."""
    shuffled = list(pool)
    rng.shuffle(shuffled)
    seen: dict[str, int] = {}
    ranked: list[tuple[int, int, Question]] = []
    for i, q in enumerate(shuffled):
        topic = (q.topic or q.id or q.text).lower()
        seen[topic] = seen.get(topic, 0) + 1
        ranked.append((seen[topic], i, q))
    return [q for _, _, q in sorted(ranked, key=lambda r: (r[0], r[1]))]
