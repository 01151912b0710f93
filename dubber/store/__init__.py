"""The model store: catalogue manifests, PyPI packs, Hub downloads, archive import, conversion."""
