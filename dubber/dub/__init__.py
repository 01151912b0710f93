"""File dubbing: the dub document, output planning, the work folder and the per-file job."""
