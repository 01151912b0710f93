"""Speed on the user's hardware: every stage, the whole dub and live latency (`dubber bench`)."""
