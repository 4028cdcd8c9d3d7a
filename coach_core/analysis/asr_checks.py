"""Checks on what the speech recogniser returned: repetition loops, and whether it understood the speech.

Whisper decoding at temperature 0 (which we use: the sampling fallback dropped whole windows of
fast speech) can fall into a *repetition loop*: the same word or phrase emitted dozens of times,
squeezed into a fraction of a second ("you know, you know, you know …" at one timestamp). Whisper's
own guard is a compression-ratio threshold that triggers re-sampling; we detect loops from the
words instead, with physical limits on speech: nobody says a phrase four times in a row at more
than eight words a second, or with words of zero length.

A run of the same *filler* ("uh, uh, uh, uh, uh, uh") at a speaking pace, each with sound under it,
may be a real hesitation or a loop over speech the model did not follow. Timing cannot tell them
apart, so such a run is only a *suspect*: the transcriber decodes its stretch again without the
filler prompt (:func:`settle_suspects`); if that decode hears words there at a speaking rate, the
fillers were a loop, otherwise they were said.

English-only models cannot name the language they hear. On speech in another language tiny.en
either loops or emits a few English-sounding words for long stretches of voice, so the number of
credible words per second of voice activity is a language/intelligibility signal that does not
depend on the model's own (over-confident) word probabilities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from coach_core.schema import Word

MAX_WORDS_PER_S = 8.0  # faster than any speaker: fast speech is ~4-5 words/s (~250-300 wpm)
MIN_WORD_S = 0.02  # a recognised word shorter than this carries no audio of its own
MIN_REPEATS = 3  # a word or phrase repeated this many times in a row is checked for being a loop
PHRASE_LOOP_N = 3  # a phrase of this many words said MIN_REPEATS times in a row is a loop, whatever its timing
WORD_LOOP_REPEATS = 6  # a word or two-word phrase said this many times in a row is a loop ("so, so, so, …") ...
# ... unless it is a filler run at a speaking pace: a suspect, settled by a decode without the filler prompt.
# The longest looped phrase looked for. tiny.en loops over whole clauses too: "and I would have looked at
# the wrong problem," (9 words) eighteen times over 20 s of a 2-min answer, with the question's vocabulary
# as hotwords (bench/answers.py, this Xeon); a speaker never says a phrase of 3+ words 3 times in a row.
MAX_NGRAM = 16
# Whisper's own word probability under which a word is a guess. A loop is often led in by such guesses
# stretched over real speech ("if I had not looked at the wrong problem": 0.00-0.28 each, over 8 s where
# another sentence was said); the loop's stretch starts at the first of them, so it is decoded again too ...
GUESS_P = 0.3
GUESS_LEAD_MAX_S = 30.0  # ... looking back at most one Whisper window
# Credible words per second of voice activity under which the speech was mostly not understood.
# English answers (six espeak voices, 120-250 wpm) gave 2.1-4.2; eight clips in six other
# languages gave 0.1-1.45 with the filler-prompted decode (see docs/scoring.md).
MIN_WORDS_PER_SPEECH_S = 1.6
# Two decodes of the same English audio share most of their words; of speech the model does not
# understand, they share almost none (0-0.11 on the clips above; English 0.69-1.0).
MIN_AGREEMENT = 0.34
MIN_CONTENT_WORDS = 3  # distinct non-filler words each decode needs before agreement is judged
FILLER_TOKENS = frozenset({"um", "uh", "er", "ah", "erm", "hmm", "mm"})

_NON_WORD = re.compile(r"[^\w']+")


def _norm(word: str) -> str:
    return _NON_WORD.sub("", word.lower())


@dataclass
class LoopCheck:
    words: list[Word]  # the words with loops collapsed to their first occurrence
    dropped: int  # words removed as part of a loop
    # (start, end) s of each collapsed loop, from the guessed words leading into it (GUESS_P): decoded again
    loops: list[tuple[float, float]] = field(default_factory=list)
    # (start, end) s of each long filler run kept as a possible real hesitation (see settle_suspects)
    suspects: list[tuple[float, float]] = field(default_factory=list)


def _fast_or_squeezed(run: Sequence[Word]) -> bool:
    span = max(run[-1].end - run[0].start, 1e-3)
    squeezed = sum(1 for w in run if w.end - w.start < MIN_WORD_S)
    return len(run) / span > MAX_WORDS_PER_S or squeezed >= len(run) / 2


def _is_loop(run: Sequence[Word], n: int, repeats: int) -> bool:
    return _fast_or_squeezed(run) or n >= PHRASE_LOOP_N or repeats >= WORD_LOOP_REPEATS


def _is_filler_run(gram: Sequence[str]) -> bool:
    return all(k in FILLER_TOKENS for k in gram)


def _guessed_lead(before: Sequence[Word], start: float) -> float:
    """Where a loop starting at ``start`` really starts: at the first of the guessed words (``GUESS_P``)
    just before it, within ``GUESS_LEAD_MAX_S``."""
    lead = len(before)
    while lead > 0 and before[lead - 1].probability < GUESS_P and before[lead - 1].start > start - GUESS_LEAD_MAX_S:
        lead -= 1
    return min(before[lead].start, start) if lead < len(before) else start


def collapse_loops(words: Sequence[Word]) -> LoopCheck:
    """Remove repetition loops, keeping the first occurrence of the looped word or phrase."""
    keys = [_norm(w.word) for w in words]
    kept: list[Word] = []
    dropped = 0
    loops: list[tuple[float, float]] = []
    suspects: list[tuple[float, float]] = []
    i = 0
    while i < len(words):
        best: tuple[int, int] | None = None  # (n, repeats) covering the most words
        for n in range(1, MAX_NGRAM + 1):
            gram = keys[i : i + n]
            if len(gram) < n or not any(gram):
                break
            repeats = 1
            while keys[i + repeats * n : i + (repeats + 1) * n] == gram:
                repeats += 1
            if repeats >= MIN_REPEATS and (best is None or n * repeats > best[0] * best[1]):
                best = (n, repeats)
        if best is not None:
            n, repeats = best
            run = words[i : i + n * repeats]
            if n < PHRASE_LOOP_N and _is_filler_run(keys[i : i + n]) and not _fast_or_squeezed(run):
                if repeats >= WORD_LOOP_REPEATS:
                    suspects.append((run[0].start, run[-1].end))
                kept.extend(run)  # a hesitation at a speaking pace: kept unless settle_suspects says loop
                i += n * repeats
                continue
            if _is_loop(run, n, repeats):
                # Keep the first occurrence, minus words with no audio of their own.
                first = [w for w in words[i : i + n] if w.end - w.start >= MIN_WORD_S]
                loops.append((_guessed_lead(kept, run[0].start), run[-1].end))
                kept.extend(first)
                dropped += n * repeats - len(first)
                i += n * repeats
                continue
        kept.append(words[i])
        i += 1
    return LoopCheck(words=kept, dropped=dropped, loops=loops, suspects=suspects)


def settle_suspects(check: LoopCheck, retry: Sequence[Word]) -> LoopCheck:
    """Decide each suspect filler run: a loop when a decode without the filler prompt (``retry``, loops
    collapsed, covering the run) heard words there at a speaking rate; a real hesitation otherwise.

    A loop's fillers give way to the words the retry heard in their stretch; a hesitation stands as said.
    """
    words = list(check.words)
    dropped, loops = check.dropped, list(check.loops)
    for a, b in check.suspects:

        def inside(w: Word, a: float = a, b: float = b) -> bool:
            return a <= (w.start + w.end) / 2 <= b

        heard = [w for w in retry if inside(w) and _norm(w.word) not in FILLER_TOKENS and _norm(w.word)]
        if len(heard) / max(b - a, 1e-3) < MIN_WORDS_PER_SPEECH_S:
            continue  # the voice under the fillers holds no words: the speaker hesitated
        run = [w for w in words if inside(w) and _norm(w.word) in FILLER_TOKENS]
        dropped += len(run)
        loops.append((a, b))
        words = sorted([w for w in words if not (inside(w) and _norm(w.word) in FILLER_TOKENS)] + heard,
                       key=lambda w: w.start)  # fmt: skip
    return LoopCheck(words=words, dropped=dropped, loops=loops)


def words_per_speech_second(words: Sequence[Word], speech_s: float) -> float:
    """Recognised words per second of voice activity (fillers count: they are speech too)."""
    return len(words) / speech_s if speech_s > 0 else 0.0


def _content(words: Sequence[Word]) -> set[str]:
    return {_norm(w.word) for w in words} - FILLER_TOKENS - {""}


def agreement(a: Sequence[Word], b: Sequence[Word]) -> float:
    """Share of the smaller decode's distinct words (fillers aside) that the other decode also has."""
    sa, sb = _content(a), _content(b)
    if not sa or not sb:
        return 0.0 if (sa or sb) else 1.0
    return len(sa & sb) / min(len(sa), len(sb))


def understood(words: Sequence[Word], speech_s: float, second_opinion: Sequence[Word] | None = None) -> bool:
    """False when the voice gave few credible words, or two decodes disagree: another language or unclear audio.

    Args:
        words: the first (filler-prompted) decode, loops collapsed.
        speech_s: seconds of voice activity.
        second_opinion: a second decode of the same audio, loops collapsed, when one was made.
    """
    if speech_s < 3.0:
        return True  # too little to judge
    best = second_opinion if second_opinion is not None and len(second_opinion) > len(words) else words
    if words_per_speech_second(best, speech_s) < MIN_WORDS_PER_SPEECH_S:
        return False
    if second_opinion is None:
        return True
    # Agreement needs words on both sides: a first decode that collapsed to fillers says nothing.
    enough = min(len(_content(words)), len(_content(second_opinion))) >= MIN_CONTENT_WORDS
    return not enough or agreement(words, second_opinion) >= MIN_AGREEMENT
