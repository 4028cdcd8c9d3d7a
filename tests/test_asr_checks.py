"""Repetition loops are removed from what the recogniser returned; genuine repetitions are kept."""

from __future__ import annotations

from coach_core.analysis.asr_checks import agreement, collapse_loops, settle_suspects, understood
from coach_core.schema import Word


def timed(text: str, start: float = 0.0, step: float = 0.3, length: float = 0.25) -> list[Word]:
    return [
        Word(word=w, start=start + i * step, end=start + i * step + length, probability=0.9)
        for i, w in enumerate(text.split())
    ]


def test_squeezed_loop_at_one_timestamp_is_collapsed() -> None:
    real = timed("Collisions can make them slower.")
    loop = timed("you know, " * 30, start=2.0, step=0.0, length=0.0)
    check = collapse_loops(real + loop)
    assert [w.word for w in check.words] == [w.word for w in real]  # the zero-length loop words carry no audio
    assert check.dropped == 60


def test_phrase_loop_with_plausible_timing_is_collapsed_to_one_occurrence() -> None:
    words = timed("I'm going to get my food, and " * 5 + "then we shipped it.")
    check = collapse_loops(words)
    text = " ".join(w.word for w in check.words)
    assert text == "I'm going to get my food, and then we shipped it."
    assert check.dropped == 28


def test_a_clause_long_loop_is_collapsed_and_its_guessed_lead_in_is_decoded_again() -> None:
    # tiny.en looped over a 9-word clause 18 times in a 2-min answer, led in by words it guessed
    # (probability 0.00-0.28) stretched over a sentence it never decoded; the speaker's words before
    # them were confident.
    said = timed("If I did it again, I would, um,", start=80.0)
    guessed = [
        Word(word=w, start=82.4 + 0.9 * i, end=83.2 + 0.9 * i, probability=0.1)
        for i, w in enumerate("if I had not looked at the".split())
    ]
    loop = timed("and I would have looked at the wrong problem, " * 18, start=89.0, step=0.12, length=0.1)
    after = timed("So, two years ago,", start=110.0)
    check = collapse_loops(said + guessed + loop + after)
    text = " ".join(w.word for w in check.words)
    assert text.count("wrong problem") == 1 and text.endswith("So, two years ago,")
    assert check.dropped == 9 * 17
    assert len(check.loops) == 1
    a, b = check.loops[0]
    assert a == guessed[0].start  # the guessed lead-in is decoded again with the loop ...
    assert b == loop[-1].end and a > said[-1].end  # ... not the confident words before it


def test_a_loop_without_guessed_words_before_it_starts_at_its_first_occurrence() -> None:
    words = timed("We cached the results.") + timed("I'm going to get my food, and " * 4, start=2.0)
    check = collapse_loops(words)
    assert check.loops == [(2.0, words[-1].end)]


def test_long_filler_loop_is_collapsed() -> None:
    # Squeezed: twelve "uh" in under a second, or at one timestamp, are no hesitation anyone can say.
    for words in (timed("Uh, " * 12, step=0.05, length=0.04), timed("Uh, " * 12, step=0.0, length=0.0)):
        check = collapse_loops(words + timed("right.", start=2.0))
        assert [w.word for w in check.words] in (["Uh,", "right."], ["right."])
        assert check.dropped >= 11 and not check.suspects


def test_hesitation_at_a_speaking_pace_is_kept_as_a_suspect() -> None:
    # Six "uh" with ~0.3 s of sound each and gaps between them: timing alone cannot call this a loop.
    words = (
        timed("So, I would say,") + timed("uh, " * 6, start=1.5, step=0.6, length=0.3) + timed("the cache.", start=5.2)
    )
    check = collapse_loops(words)
    assert check.words == words and check.dropped == 0
    assert len(check.suspects) == 1
    a, b = check.suspects[0]
    assert a == 1.5 and b > 4.5


def test_suspect_run_is_a_hesitation_when_a_decode_without_the_prompt_hears_no_words() -> None:
    words = timed("So,") + timed("uh, " * 6, start=1.0, step=0.6, length=0.3) + timed("the cache.", start=4.8)
    check = collapse_loops(words)
    kept = settle_suspects(check, retry=timed("So,") + timed("the cache.", start=4.8))
    assert sum(w.word.startswith("uh") for w in kept.words) == 6 and kept.dropped == 0


def test_suspect_run_is_a_loop_when_a_decode_without_the_prompt_hears_speech() -> None:
    words = timed("So,") + timed("uh, " * 6, start=1.0, step=0.6, length=0.3) + timed("the cache.", start=4.8)
    check = collapse_loops(words)
    speech = timed("we put an in-memory cache in front of the database", start=1.0, step=0.33)
    settled = settle_suspects(check, retry=speech)
    assert not any(w.word.startswith("uh") for w in settled.words)
    assert "database" in {w.word for w in settled.words} and settled.dropped == 6 and settled.loops


def test_genuine_repetitions_are_kept() -> None:
    for text in (
        "No, no, no, that is not what I meant.",
        "Uh, uh, I think the answer is the cache.",
        "It was very, very, very slow before the index.",
        "We tested, we tested, and we shipped.",
    ):
        words = timed(text)
        assert collapse_loops(words).words == words, text


def test_few_words_for_long_speech_is_not_understood() -> None:
    assert not understood(timed("Um, uh, I mean."), speech_s=8.0)
    assert understood(timed("In my last project I was responsible for the database and its speed."), speech_s=5.0)
    assert understood(timed("Yes."), speech_s=1.0)  # too short to judge


def test_two_decodes_that_disagree_mean_not_understood() -> None:
    a = timed("I'm a cat loss eater and so on and so forth, my friend.")
    b = timed("Thank you so much for watching, see you in the next video.")
    assert agreement(a, b) < 0.2
    assert not understood(a, speech_s=4.0, second_opinion=b)
    c = timed("I am a cat lost eater and so forth, my friend.")
    assert agreement(a, c) > 0.6
    assert understood(a, speech_s=4.0, second_opinion=c)


def test_a_first_decode_lost_to_a_filler_loop_does_not_count_as_disagreement() -> None:
    # Fast speech: the filler-prompted decode looped on "uh"; the second decode heard the answer.
    first = timed("Uh,")
    second = timed("When the checkout page slowed down I first measured where the time went and fixed it.")
    assert understood(first, speech_s=5.0, second_opinion=second)
