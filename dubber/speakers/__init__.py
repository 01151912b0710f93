"""Offline speaker diarization: a numpy GE2E speaker encoder, clustering and speaker turns."""
