"""What travels between `dubber serve` and its clients: the JSON of segments, translations and
decoding options, and the remote engines of `dub --server` against the server's own models
through an in-process Triton loopback (fake engines, no Triton process)."""

from __future__ import annotations

import json
from contextlib import nullcontext

import numpy as np
import pytest

from dubber.chain.s2st import translate_speech
from dubber.dub.batch import dub_files, plan_dubs
from dubber.dub.job import DubOptions
from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.protocols import synthesize_all
from dubber.engines.remote import (
    RemoteTranslator,
    RetryPolicy,
    ServerConnection,
    connect,
)
from dubber.engines.types import (
    Hypothesis,
    Segment,
    TranscribeOptions,
    TranscriptionInfo,
    Translation,
    Word,
)
from dubber.engines.wire import (
    ASR,
    MT,
    S2ST,
    TTS,
    options_from_json,
    options_to_json,
    segments_from_json,
    segments_to_json,
    translation_from_json,
    translation_to_json,
)
from dubber.errors import DubberError, UsageError
from dubber.media.decode import AUDIO_RATE, write_wav
from dubber.serve.server import MAX_BATCH, DubberModels, pipeline_choice
from tests.helpers.fake_serving import RecordingRecognizer, TritonLoopback, served_engines
from tests.helpers.fakes import EchoTranslator, beeps

SCRIPT = ("The council met on Monday.", "It approved new schools.", "Work starts in March.")
SPANS = [(0.4, 1.6), (2.2, 3.5), (4.1, 5.0)]
FAST = RetryPolicy(attempts=3, first_delay=0.001, connect_timeout=0.1)


def silent(_: str):
    return nullcontext(lambda *_: None)


# -- the JSON ----------------------------------------------------------------------------------


def test_segments_and_their_words_survive_the_wire():
    segments = [
        Segment("¿Qué tal, señor Núñez?", 0.25, 1.5, (Word("¿Qué", 0.25, 0.5, 0.875),)),
        Segment("No words here.", 2.0, 3.125),
    ]
    info = TranscriptionInfo("es", 0.96875, 3.5)
    text = segments_to_json(segments, info)
    assert "Núñez" in text  # UTF-8 as is, not escaped
    assert segments_from_json(text) == (segments, info)


def test_translations_keep_their_hypotheses_in_order():
    translation = Translation("Hello.", (Hypothesis("¡Hola!", -0.25), Hypothesis("Hola.", -1.5)))
    assert translation_from_json("Hello.", translation_to_json(translation)) == translation
    assert translation_from_json("x", translation_to_json(Translation("x", ()))).text == ""


def test_decoding_options_survive_the_wire_and_unknown_ones_are_refused():
    live = TranscribeOptions(beam_size=1, vad_filter=False, word_timestamps=False)
    assert options_from_json(options_to_json(live)) == live
    partial = TranscribeOptions(beam_size=1, padding_s=6.0, temperature=(0.0,), max_new_tokens=40)
    assert options_from_json(options_to_json(partial)) == partial
    assert options_from_json("") == TranscribeOptions()
    for wrong in ('{"beam_size": 1, "best_of": 5}', "[1]", '"greedy"'):
        with pytest.raises(ValueError, match="expected an object with fields"):
            options_from_json(wrong)


# -- remote engines through the loopback ------------------------------------------------------


@pytest.fixture
def served(calibration) -> Engines:
    return served_engines(calibration, SCRIPT)


@pytest.fixture
def loopback(served, monkeypatch) -> TritonLoopback:
    pytest.importorskip("pytriton", reason="needs the 'serve' extra")
    choice = pipeline_choice(served)
    models = DubberModels(served, pipeline=lambda: connect(TritonLoopback.URL, choice, retry=FAST))
    return TritonLoopback(models).install(monkeypatch)


@pytest.fixture
def remote(loopback) -> Engines:
    return connect(loopback.URL, EngineChoice(match_voice_to_pitch=False), retry=FAST)


def test_connect_describes_the_served_engines(remote, served):
    assert (remote.asr_model, remote.mt_model) == (served.asr_model, served.mt_model)
    assert remote.recognizer.multilingual and remote.translator.name == served.translator.name
    assert remote.translator.length_hints == served.translator.length_hints
    assert remote.voices.describe() == served.voices.describe()
    assert remote.voices.sample_rate == served.voices.sample_rate


def test_clients_send_exactly_what_the_server_declares(remote, loopback):
    """The loopback refuses inputs the models do not declare (names, dtypes, shapes): every
    remote engine's request passes, and each model's required inputs are sent."""
    audio = beeps(SPANS, 5.5)
    remote.recognizer.transcribe(audio)
    remote.recognizer.detect_language(audio)
    remote.translator.translate(["Hello."], num_hypotheses=2, max_syllables=[4])
    synthesize_all(remote.voices.for_pitch(None).synthesizer, "Hola.")
    for model, inputs in loopback.sent:
        assert set(inputs) == set(loopback.models[model].inputs), model


def test_decoding_options_and_language_reach_the_server(remote, served):
    audio = beeps(SPANS, 5.5)
    live = TranscribeOptions(beam_size=1, vad_filter=False, word_timestamps=False)
    segments, info = remote.recognizer.transcribe(audio, language="en", options=live)
    local, _ = RecordingRecognizer(SCRIPT).transcribe(audio)
    assert list(segments) == list(local)
    assert info.duration == pytest.approx(len(audio) / AUDIO_RATE)
    (heard,) = served.recognizer.heard
    assert (heard.language, heard.options, heard.samples) == ("en", live, len(audio))


def test_language_detection_sends_at_most_30_seconds(remote, served):
    assert remote.recognizer.detect_language(np.zeros(31 * AUDIO_RATE, np.float32)) == ("en", 0.75)
    (heard,) = served.recognizer.heard
    assert (heard.task, heard.samples) == ("detect", 30 * AUDIO_RATE)


def test_long_batches_are_split_into_requests_the_server_batches(remote, loopback):
    texts = [f"I have {n} apples." for n in range(2 * MAX_BATCH + 6)]
    results = remote.translator.translate(texts, num_hypotheses=2)
    assert loopback.rows(MT) == [MAX_BATCH, MAX_BATCH, 6]
    assert [t.source for t in results] == texts
    expected = EchoTranslator().translate(texts, num_hypotheses=2)
    assert [t.hypotheses for t in results] == [t.hypotheses for t in expected]


def test_the_remote_voice_speaks_with_the_styles_the_server_has(remote, served):
    voice = remote.voices.for_pitch(None).synthesizer
    plain = synthesize_all(voice, "Buenos días.")
    soft = synthesize_all(voice.with_style("soft"), "Buenos días.")
    fast = synthesize_all(voice, "Buenos días.", rate=2.0)
    assert served.voices.for_pitch(None).synthesizer.switched == ["soft"]
    assert np.abs(soft.samples).max() == pytest.approx(np.abs(plain.samples).max() / 2)
    assert fast.duration == pytest.approx(plain.duration / 2, rel=0.02)
    local = synthesize_all(served.voices.for_pitch(None).synthesizer, "Buenos días.")
    assert np.array_equal(plain.samples, local.samples)
    with pytest.raises(DubberError, match="no style 'shouting'"):
        voice.with_style("shouting")


def test_a_dub_through_the_server_matches_a_local_dub(remote, calibration, tmp_path):
    media = tmp_path / "talk.wav"
    write_wav(media, beeps(SPANS, 5.5), AUDIO_RATE)
    documents = []
    for name, engines in (("remote", remote), ("local", served_engines(calibration, SCRIPT))):
        options = DubOptions(nbest=2)
        requests = plan_dubs([media], tmp_path / name / "talk.es.wav", options, force=False)
        (report,) = dub_files(requests, options, engines, tmp_path / name, silent)
        assert report.outputs.media.is_file()
        documents.append(report.document)
    there, here = documents
    assert there.lines and there.voice == here.voice
    for ours, theirs in zip(there.lines, here.lines, strict=True):
        assert (ours.source, ours.translation, ours.placed_start, ours.placed_end) == (
            theirs.source, theirs.translation, theirs.placed_start, theirs.placed_end,
        )  # fmt: skip


def test_s2st_runs_the_chain_on_the_servers_own_models_and_gives_the_local_result(
    loopback, calibration
):
    import pytriton.client

    audio = beeps(SPANS, 5.5)
    answer = pytriton.client.ModelClient(loopback.URL, S2ST).infer_sample(audio=audio)
    here = translate_speech(audio, served_engines(calibration, SCRIPT))
    texts = json.loads(bytes(answer["texts"][0]).decode())
    assert texts["source"] == [line.source for line in here.lines] and len(here.lines) == 3
    assert texts["translation"] == [line.translation for line in here.lines]
    assert np.array_equal(answer["audio"], here.speech.samples)
    asked = [model for model, _ in loopback.sent]  # connecting may calibrate the voice first
    assert asked[0] == S2ST and asked[asked.index(ASR) :] == [ASR, MT] + [TTS] * len(here.lines)


SERVERS = ("http://127.0.0.1:8000", "http://127.0.0.1:8100")


def test_a_batch_is_spread_over_the_servers_and_survives_losing_one(
    loopback, calibration, tmp_path, caplog
):
    folder = tmp_path / "talks"
    folder.mkdir()
    for number in range(4):
        write_wav(folder / f"talk{number}.wav", beeps(SPANS, 5.5), AUDIO_RATE)
    remote = connect(",".join(SERVERS), EngineChoice(match_voice_to_pitch=False), retry=FAST)
    loopback.kill_after = (SERVERS[0], 8)  # SIGKILL, as it were, after the 8th answer
    options = DubOptions(nbest=2)
    requests = plan_dubs([folder], tmp_path / "remote", options, force=False)
    reports = list(dub_files(requests, options, remote, tmp_path / "work", silent))
    assert len(reports) == 4 and all(r.outputs.media.is_file() for r in reports)
    answered = loopback.answered_by
    assert set(answered[:8]) == set(SERVERS)  # both took requests while both answered
    assert answered[8:] and set(answered[8:]) == {SERVERS[1]}
    assert "does not answer: its requests go to the others" in caplog.text
    local = served_engines(calibration, SCRIPT)
    requests = plan_dubs([folder], tmp_path / "local", options, force=False)
    for theirs, ours in zip(
        reports, dub_files(requests, options, local, tmp_path / "w2", silent), strict=True
    ):
        assert [
            (line.source, line.translation, line.placed_start) for line in theirs.document.lines
        ] == [(line.source, line.translation, line.placed_start) for line in ours.document.lines]
    assert not list(tmp_path.glob("remote/*.tmp*"))  # nothing half-written


def test_a_server_down_at_the_start_is_left_out_and_all_down_is_one_line(loopback, caplog):
    loopback.dead.add(SERVERS[0])
    remote = connect(",".join(SERVERS), EngineChoice(match_voice_to_pitch=False), retry=FAST)
    assert remote.translator.translate(["Hello."])[0].text
    assert set(loopback.answered_by) == {SERVERS[1]}
    assert f"cannot reach dubber server at {SERVERS[0]}" in caplog.text
    loopback.dead.add(SERVERS[1])
    with pytest.raises(DubberError, match="cannot reach dubber server at") as error:
        connect(",".join(SERVERS), retry=FAST)
    assert SERVERS[0] in str(error.value) and SERVERS[1] in str(error.value)


def test_a_refusal_reaches_the_client_as_the_servers_one_line(loopback):
    translator = RemoteTranslator(ServerConnection(loopback.URL, MT, FAST), "x", "en", "fr")
    with pytest.raises(DubberError) as error:
        translator.translate(["Hello."])
    assert str(error.value) == (
        "the dubber server refused the mt request: this server translates into 'es', not 'fr'"
    )
    assert len(loopback.sent) == 1  # a refusal is not retried


def test_transient_failures_are_retried_on_a_fresh_client(remote, loopback, caplog):
    from pytriton.client.exceptions import PyTritonClientQueueFullError

    opened = loopback.opened
    loopback.failures = [PyTritonClientQueueFullError("queue full"), ConnectionResetError()]
    with caplog.at_level("INFO", logger="dubber.engines.remote"):
        (result,) = remote.translator.translate(["Good morning."])
    assert result.hypotheses == EchoTranslator().translate(["Good morning."])[0].hypotheses
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2
    assert loopback.closed == 2 and loopback.opened == opened + 3  # a new client per attempt


def test_a_server_that_stays_away_is_one_line_after_bounded_attempts(remote, loopback):
    from pytriton.client.exceptions import PyTritonClientTimeoutError

    loopback.failures = [PyTritonClientTimeoutError("timed out")] * 10
    with pytest.raises(DubberError) as error:
        remote.translator.translate(["Hello."])
    assert str(error.value).startswith(f"cannot reach dubber server at {loopback.URL}")
    assert len(loopback.failures) == 10 - FAST.attempts


def test_connect_to_a_server_that_is_not_there_is_one_line(loopback):
    loopback.live = False
    with pytest.raises(DubberError) as error:
        connect(loopback.URL, retry=FAST)
    assert str(error.value) == (
        f"cannot reach dubber server at {loopback.URL}: start it with 'dubber serve'"
    )
    assert loopback.sent == []


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (EngineChoice(translator="opusmt"), "runs fake-mt, not opusmt: drop --engine/--mt-model"),
        (EngineChoice(target_language="fr"), "translates en->es, not en->fr"),
        (EngineChoice(voice="espeak"), "runs fake-tts, not espeak: drop --voice"),
    ],
)
def test_what_the_server_cannot_honour_is_refused_not_dropped(loopback, choice, message):
    with pytest.raises(UsageError, match=message):
        connect(loopback.URL, choice, retry=FAST)
    assert {model for model, _ in loopback.sent} == {"info"}
