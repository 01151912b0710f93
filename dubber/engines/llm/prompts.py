"""The ChatML prompts of the LLM translator: a system turn and one worked example shared by every
text (the static prefix a runtime forwards once), then the text's own user turn."""

from __future__ import annotations

from dataclasses import dataclass

from dubber.text import syllables

START, END = "<|im_start|>", "<|im_end|>"
LANGUAGES = {"en": "English", "es": "Spanish"}  # the languages dubber speaks and hears

# The worked example: an English sentence with names, a date and a number, and per target
# language its translation and a shorter version of it (another target language adds its own).
_SHOT = (
    "On 12 March 2019, Dr. Sarah Miller told reporters in Geneva that 1,500 volunteers had"
    " joined the project."
)
_SHOTS = {
    "es": (
        "El 12 de marzo de 2019, la Dra. Sarah Miller dijo a los periodistas en Ginebra que 1500"
        " voluntarios se habían unido al proyecto.",
        "El 12 de marzo de 2019, la Dra. Sarah Miller contó en Ginebra que 1500 voluntarios se"
        " sumaron al proyecto.",
    ),
}


@dataclass(frozen=True)
class Prompt:
    """A ChatML conversation whose system turn and example exchange are shared (the static
    prefix) and whose last user turn is filled in per text."""

    static: str
    user: str  # with {source}, and optionally {translation} and {syllables}

    @classmethod
    def build(cls, system: str, user: str, example: dict[str, str], answer: str) -> Prompt:
        static = f"{START}system\n{system}{END}\n{_turn(user.format(**example), answer)}"
        return cls(static, user)

    def turn(self, **fields: object) -> str:
        return f"{START}user\n{self.user.format(**fields)}{END}\n{START}assistant\n"


def _turn(user: str, answer: str) -> str:
    return f"{START}user\n{user}{END}\n{START}assistant\n{answer}{END}\n"


def prompts(source: str, target: str) -> tuple[Prompt, Prompt]:
    """The translation prompt and the shortening prompt for a language pair."""
    src, tgt = LANGUAGES[source], LANGUAGES[target]
    translation, shorter = _SHOTS[target]
    translate = Prompt.build(
        f"You are a professional {src}-to-{tgt} translator. Translate the {src} text the user"
        f" gives you into natural, fluent {tgt}. Translate faithfully and completely: do not add,"
        " omit or explain anything. Keep names, numbers and dates exactly as in the source."
        f" Reply with the {tgt} translation only: no commentary, no notes, no quotation marks,"
        f" and no {src} left untranslated.",
        f"Translate into {tgt}:\n{{source}}",
        {"source": _SHOT},
        translation,
    )
    shorten = Prompt.build(
        f"You edit {tgt} dubbing scripts. The user gives you an {src} sentence and its {tgt}"
        f" translation. Shorten the {tgt} sentence so that it can be spoken in less time: use"
        " fewer and shorter words, and drop only minor details. Keep every name, number and date"
        f" and keep the meaning. Reply with the shortened {tgt} sentence only.",
        f"{src}: {{source}}\n{tgt}: {{translation}}\n"
        f"Shorten this {tgt} sentence to about {{syllables}} syllables, keeping names, numbers"
        " and meaning.",
        {"source": _SHOT, "translation": translation, "syllables": str(syllables(shorter))},
        shorter,
    )
    return translate, shorten


TARGETS = tuple(_SHOTS)  # the languages the prompts translate English into
