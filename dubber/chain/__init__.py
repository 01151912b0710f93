"""The speech-translation chain every command shares: lines, grouping, translation, speech, fit."""
