"""Speech engines behind three small protocols: Recognizer, Translator, Synthesizer."""
