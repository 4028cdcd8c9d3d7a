"""Filler, hedge, pause and pace rules on hand-made timed words (no model needed)."""

from __future__ import annotations

import pytest

from coach_core.analysis.text_metrics import find_fillers, find_hedges, speech_metrics, split_sentences, tokenize
from coach_core.schema import Word


def words(text: str, step: float = 0.4, gaps: dict[int, float] | None = None) -> list[Word]:
    out, t = [], 0.0
    for i, w in enumerate(text.split()):
        t += (gaps or {}).get(i, 0.0)
        out.append(Word(word=w, start=t, end=t + step * 0.8, probability=0.9))
        t += step
    return out


def fillers(text: str) -> list[str]:
    return [name for name, _, _ in find_fillers(tokenize(words(text)))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I would like to talk about caching.", []),
        ("It looks like a bug, and something like that.", []),
        ("It was, like, really hard.", ["like"]),
        ("And like we just shipped it.", ["like"]),
        ("Um, so we, uh, shipped it.", ["um", "so (sentence start)", "uh"]),
        ("Do you know the answer?", []),
        ("You know, the thing is basically done.", ["you know", "basically"]),
        ("What I mean is simple. I mean, it works.", ["I mean"]),
        ("What kind of test is it? It is kind of slow.", ["kind of"]),
        ("So far so good.", []),
        ("We cached it. So the reads got faster.", []),
        ("We cached it. So, the reads got faster.", ["so (sentence start)"]),
        ("So I would start with the cache.", ["so (sentence start)"]),
        ("Umm, err, ahh.", ["um", "er", "ah"]),
        # A word broken off and restarted is a false start, not a filler.
        ("The er- error was in the uh- under layer.", []),
        ("Wh- what I did, uh, was th- the index.", ["uh"]),
    ],
)
def test_fillers_in_context(text: str, expected: list[str]) -> None:
    assert fillers(text) == expected


def test_hedges_found_with_multiword_phrases() -> None:
    found = [h for h, _, _ in find_hedges(tokenize(words("I think it is probably fine, I guess. I'm not sure.")))]
    assert found == ["I think", "probably", "I guess", "I'm not sure"]


def test_pauses_long_and_mid_sentence() -> None:
    ws = words("We built the cache. Then we measured the latency again.", gaps={4: 1.5, 7: 2.0})
    m = speech_metrics(ws, duration_s=ws[-1].end + 0.5)
    assert m.pauses.long_count == 2
    assert m.pauses.longest_s == pytest.approx(2.0 + 0.4 * 0.2, abs=0.01)
    # The pause after "cache." ends a sentence; the one after "measured" is mid-sentence.
    assert [p.mid_sentence for p in m.pauses.long] == [False, True]
    assert m.pauses.mid_sentence_long_count == 1


def test_pace_and_rates() -> None:
    ws = words(" ".join(["word"] * 60), step=0.5)  # 60 words in 30 s = 120 wpm
    m = speech_metrics(ws, duration_s=30.0)
    assert m.wpm == pytest.approx(120.0)
    assert m.speaking_wpm >= m.wpm
    assert m.filler_count == 0 and m.filler_rate_per_100_words == 0


def test_filler_rates_per_100_words_and_minute() -> None:
    ws = words("um we did it uh and we shipped it um")
    m = speech_metrics(ws, duration_s=30.0)
    assert m.filler_count == 3 and m.fillers == {"um": 2, "uh": 1}
    assert m.filler_rate_per_100_words == pytest.approx(300 / 10)
    assert m.filler_rate_per_min == pytest.approx(6.0)


def test_stutters_found() -> None:
    m = speech_metrics(words("I I think we we went to the the store"), duration_s=10)
    stutters = {r.phrase for r in m.repeats if r.kind == "stutter"}
    assert stutters == {"i", "we", "the"}


def test_sentences_split_on_punctuation_and_long_pauses() -> None:
    ws = words("First we cached. Then we indexed the table and waited", gaps={8: 1.5})
    assert [s.text for s in split_sentences(ws)] == ["First we cached.", "Then we indexed the table", "and waited"]
