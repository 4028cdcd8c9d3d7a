"""Speech metrics from timed words: pace, fillers, hedges, pauses, repetitions.

Fillers and hedges are found on normalised tokens with context rules, so "I would like to" is
not a filler while "it was, like, hard" is. Norms and sources: docs/scoring.md.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from coach_core.schema import (
    FillerEvent,
    HedgeEvent,
    Pause,
    PauseStats,
    Repeat,
    SpeechMetrics,
    Word,
)

PAUSE_MIN_S = 0.3  # shorter gaps are articulation, not pauses (Goldman-Eisler 1968: 250 ms)
LONG_PAUSE_S = 1.0  # long pause threshold used by the product (docs/scoring.md)

# Single-token fillers, with their spelling variants mapped to one name.
_FILLER_VARIANTS = {
    "um": "um", "umm": "um", "ummm": "um", "uhm": "um", "hm": "hmm", "hmm": "hmm", "mm": "hmm",
    "mmm": "hmm", "uh": "uh", "uhh": "uh", "uhhh": "uh", "er": "er", "err": "er", "erm": "er",
    "ah": "ah", "ahh": "ah", "eh": "er",
}  # fmt: skip
_ADVERB_FILLERS = {"basically", "actually", "literally"}
_DETERMINERS = {
    "a", "an", "the", "this", "that", "these", "those", "what", "which", "some", "any", "every",
    "one", "each", "no", "same", "different", "another", "my", "our", "your", "their", "its",
}  # fmt: skip
# "like" after these is a verb or preposition ("would like", "looks like"), not a filler.
_LIKE_NOT_FILLER_BEFORE = {
    "would", "i'd", "we'd", "you'd", "they'd", "he'd", "she'd", "i", "you", "we", "they",
    "to", "don't", "didn't", "doesn't", "do", "does", "did", "really", "also", "feel", "feels",
    "felt", "look", "looks", "looked", "seem", "seems", "seemed", "sound", "sounds", "sounded",
    "something", "anything", "nothing", "things", "thing", "more", "exactly", "much", "not",
    "people", "who", "he", "she", "it", "just", "be", "is", "are", "was", "were",
}  # fmt: skip
_LIKE_FILLER_BEFORE = {"and", "so", "but", "or", "um", "uh", "er", "ah", "then", "yeah"}
_KNOW_OBJECTS = {
    "that", "what", "how", "why", "where", "who", "when", "which", "whether", "if", "the", "a",
    "an", "him", "her", "it", "them", "about", "this", "these", "those", "my", "your", "our",
    "their", "his", "to", "each", "everything", "anything", "something", "nothing", "more",
}  # fmt: skip
_SO_NOT_FILLER_AFTER = {"far", "much", "many", "that", "long", "few", "little"}
_HEDGES = {
    ("i", "think"): "I think", ("i", "guess"): "I guess", ("maybe",): "maybe",
    ("probably",): "probably", ("perhaps",): "perhaps", ("i", "suppose"): "I suppose",
    ("i'm", "not", "sure"): "I'm not sure", ("i", "believe"): "I believe",
    ("possibly",): "possibly", ("somewhat",): "somewhat", ("i", "feel", "like"): "I feel like",
    ("might",): "might",
}  # fmt: skip
_STOPWORDS = {
    "the", "a", "an", "and", "or", "but", "so", "to", "of", "in", "on", "at", "for", "with", "is",
    "was", "were", "are", "be", "been", "it", "that", "this", "i", "we", "you", "they", "he",
    "she", "my", "our", "me", "us", "it's", "i'm", "we're", "as", "by", "from", "then", "there",
    "have", "had", "has", "do", "did", "not", "if", "would", "will", "can", "could", "which",
    "what", "when", "about", "just", "all", "up", "out", "into", "also", "them", "their", "its",
}  # fmt: skip
_TOKEN_STRIP = re.compile(r"^[^\w']+|[^\w']+$")


@dataclass(frozen=True)
class Token:
    """A word normalised for matching, with the punctuation that followed it."""

    text: str
    start: float
    end: float
    comma_after: bool
    sentence_end: bool
    sentence_start: bool
    cut_off: bool = False  # written with a trailing hyphen ("wh-", "th-"): a word broken off, then restarted


def tokenize(words: Sequence[Word]) -> list[Token]:
    tokens: list[Token] = []
    prev_end_sentence = True
    for w in words:
        raw = w.word.strip()
        text = _TOKEN_STRIP.sub("", raw.lower()).replace("\u2019", "'")
        if not text:
            prev_end_sentence = prev_end_sentence or raw.endswith((".", "?", "!"))
            continue
        tail = raw[len(raw.rstrip(".,!?;:\"')")) :]
        tokens.append(
            Token(
                text=text,
                start=w.start,
                end=w.end,
                comma_after=any(c in tail for c in ",;:") or raw.endswith("-"),
                sentence_end=any(c in tail for c in ".?!"),
                sentence_start=prev_end_sentence,
                cut_off=raw.endswith("-"),
            )
        )
        prev_end_sentence = tokens[-1].sentence_end
    return tokens


def _prev(tokens: Sequence[Token], i: int) -> Token | None:
    return tokens[i - 1] if i > 0 else None


def _next(tokens: Sequence[Token], i: int) -> Token | None:
    return tokens[i + 1] if i + 1 < len(tokens) else None


def _is_like_filler(tokens: Sequence[Token], i: int) -> bool:
    prev, nxt = _prev(tokens, i), _next(tokens, i)
    if tokens[i].sentence_start or (prev is not None and prev.comma_after):
        return nxt is None or nxt.text not in {"to", "that", "this"} or tokens[i].comma_after
    if tokens[i].comma_after and (prev is None or prev.text not in {"would", "i'd", "we'd"}):
        return True
    if prev is not None and prev.text in _LIKE_NOT_FILLER_BEFORE:
        return False
    return prev is not None and prev.text in _LIKE_FILLER_BEFORE


def _is_you_know_filler(tokens: Sequence[Token], i: int) -> bool:
    prev, know, after = _prev(tokens, i), tokens[i + 1], _next(tokens, i + 1)
    if prev is not None and prev.text in {
        "do",
        "did",
        "don't",
        "didn't",
        "if",
        "would",
        "let",
    }:
        return False
    if prev is not None and prev.text in {
        "as",
        "to",
        "will",
        "might",
        "should",
        "could",
    }:
        return False
    if know.comma_after or know.sentence_end or after is None:
        return True
    return after.text not in _KNOW_OBJECTS


def _is_i_mean_filler(tokens: Sequence[Token], i: int) -> bool:
    prev, after = _prev(tokens, i), _next(tokens, i + 1)
    if prev is not None and prev.text in {"what", "if", "do", "did", "don't", "didn't"}:
        return False
    return not (after is not None and after.text in {"it", "that", "to"} and not tokens[i + 1].comma_after)


def _is_sort_kind_of_filler(tokens: Sequence[Token], i: int) -> bool:
    prev = _prev(tokens, i)
    return not (prev is not None and prev.text in _DETERMINERS)


def _is_so_filler(tokens: Sequence[Token], i: int) -> bool:
    """Discourse "so": opening the answer, "So, ...", or next to another filler ("um, so").

    A sentence-initial "So we..." is left alone: mid-answer it is usually a real connective,
    and sentence starts come from the recogniser's guessed punctuation.
    """
    nxt = _next(tokens, i)
    if nxt is not None and nxt.text in _SO_NOT_FILLER_AFTER:
        return False
    j = i
    while j > 0 and tokens[j - 1].text in _FILLER_VARIANTS:
        j -= 1
    if j == 0:
        return True
    near_filler = j < i or (nxt is not None and nxt.text in _FILLER_VARIANTS)
    return tokens[j].sentence_start and (tokens[i].comma_after or near_filler)


def find_fillers(tokens: Sequence[Token]) -> list[tuple[str, int, int]]:
    """Return (filler name, first token index, last token index) for each filler."""
    found: list[tuple[str, int, int]] = []
    i = 0
    while i < len(tokens):
        t = tokens[i].text
        nxt = _next(tokens, i)
        pair = f"{t} {nxt.text}" if nxt else ""
        if tokens[i].cut_off:
            pass  # a word broken off ("er-" of "error", "uh-" of "under") is a false start, not a filler
        elif t in _FILLER_VARIANTS:
            found.append((_FILLER_VARIANTS[t], i, i))
        elif t in _ADVERB_FILLERS:
            found.append((t, i, i))
        elif t == "like" and _is_like_filler(tokens, i):
            found.append(("like", i, i))
        elif pair == "you know" and _is_you_know_filler(tokens, i):
            found.append(("you know", i, i + 1))
            i += 1
        elif pair == "i mean" and _is_i_mean_filler(tokens, i):
            found.append(("I mean", i, i + 1))
            i += 1
        elif pair in {"sort of", "kind of"} and _is_sort_kind_of_filler(tokens, i):
            found.append((pair, i, i + 1))
            i += 1
        elif t == "so" and _is_so_filler(tokens, i):
            found.append(("so (sentence start)", i, i))
        elif t == "well" and tokens[i].sentence_start and tokens[i].comma_after:
            found.append(("well (sentence start)", i, i))
        i += 1
    return found


def find_hedges(tokens: Sequence[Token]) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    texts = [t.text for t in tokens]
    i = 0
    while i < len(texts):
        for pattern, name in sorted(_HEDGES.items(), key=lambda kv: -len(kv[0])):
            if tuple(texts[i : i + len(pattern)]) == pattern:
                found.append((name, i, i + len(pattern) - 1))
                i += len(pattern) - 1
                break
        i += 1
    return found


def find_pauses(tokens: Sequence[Token]) -> list[Pause]:
    pauses: list[Pause] = []
    for prev, cur in itertools.pairwise(tokens):
        gap = cur.start - prev.end
        if gap >= PAUSE_MIN_S:
            pauses.append(
                Pause(
                    start=prev.end,
                    end=cur.start,
                    duration_s=gap,
                    after_word=prev.text,
                    mid_sentence=not (prev.sentence_end or prev.comma_after),
                )
            )
    return pauses


def find_repeats(tokens: Sequence[Token], filler_indices: set[int]) -> list[Repeat]:
    """Stutters ("I I", "we we went") and content words overused across the answer."""
    content = [t.text for i, t in enumerate(tokens) if i not in filler_indices]
    stutters: Counter[str] = Counter()
    for n in (3, 2, 1):
        i = 0
        while i + 2 * n <= len(content):
            if content[i : i + n] == content[i + n : i + 2 * n] and not content[i].isdigit():
                stutters[" ".join(content[i : i + n])] += 1
                i += 2 * n
            else:
                i += 1
    repeats = [Repeat(phrase=p, count=c, kind="stutter") for p, c in stutters.most_common()]
    counts = Counter(w for w in content if w not in _STOPWORDS and len(w) > 2)
    # A word is "overused" when it appears far more than a varied answer would need.
    limit = max(4, len(content) // 25)
    repeats += [Repeat(phrase=w, count=c, kind="overused") for w, c in counts.most_common(5) if c > limit]
    return repeats


def speech_metrics(words: Sequence[Word], duration_s: float) -> SpeechMetrics:
    """Compute pace, fillers, hedges, pauses and repetitions for a timed transcript."""
    tokens = tokenize(words)
    n = len(tokens)
    fillers = find_fillers(tokens)
    hedges = find_hedges(tokens)
    pauses = find_pauses(tokens)
    long_pauses = [p for p in pauses if p.duration_s > LONG_PAUSE_S]
    minutes = max(duration_s, 1e-6) / 60.0
    if tokens:
        span = tokens[-1].end - tokens[0].start
        speaking_time = max(span - sum(p.duration_s for p in pauses), 1e-6)
    else:
        speaking_time = 0.0
    filler_indices = {k for _, a, b in fillers for k in range(a, b + 1)}
    filler_counts = Counter(name for name, _, _ in fillers)
    hedge_counts = Counter(name for name, _, _ in hedges)
    per100 = 100.0 / n if n else 0.0
    return SpeechMetrics(
        wpm=n / minutes,
        speaking_wpm=n / (speaking_time / 60.0) if speaking_time > 0 else 0.0,
        word_count=n,
        speaking_time_s=speaking_time,
        filler_count=len(fillers),
        fillers=dict(filler_counts.most_common()),
        filler_rate_per_100_words=len(fillers) * per100,
        filler_rate_per_min=len(fillers) / minutes,
        pauses=PauseStats(
            count=len(pauses),
            long_count=len(long_pauses),
            longest_s=max((p.duration_s for p in pauses), default=0.0),
            total_s=sum(p.duration_s for p in pauses),
            threshold_s=PAUSE_MIN_S,
            long_threshold_s=LONG_PAUSE_S,
            long=long_pauses,
            mid_sentence_long_count=sum(p.mid_sentence for p in long_pauses),
            per_minute=len(pauses) / minutes,
        ),
        hedges=dict(hedge_counts.most_common()),
        hedge_count=len(hedges),
        hedge_rate_per_100_words=len(hedges) * per100,
        filler_events=[
            FillerEvent(filler=name, start=tokens[a].start, end=tokens[b].end, word_index=a) for name, a, b in fillers
        ],
        hedge_events=[
            HedgeEvent(hedge=name, start=tokens[a].start, end=tokens[b].end, word_index=a) for name, a, b in hedges
        ],
        repeats=find_repeats(tokens, filler_indices),
        start_latency_s=tokens[0].start if tokens else 0.0,
    )


def strip_fillers(text: str) -> str:
    """Text with filler tokens removed, for embedding (fillers dilute sentence meaning)."""
    words = [Word(word=w, start=0.0, end=0.0, probability=1.0) for w in text.split()]
    tokens = tokenize(words)
    drop = {k for _, a, b in find_fillers(tokens) for k in range(a, b + 1)}
    kept = [t.text for i, t in enumerate(tokens) if i not in drop]
    return " ".join(kept)


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float
    end: float


MAX_SENTENCE_WORDS = 30  # longer runs (speech often lacks full stops) are cut for matching


def split_sentences(words: Sequence[Word]) -> list[Sentence]:
    """Group timed words into sentences at . ? ! , at long pauses, or every 30 words."""
    sentences: list[Sentence] = []
    current: list[Word] = []

    def flush() -> None:
        if current:
            text = " ".join(w.word.strip() for w in current).strip()
            sentences.append(Sentence(text=text, start=current[0].start, end=current[-1].end))
            current.clear()

    for i, w in enumerate(words):
        if current and w.start - current[-1].end > LONG_PAUSE_S:
            flush()
        current.append(w)
        ends = w.word.strip().endswith((".", "?", "!"))
        if ends or len(current) >= MAX_SENTENCE_WORDS or i == len(words) - 1:
            flush()
    return sentences


# Clauses start where a new part usually starts (the comma before is optional in transcripts).
_CLAUSE_BREAK = re.compile(
    r"(?:[;:]|\s[-–]\s|,)?\s+(?=(?:as a (?:result|consequence)|in the end|"
    r"which (?:meant|led|saved|cut|reduced|brought|gave|made)|that meant|"
    r"so (?:i|we)|and so|and then|after that|but then|eventually|finally|because of that|by the end|"
    r"(?<=and )(?:it|everything|things|that|this) (?:was|were|came|went|worked|got)|"
    r"the (?:result|outcome|upshot) was|my (?:task|job|role|goal|responsibility) was|"
    r"and i (?:was|had|needed)|since then)\b)|(?<=[,;:])\s+(?=(?:i|we|then|so|but)\b)",
    re.IGNORECASE,
)
MIN_CLAUSE_WORDS = 4  # shorter fragments stay with a neighbouring clause


@dataclass(frozen=True)
class Clause:
    text: str
    start: float
    sentence: int  # index of the sentence it came from


def _utterances(sentences: Sequence[Sentence]) -> list[Sentence]:
    """Sentences rejoined where only the length cap cut them (no full stop, no pause between)."""
    out: list[Sentence] = []
    for s in sentences:
        prev = out[-1] if out else None
        if prev is not None and not prev.text.rstrip().endswith((".", "?", "!")) and s.start - prev.end < 1.0:
            out[-1] = Sentence(text=f"{prev.text} {s.text}", start=prev.start, end=s.end)
        else:
            out.append(s)
    return out


def split_clauses(sentences: Sequence[Sentence]) -> list[Clause]:
    """Cut sentences into clauses at the words that usually open a new STAR part (fillers removed)."""
    out: list[Clause] = []
    for i, s in enumerate(_utterances(sentences)):
        pieces = [p.strip(" ,;:-–") for p in _CLAUSE_BREAK.split(s.text)]
        pieces = [p for p in pieces if strip_fillers(p)]
        merged: list[str] = []
        carry = ""  # a short opening fragment ("Two years ago,") goes with the clause after it
        for p in pieces:  # a fragment too short to read on its own stays with a neighbour
            short = len(strip_fillers(p).split()) < MIN_CLAUSE_WORDS
            if short and merged:
                merged[-1] = f"{merged[-1]}, {p}"
            elif short:
                carry = f"{carry}, {p}" if carry else p
            else:
                merged.append(f"{carry}, {p}" if carry else p)
                carry = ""
        if carry:
            merged.append(carry)
        offset = 0
        for p in merged:
            at = s.text.find(p, offset)
            share = at / max(len(s.text), 1) if at >= 0 else 0.0
            offset = max(at, 0) + len(p)
            out.append(Clause(strip_fillers(p), s.start + share * max(s.end - s.start, 0.0), i))
    return out
