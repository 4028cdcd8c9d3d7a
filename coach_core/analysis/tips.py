"""Concrete coaching tips that quote the user's own words and numbers (3 to 6 per answer)."""

from __future__ import annotations

from dataclasses import dataclass

from coach_core.analysis.face import FaceMetrics
from coach_core.analysis.scoring import EYE_CONTACT_GOOD, FILLERS_GOOD, HEDGES_GOOD, PACE_GOOD
from coach_core.analysis.stress import StressAnalysis
from coach_core.analysis.voice import VoiceMetrics
from coach_core.formatting import clock
from coach_core.schema import Question, Scores, SpeechMetrics

MIN_TIPS, MAX_TIPS = 3, 6


@dataclass
class Tip:
    priority: float  # higher = more worth saying
    text: str


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def content_tips(metrics: SpeechMetrics) -> list[str]:
    """The tips about content alone (key points, STAR), best first: what the validity bench checks."""
    tips: list[Tip] = []
    _content_tips(metrics, tips, [])
    return [t.text for t in sorted(tips, key=lambda t: -t.priority)]


def _content_tips(m: SpeechMetrics, tips: list[Tip], good: list[Tip]) -> None:
    if m.coverage is not None:
        total = len(m.coverage.matched) + len(m.coverage.missed)
        if m.coverage.missed:
            miss = min(m.coverage.missed, key=lambda k: k.similarity)
            tips.append(Tip(4 + len(m.coverage.missed), f"You clearly covered {len(m.coverage.matched)} of {total} key "
                f"points (coverage {m.coverage.score:.0%}, partly touched points count in part). "
                f"Not clearly covered: '{_quote(miss.key_point)}'. Add a sentence that says it directly."))  # fmt: skip
        else:
            good.append(Tip(1.5, f"You covered all {total} key points."))
    if m.star is not None:
        if not m.star.result.present:
            tips.append(Tip(5, "I could not hear a clear result: end with what changed because of you, "
                               "ideally with a number (\"as a result, ...\")."))  # fmt: skip
        elif m.star.missing == ["task"]:
            # A story's task is often implied by what the person did (feedback on their own work, a
            # problem they were handed): the matcher cannot tell implied from absent, so no claim, advice.
            tips.append(Tip(3, "Make your own part explicit: one sentence on what you were responsible for "
                               "or aiming at (\"my job was to ...\") shows why your actions mattered."))  # fmt: skip
        elif m.star.missing:
            tips.append(Tip(3.5, f"I could not clearly hear the {' and '.join(m.star.missing)} part of STAR; "
                                 "a short sentence for each makes the story easy to follow."))  # fmt: skip
        if m.star.we_count > m.star.i_count and m.star.we_count >= 4:
            tips.append(Tip(3, f"You said 'we' {m.star.we_count} times and 'I' {m.star.i_count}: "
                               "the interviewer wants to hear what you did."))  # fmt: skip


def build_tips(
    question: Question,
    metrics: SpeechMetrics,
    duration_s: float,
    scores: Scores,
    voice: VoiceMetrics | None = None,
    face: FaceMetrics | None = None,
    stress: StressAnalysis | None = None,
) -> list[str]:
    tips: list[Tip] = []
    good: list[Tip] = []
    m = metrics
    if m.filler_rate_per_100_words > FILLERS_GOOD and m.fillers:
        top, n = next(iter(m.fillers.items()))
        others = m.filler_count - n
        extra = f" (and {others} other filler{'s' * (others != 1)})" if others else ""
        tips.append(Tip(3 + m.filler_rate_per_100_words / 3, f"You said '{top}' {n} time{'s' * (n != 1)}{extra}: "
            f"{m.filler_rate_per_100_words:.1f} fillers per 100 words; aim under {FILLERS_GOOD:.0f}. "
            "A silent pause sounds more confident than a filler."))  # fmt: skip
    elif m.word_count >= 20:
        good.append(Tip(1, f"Few fillers: {m.filler_count} in {m.word_count} words "
                        f"({m.filler_rate_per_100_words:.1f} per 100). Keep it up."))  # fmt: skip
    if m.wpm > PACE_GOOD[1]:
        tips.append(Tip(2 + (m.wpm - PACE_GOOD[1]) / 20, f"You spoke at {m.wpm:.0f} words per minute; aim for "
            f"{PACE_GOOD[0]:.0f}-{PACE_GOOD[1]:.0f}. Slow down on the key points and let them land."))  # fmt: skip
    elif m.wpm < PACE_GOOD[0]:
        tips.append(Tip(2 + (PACE_GOOD[0] - m.wpm) / 20, f"You spoke at {m.wpm:.0f} words per minute; aim for "
            f"{PACE_GOOD[0]:.0f}-{PACE_GOOD[1]:.0f}. Prepare the outline so the words come more readily."))  # fmt: skip
    else:
        good.append(Tip(1, f"Your pace of {m.wpm:.0f} words per minute sits in the {PACE_GOOD[0]:.0f}-"
                        f"{PACE_GOOD[1]:.0f} band listeners follow best."))  # fmt: skip
    mid = [p for p in m.pauses.long if p.mid_sentence]
    if mid:
        worst = max(mid, key=lambda p: p.duration_s)
        tips.append(Tip(2.5, f"You stopped for {worst.duration_s:.1f} s after '{worst.after_word}' "
            f"at {clock(worst.start)}, mid-sentence ({len(mid)} such pause{'s' * (len(mid) != 1)}). "
            "Finish the sentence, then pause."))  # fmt: skip
    _content_tips(m, tips, good)
    if m.hedge_rate_per_100_words > HEDGES_GOOD and m.hedges:
        top, n = next(iter(m.hedges.items()))
        tips.append(Tip(2 + m.hedge_rate_per_100_words / 2, f"You hedged {m.hedge_count} "
            f"time{'s' * (m.hedge_count != 1)} ('{top}' x{n}). "
            "State your conclusion plainly, then give the caveat once."))  # fmt: skip
    stutters = [r for r in m.repeats if r.kind == "stutter"]
    if sum(r.count for r in stutters) >= 2:
        r = stutters[0]
        tips.append(Tip(1.5, f"You restarted on '{r.phrase} {r.phrase}' {r.count} time{'s' * (r.count != 1)}; "
                             "a breath before the sentence helps."))  # fmt: skip
    if voice is not None:
        if voice.monotone and voice.pitch_variability_st is not None:
            tips.append(Tip(2.5, f"Your pitch varied by only {voice.pitch_variability_st:.1f} semitones: "
                                 "lift your voice on the words that matter to sound engaged."))  # fmt: skip
        if voice.trailing_off_ratio >= 0.3:
            tips.append(Tip(2, f"{voice.trailing_off_ratio:.0%} of your sentences trail off in volume; "
                               "keep your voice up to the last word."))  # fmt: skip
        for warning in voice.warnings:
            tips.append(Tip(4.5, warning))
    if face is not None and face.available and face.eye_contact_ratio is not None:
        if face.eye_contact_ratio < EYE_CONTACT_GOOD - 0.2:
            tips.append(Tip(2.5, f"You looked toward the camera {face.eye_contact_ratio:.0%} of the time "
                                 "(eye-gaze proxy); aim for most of the answer."))  # fmt: skip
        else:
            good.append(
                Tip(
                    1,
                    f"Steady eye contact: toward the camera {face.eye_contact_ratio:.0%} of the time.",
                )
            )
    if stress is not None and stress.spikes:
        s = max(stress.spikes, key=lambda x: x.peak)
        rec = (
            f"you were back to your baseline in {s.recovery_s:.0f} s" if s.recovery_s is not None else "they stayed up"
        )
        tips.append(Tip(2, f"Stress cues rose at {clock(s.start)} ({', '.join(s.drivers)}); {rec}. "
                           "A slow breath and a short summary sentence help you reset."))  # fmt: skip
    if question.time_budget_s and duration_s > question.time_budget_s * 1.25:
        tips.append(Tip(3, f"Your answer took {clock(duration_s)} against a {clock(question.time_budget_s)} budget; "
                           "lead with the main point and trim the detail."))  # fmt: skip
    tips.sort(key=lambda t: -t.priority)
    chosen = tips[:MAX_TIPS]
    good.sort(key=lambda t: -t.priority)
    while len(chosen) < MIN_TIPS and good:
        chosen.append(good.pop(0))
    generic = [
        f"Overall {scores.overall:.0f}/100: record another attempt and compare it on the dashboard.",
        "Open with a one-sentence answer, then give the detail: listeners remember the first line.",
        "Watch the replay once with the sound off: your face and posture tell their own story.",
    ]
    while len(chosen) < MIN_TIPS:
        chosen.append(Tip(0, generic[len(chosen) % len(generic)]))
    return [t.text for t in chosen]
