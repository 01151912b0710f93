"""Live speech-to-speech translation: sources, endpointing, agreement, the session, sinks, stats."""
