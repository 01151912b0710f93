"""Tests of the speaker encoder, clustering and diarization."""
