"""`dubber studio`: a local web app over a folder of media to dub, review, post-edit and watch
the real-time demo; every page asset is served from `static/`."""
