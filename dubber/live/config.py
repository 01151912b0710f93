"""The settings of a live session: endpointing, streaming, catch-up and back-pressure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class LiveConfig:
    """Endpointing, streaming, catch-up, echo and back-pressure settings."""

    pause_ms: int = 300  # silence that ends an utterance
    speculate_ms: int = 96  # silence after which ASR starts on the utterance, ahead of its end
    max_utterance_s: float = 12.0  # longer speech is cut at its quietest frame
    min_speech_ms: int = 250  # shorter bursts are ignored
    pad_ms: int = 160  # audio kept before the detected start of speech
    threshold: float = 0.5  # Silero speech probability that starts speech
    partial_every_s: float = 1.0  # re-transcribe a growing utterance this often
    partial_soon_s: float = 0.5  # ... or this soon when a sentence end waits for agreement
    # A partial pass's encoder sees the utterance and this much padding, not Whisper's 30-s
    # window, and it is decoded once (no temperature fallback), at most `partial_tokens_per_s`
    # tokens a second of audio: a third of the cost, bounded, so a final pass waits less behind
    # one (measured in BENCHMARKS.md; None: the whole window).
    partial_padding_s: float | None = 6.0
    partial_tokens_per_s: float = 6.0
    # Agreed words are spoken at a sentence end or, when set, at a clause end (, ; :) after this
    # many words. Measured with 6 (BENCHMARKS.md): p95 and lag better, p50 worse; 0: sentences.
    clause_words: int = 0
    queue_size: int = 4  # bound of every queue between stages
    beam_size: int = 1  # Whisper's and OPUS-MT's beams: greedy decoding for latency
    first_piece_chars: int = 30  # speech starts after this much text (a clause) is synthesised
    vad_reset_ms: int = 800  # Silero's state is reset after this much non-speech
    # Catching up when the Spanish falls behind the speaker, instead of dropping lines:
    target_lag_s: float = 1.0  # a line starting later than this after its speech is sped up
    catch_up_s: float = 1.5  # ... enough to be back on time over about this long (measured)
    max_rate: float = 1.3  # the voice's own speed-up, first
    max_stretch: float = 1.25  # then time-stretch, pitch kept
    lag_bound_s: float = 4.0  # a line's Spanish should end within this after its English
    max_lag_s: float = 8.0  # a line that would still start later than this is not spoken
    duplex: bool = False  # True: speakers and microphone do not hear each other (headphones)
    echo_hangover_ms: int = 300  # input stays muted this long after the speakers stop
