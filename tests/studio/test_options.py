"""The dub form's voices as people read them: language, female/male, native or accented,
neural or not, and which voice "best installed" means."""

from __future__ import annotations

from dubber.engines.choose import choose_voice
from dubber.store.store import Store
from dubber.studio.options import voice_label, voice_menu


def test_a_voice_label_says_language_gender_accent_and_kind():
    store = Store()
    pico = voice_label(store, "pico-es_ES:male", "es")
    assert pico.startswith("Spanish, male, native, not neural") and "Pico" in pico
    kokoro = voice_label(store, "kokoro-82m-offline:jf_alpha", "es")
    assert kokoro.startswith("Spanish, female, accented, neural") and "jf_alpha" in kokoro
    assert "female or male by pitch" in voice_label(store, "pico-es_ES", "es")
    assert voice_label(store, "espeak", "es").startswith("Spanish, robotic, not neural")


def test_the_menu_names_the_best_installed_voice_and_labels_every_one():
    store = Store()
    best, _ = choose_voice(store, "es")
    first, *others = voice_menu(store, "es")
    assert first["id"] == "" and voice_label(store, str(best), "es") in first["label"]
    assert others[-1]["id"] == "espeak"
    assert all(entry["label"] and entry["label"] != entry["id"] for entry in others)
