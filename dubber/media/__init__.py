"""Media at the edges: ffmpeg, probing, decoding, signal processing, mixing, muxing, subtitles."""
