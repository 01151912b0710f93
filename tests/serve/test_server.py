"""`dubber serve` (Triton through PyTriton) and the remote engines, against a real server."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.cli import one_line_error, run_dubber

pytestmark = pytest.mark.slow

pytest.importorskip("pytriton", reason="needs the 'serve' extra: pip install 'dubber[serve]'")

from pytriton.client import ModelClient  # noqa: E402
from pytriton.client.exceptions import PyTritonClientInferenceServerError  # noqa: E402

from dubber.chain.s2st import translate_speech  # noqa: E402
from dubber.dub.job import DubJob, DubOptions  # noqa: E402
from dubber.dub.outputs import OutputPaths  # noqa: E402
from dubber.engines.apertium import ApertiumTranslator  # noqa: E402
from dubber.engines.bundle import EngineChoice, Engines  # noqa: E402
from dubber.engines.protocols import synthesize_all  # noqa: E402
from dubber.engines.remote import (  # noqa: E402
    RemoteTranslator,
    RetryPolicy,
    ServerConnection,
    connect,
)
from dubber.engines.types import TranscribeOptions  # noqa: E402
from dubber.engines.voice import Voice  # noqa: E402
from dubber.engines.wire import MAX_AUDIO_SECONDS, MAX_TEXT_BYTES, READY_PATH  # noqa: E402
from dubber.errors import DubberError, UsageError  # noqa: E402
from dubber.media.decode import decode_audio  # noqa: E402
from dubber.media.probe import probe  # noqa: E402
from dubber.serve.processes import descendants  # noqa: E402
from dubber.serve.server import free_ports  # noqa: E402
from tests.helpers.models import engines as loaded_engines  # noqa: E402

# The fastest recogniser installed here, and the offline voice with male and female styles.
ASR_MODEL, VOICE = "whisper-tiny.en", "kokoro-82m-offline"
MALE, FEMALE = Voice(VOICE, "jm_kumo"), Voice(VOICE, "jf_alpha")
CLIP = "ljspeech_LJ001-0007.wav"
SENTENCES = ["The weather is nice today.", "Where is the train station?"]
START_TIMEOUT = 180


def pid_of(path: Path) -> int:
    return int(path.name)


class Server:
    """A `dubber serve` process on free loopback ports."""

    def __init__(self, log: Path) -> None:
        self.http, self.grpc, self.metrics = free_ports(3)
        self.url = f"http://127.0.0.1:{self.http}"
        command = [sys.executable, "-m", "dubber", "serve", "--asr", ASR_MODEL, "--mt"]
        command += ["apertium", "--tts", VOICE, "--threads", "2"]
        command += ["--http-port", str(self.http), "--grpc-port", str(self.grpc)]
        command += ["--metrics-port", str(self.metrics)]
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dubber serve exited:\n{self.log.read_text()[-3000:]}")
            if http_status(f"{self.url}{READY_PATH}") == 200:
                return
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"dubber serve was not ready in {START_TIMEOUT} s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    running = Server(tmp_path_factory.mktemp("serve") / "serve.log")
    running.wait_ready()
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="module")
def local() -> Engines:
    choice = EngineChoice(
        asr_model=ASR_MODEL, translator="apertium", voice=VOICE, match_voice_to_pitch=False
    )
    return loaded_engines(choice)


@pytest.fixture(scope="module")
def remote(server) -> Engines:
    return connect(server.url, EngineChoice(match_voice_to_pitch=False))


@pytest.fixture(scope="module")
def speech(shared_data) -> np.ndarray:
    return decode_audio(shared_data / "asr" / CLIP)


def test_remote_engines_describe_the_served_ones(remote):
    assert remote.asr_model == ASR_MODEL and remote.mt_model == "apertium"
    assert remote.translator.name == ApertiumTranslator().name
    assert remote.voices.describe() == str(MALE)


def test_decoding_options_travel_to_the_server(remote, local, speech):
    """Live mode decodes each pass greedily, without VAD and without word timings: a remote
    recogniser forwards those options instead of decoding with the server's defaults."""
    live = TranscribeOptions(beam_size=1, vad_filter=False, word_timestamps=False)
    there = list(remote.recognizer.transcribe(speech, language="en", options=live)[0])
    here = list(local.recognizer.transcribe(speech, language="en", options=live)[0])
    assert [s.text for s in there] == [s.text for s in here]
    assert there and not any(s.words for s in there)
    timed = list(remote.recognizer.transcribe(speech, language="en")[0])
    assert any(s.words for s in timed)


def test_what_the_server_cannot_honour_is_refused_not_dropped(server):
    refused = {
        "--asr-model": EngineChoice(asr_model="whisper-base"),
        "--engine/--mt-model": EngineChoice(translator="opusmt"),
        "--voice": EngineChoice(voice="piper-en_US-joe-medium"),
    }
    for option, choice in refused.items():
        with pytest.raises(UsageError, match=f"runs .*drop {option}"):
            connect(server.url, choice)
    same = connect(server.url, EngineChoice(asr_model="tiny.en", voice=str(FEMALE)))
    assert same.asr_model == ASR_MODEL and same.voices.describe() == str(FEMALE)


def test_voices_follow_the_speakers_pitch_through_the_server(server, shared_data):
    paired = connect(server.url, EngineChoice(match_voice_to_pitch=True))
    assert paired.voices.describe() == f"female={FEMALE},male={MALE}"
    man, woman = "librispeech_1089-134691-0000.wav", "ljspeech_LJ001-0007.wav"
    audio = np.concatenate([decode_audio(shared_data / "asr" / n) for n in (man, woman, man)])
    result = translate_speech(audio, paired)
    voices = [line.voice for line in result.lines]
    assert voices[0] == voices[-1] == MALE and FEMALE in voices


def test_asr_gives_the_local_transcript(remote, local, speech):
    there, info = remote.recognizer.transcribe(speech, language="en")
    here, _ = local.recognizer.transcribe(speech, language="en")
    there, here = list(there), list(here)
    assert [s.text for s in there] == [s.text for s in here]
    assert [w.text for s in there for w in s.words] == [w.text for s in here for w in s.words]
    assert "printed with movable types" in " ".join(s.text for s in there).lower()
    assert info.duration == pytest.approx(len(speech) / 16000, abs=0.01)


def test_mt_gives_the_local_translations(remote, local):
    there = remote.translator.translate(SENTENCES, num_hypotheses=2)
    here = local.translator.translate(SENTENCES, num_hypotheses=2)
    assert [t.source for t in there] == SENTENCES
    assert [t.hypotheses for t in there] == [t.hypotheses for t in here]
    assert all(t.text for t in there)


def test_mt_splits_long_batches_across_requests(remote):
    texts = [f"I have {n} apples." for n in range(70)]
    results = remote.translator.translate(texts)
    assert [t.source for t in results] == texts
    assert all(str(n) in t.text for n, t in zip(range(70), results, strict=True))


def test_tts_speaks_and_honours_the_rate(remote, local):
    synthesizer = remote.voices.for_pitch(None).synthesizer
    normal = synthesize_all(synthesizer, "Hola, ¿cómo estás hoy?")
    fast = synthesize_all(synthesizer, "Hola, ¿cómo estás hoy?", rate=1.5)
    here = synthesize_all(local.voices.for_pitch(None).synthesizer, "Hola, ¿cómo estás hoy?")
    assert normal.sample_rate == here.sample_rate == synthesizer.sample_rate
    assert normal.samples.dtype == np.float32 and np.abs(normal.samples).max() > 0.05
    assert normal.duration == pytest.approx(here.duration, rel=0.15)
    assert fast.duration < 0.85 * normal.duration


def test_s2st_is_the_chain_dub_uses(server, local, speech):
    """The server's s2st groups sentences and translates and speaks them as a local run of the
    shared chain does."""
    with ModelClient(server.url, "s2st") as client:
        answer = client.infer_sample(audio=speech)
    texts = json.loads(bytes(answer["texts"][0]).decode())
    here = translate_speech(speech, local)
    assert texts["source"] == [line.source for line in here.lines]
    assert texts["translation"] == [line.translation for line in here.lines]
    rate = int(answer["sample_rate"][0])
    assert answer["audio"].dtype == np.float32 and len(answer["audio"]) / rate > 1.0


def test_dub_through_the_server_matches_the_local_dub(remote, local, shared_data, tmp_path):
    media = shared_data / "asr" / CLIP
    documents = []
    for name, engines in (("remote", remote), ("local", local)):
        out = tmp_path / name / "clip.es.wav"
        out.parent.mkdir()
        outputs = OutputPaths.beside(out, "en", "es")
        job = DubJob(engines, DubOptions(), probe(media), outputs, tmp_path / name, lambda *_: 0)
        documents.append(job.run().document)
        assert out.is_file()
    there, here = documents
    assert [u.source for u in there.lines] == [u.source for u in here.lines]
    assert [u.translation for u in there.lines] == [u.translation for u in here.lines]
    assert there.lines


BAD_REQUESTS = {
    "empty audio": ("asr", {"audio": np.zeros(0, np.float32)}, "audio is empty"),
    "wrong dtype": ("asr", {"audio": np.zeros(16000, np.float64)}, "FP32"),
    "wrong shape": ("s2st", {"audio": np.zeros((2, 8000), np.float32)}, "shape"),
    "audio too long": (
        "s2st",
        {"audio": np.zeros(MAX_AUDIO_SECONDS * 16000 + 1, np.float32)},
        "longer than",
    ),
    "text too long": ("mt", {"text": np.array([[b"a" * (MAX_TEXT_BYTES + 1)]])}, "limit"),
    "invalid UTF-8": ("mt", {"text": np.array([[b"caf\xe9"]])}, "not valid UTF-8"),
    "unknown language": (
        "mt",
        {"text": np.array([[b"Hello."]]), "target_language": np.array([[b"xx"]])},
        "not 'xx'",
    ),
    "rate out of range": (
        "tts",
        {"text": np.array([[b"Hola."]]), "rate": np.array([[9.0]], np.float32)},
        "rate must be",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_request_is_refused_and_the_server_keeps_serving(server, case):
    model, inputs, message = BAD_REQUESTS[case]
    batched = model in ("mt", "tts")
    with (
        ModelClient(server.url, model) as client,
        pytest.raises(PyTritonClientInferenceServerError, match=message),
    ):
        (client.infer_batch if batched else client.infer_sample)(**inputs)
    with ModelClient(server.url, "mt") as client:
        answer = client.infer_batch(text=np.array([[b"Good morning."]]))
    assert b"Buenos d" in bytes(answer["translations"][0, 0])


def test_refusal_reaches_the_client_as_one_line(server):
    connection = ServerConnection(server.url, "mt", RetryPolicy())
    translator = RemoteTranslator(connection, "apertium", "en", "fr")
    with pytest.raises(DubberError, match=r"refused the mt request: .*not 'fr'$") as error:
        translator.translate(["Hello."])
    assert "\n" not in str(error.value)


def test_unreachable_server_is_one_clear_line():
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    with pytest.raises(DubberError) as error:
        connect(url)
    assert str(error.value) == f"cannot reach dubber server at {url}: start it with 'dubber serve'"


def test_transient_failures_are_retried_a_bounded_number_of_times(caplog):
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    retry = RetryPolicy(attempts=3, first_delay=0.01, connect_timeout=0.2)
    translator = RemoteTranslator(ServerConnection(url, "mt", retry), "apertium", "en", "es")
    logged = caplog.at_level("INFO", logger="dubber.engines.remote")
    with logged, pytest.raises(DubberError) as error:
        translator.translate(["Hello."])
    assert str(error.value).startswith(f"cannot reach dubber server at {url}")
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2


def test_serve_refuses_a_busy_port_before_loading_models():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = run_dubber("serve", "--http-port", port, "--grpc-port", "1", "--metrics-port", "2")
    one_line_error(result, f"127.0.0.1:{port}", "choose another --http-port")


def test_health_and_prometheus_metrics(server, remote):
    remote.translator.translate(["Thank you."])
    assert http_status(f"{server.url}/v2/health/live") == 200
    assert http_status(f"{server.url}/v2/models/mt/ready") == 200
    metrics = f"http://127.0.0.1:{server.metrics}/metrics"
    with urllib.request.urlopen(metrics, timeout=5) as response:
        text = response.read().decode()
    assert 'nv_inference_request_success{model="mt"' in text
    assert 'nv_inference_request_failure{model="mt"' in text
    # its load, per model: the requests waiting (a client spreading work over servers reads it)
    assert 'nv_inference_pending_request_count{model="asr"' in text


def test_dub_command_runs_through_the_server(server, shared_data, tmp_path):
    out = tmp_path / "clip.es.wav"
    done = run_dubber(
        "dub", str(shared_data / "asr" / CLIP), "--server", server.url, "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file() and (tmp_path / "clip.dub.json").is_file()


def test_dub_command_with_an_unreachable_server_is_one_line(shared_data, tmp_path):
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    done = run_dubber(
        "dub", str(shared_data / "asr" / CLIP), "--server", url, "-o", str(tmp_path / "x.wav")
    )
    one_line_error(done, "cannot reach dubber server")
    assert list(tmp_path.iterdir()) == []


def test_live_command_runs_through_the_server(server, shared_data, tmp_path):
    out, stats = tmp_path / "live.es.wav", tmp_path / "stats.json"
    done = run_dubber(
        "live", "--input", str(shared_data / "asr" / CLIP), "--speed", "2", "--server", server.url,
        "--output", str(out), "--stats", str(stats),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.is_file() and json.loads(stats.read_text())["lines"]


def test_dub_command_refuses_a_voice_the_server_does_not_run(server, shared_data, tmp_path):
    done = run_dubber(
        "dub", str(shared_data / "asr" / CLIP), "--server", server.url, "-o",
        str(tmp_path / "x.wav"), "--voice", "piper-en_US-joe-medium",
    )  # fmt: skip
    one_line_error(done, "runs kokoro-82m-offline", "drop --voice", exit_code=2)
    assert list(tmp_path.iterdir()) == []


def triton_counters(server: Server, model: str) -> tuple[float, float]:
    """Requests `model` answered and the times it ran (Triton's Prometheus counters)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics}/metrics", timeout=5) as page:
        text = page.read().decode()

    def counter(name: str) -> float:
        prefix = f'{name}{{model="{model}"'
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(prefix))  # fmt: skip

    return counter("nv_inference_request_success"), counter("nv_inference_exec_count")


def test_s2st_requests_of_several_clients_share_the_stages_batches(server, shared_data):
    """Clients' s2st requests at once: the tts model runs fewer times than it is asked. Each
    s2st request asks for one line at a time, so a run of several requests holds lines of
    different clients; and each client gets the answer to its own clip."""
    clips = sorted((shared_data / "asr").glob("*.wav"), key=lambda p: -p.stat().st_size)[:6]
    audio = [decode_audio(path) for path in clips]
    asked, ran = triton_counters(server, "tts")
    start = threading.Barrier(len(audio))

    def ask(samples: np.ndarray) -> list[str]:
        with ModelClient(server.url, "s2st", inference_timeout_s=300) as client:
            start.wait()
            answer = client.infer_sample(audio=samples)
        return json.loads(bytes(answer["texts"][0]).decode())["source"]

    with ThreadPoolExecutor(len(audio)) as pool:
        sources = list(pool.map(ask, audio))
    now_asked, now_ran = triton_counters(server, "tts")
    lines = sum(len(source) for source in sources)
    assert now_asked - asked == lines > len(audio)  # every line of every client spoken
    assert now_ran - ran < lines
    with ModelClient(server.url, "s2st") as client:  # the same answer as a client alone gets
        alone = client.infer_sample(audio=audio[0])
    assert json.loads(bytes(alone["texts"][0]).decode())["source"] == sources[0]
    assert len({" ".join(source) for source in sources}) == len(audio)


def test_sigterm_stops_everything(server):
    """Runs last in this module: the server shuts down gracefully and leaves nothing behind."""
    spawned = descendants(server.process.pid)
    assert any("tritonserver" in process.command for process in spawned)
    assert server.stop() == 0
    deadline = time.monotonic() + 30  # the server waits for them; only zombies may linger
    while any(process.running() for process in spawned) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [process for process in spawned if process.running()]
    assert http_status(f"{server.url}/v2/health/live") is None
