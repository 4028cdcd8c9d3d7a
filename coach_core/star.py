"""STAR structure (Situation, Task, Action, Result) in a behavioural answer.

Each sentence is compared with short descriptions of every part (MiniLM) and checked for the
phrases people use to open that part ("my job was to", "as a result"). A part is present when
a sentence fits it clearly; the reason says which sentence and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .coverage import embed
from .schema import Star, StarPart
from .text_metrics import Sentence, strip_fillers

PARTS = ("situation", "task", "action", "result")

# Prototype sentences per part: what such a sentence typically says.
PROTOTYPES: dict[str, list[str]] = {
    "situation": [
        "At my previous company our team was working on a product with a serious problem.",
        "A few years ago I was working as an engineer and we faced a difficult situation.",
        "The context was that the project was behind schedule and the customer was unhappy.",
    ],
    "task": [
        "My responsibility was to fix the problem and I was asked to lead the work.",
        "I needed to find a way to deliver the project on time.",
        "The goal was to reduce the errors and my task was to make it happen.",
    ],
    "action": [
        "I decided to set up a meeting and talked to each person involved.",
        "First I analysed the data, then I wrote a plan and implemented the changes myself.",
        "I built a prototype, organised the team and proposed a new process.",
        "I investigated the root cause, rewrote the code and added monitoring.",
        "I wrote a script to automate the checks and set up alerts for failures.",
    ],
    "result": [
        "As a result we reduced the failures by forty percent and shipped on time.",
        "In the end the project was a success and the customer renewed the contract.",
        "The outcome was positive and I learned to communicate earlier.",
    ],
}

# Phrases that open or mark each part (word-boundary, case-insensitive).
CUES: dict[str, list[str]] = {
    "situation": [
        r"\bat my (previous|last|old|current) (job|company|role|team)",
        r"\bwhen i was (working|at|in|a)\b", r"\b(a few|two|three|several) (years|months) ago\b",
        r"\blast (year|month|quarter)\b", r"\bin my (previous|last|first) (job|role|position)\b",
        r"\bthe (situation|context|background) was\b", r"\bwe were (working|building|facing)\b",
        r"\bi was working (at|on|as)\b", r"\bthere was a\b",
    ],
    "task": [
        r"\bmy (task|job|role|responsibility|goal) was\b", r"\bi (was|got) (asked|tasked|assigned)\b",
        r"\bi (needed|had) to\b", r"\bwe (needed|had) to\b", r"\bthe (goal|objective|challenge) was\b",
        r"\bi was responsible for\b", r"\bit was (up to me|my job)\b",
    ],
    "action": [
        r"\bi (decided|started|built|created|wrote|organi[sz]ed|set up|talked|spoke|proposed|"
        r"reached out|implemented|designed|led|scheduled|analy[sz]ed|introduced|asked|met|"
        r"worked with|suggested|took|made|changed|added|fixed|rewrote|moved|put)\b",
        r"\b(first|then|next|after that|so) i\b",
    ],
    "result": [
        r"\bas a result\b", r"\bin the end\b", r"\bended up\b", r"\bthe (result|outcome) was\b",
        r"\b(reduced|increased|improved|cut|saved|grew|doubled|halved|raised|lowered)\b",
        r"\b\d+(\.\d+)?\s*(%|percent|per cent)", r"\bwe (shipped|launched|delivered|met|hit)\b",
        r"\bi (learned|learnt|realised|realized)\b", r"\bsince then\b", r"\bthe (feedback|impact)\b",
    ],
}  # fmt: skip

PRESENT_AT = 0.42  # combined strength (cosine + cue bonus) needed for a part to count as present
CUE_BONUS = 0.2  # an explicit STAR phrase is strong evidence


def _cue_hits(part: str, text: str) -> list[str]:
    hits = []
    for pattern in CUES[part]:
        m = re.search(pattern, text, flags=re.IGNORECASE)
        if m:
            hits.append(m.group(0))
    return hits


def prototype_vectors() -> dict[str, np.ndarray]:
    """Embeddings of the reference sentences for each STAR part (computed once per process)."""
    global _PROTO_CACHE
    if _PROTO_CACHE is None:
        _PROTO_CACHE = {part: embed(PROTOTYPES[part]) for part in PARTS}
    return _PROTO_CACHE


_PROTO_CACHE: dict[str, np.ndarray] | None = None


def analyse_star(sentences: Sequence[Sentence]) -> Star:
    """Find Situation, Task, Action and Result in the answer's sentences."""
    texts = [strip_fillers(s.text) for s in sentences]
    keep = [i for i, t in enumerate(texts) if len(t.split()) >= 3]
    protos = prototype_vectors()
    strengths = np.zeros((len(keep), len(PARTS)), dtype=np.float32)
    cue_hits: dict[tuple[int, int], list[str]] = {}
    if keep:
        vectors = embed([texts[i] for i in keep])
        for p, part in enumerate(PARTS):
            sims = (vectors @ protos[part].T).max(axis=1)
            for row, i in enumerate(keep):
                hits = _cue_hits(part, sentences[i].text)
                cue_hits[(row, p)] = hits
                strengths[row, p] = sims[row] + (CUE_BONUS if hits else 0.0)
    # Each sentence speaks for the part it fits best.
    owner = strengths.argmax(axis=1) if keep else np.zeros(0, dtype=int)
    parts: dict[str, StarPart] = {}
    for p, part in enumerate(PARTS):
        rows = [r for r in range(len(keep)) if owner[r] == p and strengths[r, p] >= PRESENT_AT]
        if not rows:
            best = float(strengths[:, p].max()) if keep else 0.0
            parts[part] = StarPart(present=False, strength=best, reason=f"no sentence reads as the {part}")
            continue
        row = max(rows, key=lambda r: strengths[r, p])
        sentence = sentences[keep[row]]
        hits = cue_hits.get((row, p), [])
        why = f"cue '{hits[0]}'" if hits else "reads like a " + part
        parts[part] = StarPart(
            present=True,
            sentence=sentence.text,
            start=sentence.start,
            strength=float(strengths[row, p]),
            reason=f"{why} (match {strengths[row, p]:.2f})",
        )
    full = " ".join(s.text for s in sentences).lower()
    i_count = len(re.findall(r"\b(i|i'm|i've|i'd|me|my)\b", full))
    we_count = len(re.findall(r"\b(we|we're|we've|we'd|us|our)\b", full))
    missing = [part for part in PARTS if not parts[part].present]
    flags: list[str] = []
    if not parts["result"].present:
        flags.append("No result: the story does not say how it ended; add the outcome, ideally a number.")
    if parts["result"].present and not re.search(r"\d|percent", parts["result"].sentence, re.IGNORECASE):
        flags.append("The result has no number; a measurable outcome is more convincing.")
    if we_count > i_count and we_count >= 4:
        flags.append(f"'We' ({we_count}) outnumbers 'I' ({i_count}): say what you did yourself.")
    return Star(
        situation=parts["situation"],
        task=parts["task"],
        action=parts["action"],
        result=parts["result"],
        complete=not missing,
        missing=missing,
        flags=flags,
        i_count=i_count,
        we_count=we_count,
    )
