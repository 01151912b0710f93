"""The server's inference callables (`DubberModels`) on numpy batches shaped as Triton hands
them over, with fake engines and no Triton process: what each model answers, how rows of
several requests are batched, and what it refuses."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dubber.chain.s2st import translate_speech
from dubber.engines.bundle import Engines
from dubber.engines.protocols import synthesize_all
from dubber.engines.types import TranscribeOptions
from dubber.engines.wire import (
    ASR,
    INFO,
    MAX_AUDIO_SECONDS,
    MAX_BEAM,
    MAX_RATE,
    MAX_SYLLABLES,
    MAX_TEXT_BYTES,
    MIN_RATE,
    MT,
    S2ST,
    TTS,
    options_to_json,
    segments_from_json,
    translation_from_json,
)
from dubber.media.decode import AUDIO_RATE
from dubber.serve.server import (
    MAX_BATCH,
    MAX_HYPOTHESES,
    S2ST_INSTANCES,
    BadRequest,
    DubberModels,
    bind_models,
)
from tests.helpers.fake_serving import FakeTriton, StyledBeeps, served_engines
from tests.helpers.fakes import EchoTranslator, beeps

SCRIPT = ("Good morning to you all.", "The trains run late today.", "Please wait here.")
SPANS = [(0.3, 1.5), (2.0, 3.4), (4.0, 4.9)]
SENTENCES = ["Good morning.", "Where is the station?", "It is late."]


@pytest.fixture
def engines(calibration) -> Engines:
    return served_engines(calibration, SCRIPT)


@pytest.fixture
def models(engines) -> DubberModels:
    return DubberModels(engines, pipeline=lambda: engines)  # s2st in this process


@pytest.fixture(scope="module")
def speech():
    return beeps(SPANS, 5.5)


def utf8(*texts: str | bytes) -> np.ndarray:
    """A column of texts, one row each, as a batched Triton input."""
    return np.array([[t if isinstance(t, bytes) else t.encode()] for t in texts], np.object_)


def one(text: str | bytes) -> np.ndarray:
    """One text, as an unbatched Triton input of shape (1,)."""
    return utf8(text)[0]


def column(values, dtype) -> np.ndarray:
    return np.array(values, dtype).reshape(-1, 1)


def decoded(array: np.ndarray) -> list[str]:
    return [bytes(v).decode() for v in np.asarray(array).reshape(-1)]


# -- asr ---------------------------------------------------------------------------------------


def test_asr_transcribes_with_the_language_and_options_asked(models, engines, speech):
    live = TranscribeOptions(beam_size=1, vad_filter=False, word_timestamps=False)
    request = {"audio": speech, "language": one("en"), "options": one(options_to_json(live))}
    (answer,) = models.asr([request])
    segments, info = segments_from_json(decoded(answer["segments"])[0])
    assert [s.text for s in segments] == list(SCRIPT)
    for segment, (start, end) in zip(segments, SPANS, strict=True):
        assert segment.start == pytest.approx(start, abs=0.03)
        assert segment.end == pytest.approx(end, abs=0.03)
        assert [w.text for w in segment.words] == segment.text.split()
    assert info.duration == pytest.approx(len(speech) / AUDIO_RATE)
    (heard,) = engines.recognizer.heard
    assert (heard.task, heard.samples, heard.language) == ("transcribe", len(speech), "en")
    assert heard.options == live


def test_asr_without_optional_inputs_uses_the_defaults(models, engines, speech):
    models.asr([{"audio": speech}])
    (heard,) = engines.recognizer.heard
    assert heard.language is None and heard.options == TranscribeOptions()


def test_asr_detect_gives_the_language_and_its_probability(models, engines, speech):
    (answer,) = models.asr([{"audio": speech, "task": one("detect")}])
    assert json.loads(decoded(answer["segments"])[0]) == {
        "language": "en",
        "language_probability": 0.75,
    }
    assert [h.task for h in engines.recognizer.heard] == ["detect"]


def test_asr_answers_each_request_of_a_batch(models, speech):
    answers = models.asr([{"audio": speech}, {"audio": speech[: 2 * AUDIO_RATE]}])
    counts = [len(segments_from_json(decoded(a["segments"])[0])[0]) for a in answers]
    assert counts == [3, 1]


ASR_REFUSALS = {
    "empty audio": ({"audio": np.zeros(0, np.float32)}, "audio is empty"),
    "NaN samples": ({"audio": np.full(1600, np.nan, np.float32)}, "NaN or infinite"),
    "infinite samples": ({"audio": np.full(1600, np.inf, np.float32)}, "NaN or infinite"),
    "audio too long": (
        {"audio": np.zeros(MAX_AUDIO_SECONDS * AUDIO_RATE + 1, np.float32)},
        f"longer than {MAX_AUDIO_SECONDS} s",
    ),
    "unknown task": ({"task": one("translate")}, "unknown task 'translate'"),
    "unknown option": ({"options": one('{"temperature": 0.5}')}, "not valid decoding options"),
    "options not JSON": ({"options": one("beam=1")}, "not valid decoding options"),
    "options not an object": ({"options": one("[1, 2]")}, "not valid decoding options"),
    "language not UTF-8": ({"language": one(b"\xff\xfe")}, "language is not valid UTF-8"),
}


@pytest.mark.parametrize("case", ASR_REFUSALS)
def test_asr_refuses_bad_requests_before_recognising(models, engines, speech, case):
    inputs, message = ASR_REFUSALS[case]
    with pytest.raises(BadRequest, match=message):
        models.asr([{"audio": speech, **inputs}])
    assert engines.recognizer.heard == []


# -- mt ----------------------------------------------------------------------------------------


def translations(answer: dict) -> list:
    return [translation_from_json("", text) for text in decoded(answer["translations"])]


def test_mt_translates_the_rows_of_several_requests_in_one_call(models, engines):
    first, second = models.mt([{"text": utf8(*SENTENCES[:2])}, {"text": utf8(SENTENCES[2])}])
    assert first["translations"].shape == (2, 1) and second["translations"].shape == (1, 1)
    (call,) = engines.translator.calls
    assert call.texts == SENTENCES and call.num_hypotheses == 1 and call.max_syllables is None
    expected = EchoTranslator().translate(SENTENCES)
    got = translations(first) + translations(second)
    assert [t.hypotheses for t in got] == [t.hypotheses for t in expected]


def test_mt_groups_rows_by_their_settings_and_keeps_their_order(models, engines):
    request = {
        "text": utf8(*SENTENCES),
        "num_hypotheses": column([1, 3, 1], np.int32),
        "beam_size": column([0, 4, 0], np.int32),
    }
    (answer,) = models.mt([request])
    calls = sorted(engines.translator.calls, key=lambda c: c.num_hypotheses)
    assert [(c.texts, c.num_hypotheses) for c in calls] == [
        ([SENTENCES[0], SENTENCES[2]], 1),
        ([SENTENCES[1]], 3),
    ]
    got = translations(answer)
    assert [len(t.hypotheses) for t in got] == [1, 3, 1]
    for text, n, translation in zip(SENTENCES, [1, 3, 1], got, strict=True):
        (alone,) = EchoTranslator().translate([text], num_hypotheses=n)
        assert translation.hypotheses == alone.hypotheses


def test_mt_forwards_syllable_limits_only_where_a_row_asks(models, engines):
    limits = {"text": utf8(*SENTENCES[:2]), "max_syllables": column([0, 6], np.int32)}
    models.mt([limits])
    models.mt([{"text": utf8(*SENTENCES[:2]), "max_syllables": column([0, 0], np.int32)}])
    assert [c.max_syllables for c in engines.translator.calls] == [[None, 6], None]


def test_mt_fills_a_whole_dynamic_batch(models, engines):
    texts = [f"Sentence number {n}." for n in range(MAX_BATCH)]
    answers = models.mt([{"text": utf8(t)} for t in texts])
    assert len(engines.translator.calls) == 1
    assert [translations(a)[0].text for a in answers] == [
        t.text for t in EchoTranslator().translate(texts)
    ]


MT_REFUSALS = {
    "another target language": ({"target_language": utf8("fr", "fr")}, "not 'fr'"),
    "no hypotheses": ({"num_hypotheses": column([1, 0], np.int32)}, "num_hypotheses must be"),
    "too many hypotheses": (
        {"num_hypotheses": column([MAX_HYPOTHESES + 1, 1], np.int32)},
        f"1 to {MAX_HYPOTHESES}, got {MAX_HYPOTHESES + 1}",
    ),
    "negative beam": ({"beam_size": column([-1, 0], np.int32)}, "beam_size must be 0 to"),
    "beam too wide": (
        {"beam_size": column([0, MAX_BEAM + 1], np.int32)},
        f"beam_size must be 0 to {MAX_BEAM}, got {MAX_BEAM + 1}",
    ),
    "syllables": (
        {"max_syllables": column([MAX_SYLLABLES + 1, 0], np.int32)},
        f"max_syllables must be 0 to {MAX_SYLLABLES}",
    ),
    "a value short": ({"num_hypotheses": column([2], np.int32)}, "one value per text"),
    "text too long": ({"text": utf8("a" * (MAX_TEXT_BYTES + 1), "b")}, "the limit is"),
    "invalid UTF-8": ({"text": utf8(b"caf\xe9", "b")}, "text is not valid UTF-8"),
}


@pytest.mark.parametrize("case", MT_REFUSALS)
def test_mt_refuses_bad_rows_before_translating(models, engines, case):
    inputs, message = MT_REFUSALS[case]
    with pytest.raises(BadRequest, match=message):
        models.mt([{"text": utf8("fine"), "num_hypotheses": column([1], np.int32)},
                   {"text": utf8(*SENTENCES[:2]), **inputs}])  # fmt: skip
    assert engines.translator.calls == []


# -- tts ---------------------------------------------------------------------------------------


def speak(models: DubberModels, texts, **columns) -> dict:
    (answer,) = models.tts([{"text": utf8(*texts), **columns}])
    return answer


def test_tts_pads_rows_to_the_longest_and_gives_each_length(models, engines):
    texts = ["Hola.", "Una frase bastante más larga que la otra.", "Sí."]
    answer = speak(models, texts)
    lengths = answer["length"].reshape(-1)
    voice = engines.voices.for_pitch(None).synthesizer
    assert list(lengths) == [len(synthesize_all(voice, t).samples) for t in texts]
    assert answer["audio"].shape == (3, max(lengths)) and answer["audio"].dtype == np.float32
    for row, length in zip(answer["audio"], lengths, strict=True):
        assert np.abs(row[:length]).max() > 0.1 and not row[length:].any()
    assert list(answer["sample_rate"].reshape(-1)) == [voice.sample_rate] * 3


def test_tts_speaks_each_row_at_its_rate(models):
    rates = column([1.0, MAX_RATE, MIN_RATE], np.float32)
    normal, fast, slow = speak(models, ["Buenos días a todos."] * 3, rate=rates)["length"].ravel()
    assert fast == pytest.approx(normal / MAX_RATE, rel=0.02)
    assert slow == pytest.approx(normal / MIN_RATE, rel=0.02)


def test_tts_answers_blank_text_with_silence(models):
    answer = speak(models, ["   ", "Hola."])
    assert answer["length"].reshape(-1)[0] == 0 and answer["length"].reshape(-1)[1] > 0


def test_tts_switches_to_a_style_of_the_voice_once(models, engines):
    plain = speak(models, ["Hola."])
    soft = speak(models, ["Hola.", "Adiós."], style=utf8("soft", "soft"))
    speak(models, ["Otra vez."], style=utf8("soft"))
    assert engines.voices.for_pitch(None).synthesizer.switched == ["soft"]
    assert np.abs(soft["audio"][0]).max() == pytest.approx(np.abs(plain["audio"][0]).max() / 2)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"style": utf8("shouting")}, "has no style 'shouting'"),
        ({"rate": column([MIN_RATE - 0.1], np.float32)}, f"rate must be {MIN_RATE} to {MAX_RATE}"),
        ({"rate": column([MAX_RATE + 0.5], np.float32)}, f"rate must be {MIN_RATE} to {MAX_RATE}"),
    ],
)
def test_tts_refuses_a_style_or_rate_the_voice_cannot_give(models, columns, message):
    with pytest.raises(BadRequest, match=message):
        speak(models, ["Hola."], **columns)


# -- s2st, info, warm-up, binding -------------------------------------------------------------


def test_s2st_gives_what_the_shared_chain_gives(models, engines, calibration, speech):
    (answer,) = models.s2st([{"audio": speech}])
    texts = json.loads(decoded(answer["texts"])[0])
    here = translate_speech(speech, served_engines(calibration, SCRIPT))
    assert texts["source"] == [line.source for line in here.lines] and texts["source"]
    assert texts["translation"] == [line.translation for line in here.lines]
    assert texts["voice"] == ["fake-tts"] * len(here.lines)
    assert answer["audio"].dtype == np.float32
    assert np.array_equal(answer["audio"], here.speech.samples)
    assert list(answer["sample_rate"]) == [here.speech.sample_rate]


def test_s2st_refuses_audio_it_cannot_use(models, engines):
    with pytest.raises(BadRequest, match="audio is empty"):
        models.s2st([{"audio": np.zeros(0, np.float32)}])
    assert engines.recognizer.heard == []


def test_info_describes_the_engines_that_answer(models, engines):
    answers = models.info([{"query": one("")}, {}])
    assert len(answers) == 2
    described = json.loads(decoded(answers[0]["info"])[0])
    translator = engines.translator
    assert described == {
        "asr_model": engines.asr_model,
        "multilingual": True,
        "translator": translator.name,
        "mt_model": engines.mt_model,
        "length_hints": translator.length_hints,
        "source_language": translator.source_language,
        "target_language": translator.target_language,
        "voice": "fake-tts",
        "style": None,
        "styles": list(StyledBeeps.styles),
        "voice_name": StyledBeeps.name,
        "voice_language": StyledBeeps.language,
        "sample_rate": StyledBeeps.sample_rate,
    }


def test_warm_up_runs_each_engine_once(models, engines):
    models.warm_up()
    assert [h.task for h in engines.recognizer.heard] == ["transcribe"]
    assert len(engines.translator.calls) == 1


def test_the_five_models_are_bound_to_their_callables(models):
    triton = FakeTriton()
    bind_models(triton, models, instances=3)
    assert list(triton.models) == [ASR, MT, TTS, S2ST, INFO]  # loaded in this order: info last
    for name, bound in triton.models.items():
        count = {INFO: 1, S2ST: S2ST_INSTANCES}.get(name, 3)
        assert bound.infer_funcs == [getattr(models, name)] * count
    assert triton.batched == {MT, TTS}
    assert {triton.models[name].max_batch for name in triton.batched} == {MAX_BATCH}
    required = {
        name: {t for t, spec in bound.inputs.items() if not spec.optional}
        for name, bound in triton.models.items()
    }
    assert required == {ASR: {"audio"}, MT: {"text"}, TTS: {"text"}, S2ST: {"audio"}, INFO: set()}
