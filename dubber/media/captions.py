"""Subtitle cues laid out to broadcast norms: at most two lines of 42 characters, 1 to 7 seconds
on screen, a reading speed a viewer can follow (17 characters a second for Spanish, 20 for
English, where the timing allows), a long sentence split at its clause boundaries and timed from
its words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dubber.media.subtitles import Cue

READING_SPEED = {"en": 20.0, "es": 17.0}  # characters a second, as broadcasters set them
CLAUSE_ENDS = (",", ";", ":", ".", "?", "!", "…")


@dataclass(frozen=True, kw_only=True)
class CueRules:
    """The norms a subtitle cue keeps."""

    max_line_chars: int = 42
    max_lines: int = 2
    min_seconds: float = 1.0
    max_seconds: float = 7.0

    @property
    def max_chars(self) -> int:
        return self.max_line_chars * self.max_lines


def reading_speed(language: str) -> float:
    """The characters a second a viewer reads in `language` (Spanish's when unknown)."""
    return READING_SPEED.get(language, READING_SPEED["es"])


Timed = tuple[str, float, float]  # a word and when it is said


def layout(
    text: str,
    start: float,
    end: float,
    *,
    words: Sequence[Timed] = (),
    rules: CueRules = CueRules(),
) -> list[Cue]:
    """`text`, said from `start` to `end`, as cues within the norms: split where it is too long
    to read in one (at a clause end where there is one), each part timed from `words` when they
    are the text's words, else in proportion to its characters; lines wrapped to fit."""
    tokens = text.split()
    if not tokens:
        return []
    if [w for w, _, _ in words] != tokens:
        words = _spread(tokens, start, end)
    cues, first = [], 0
    while first < len(tokens):
        last = _chunk_end(words, first, rules)
        part = words[first : last + 1]
        cue_start = start if first == 0 else max(start, part[0][1])
        cue_end = end if last == len(tokens) - 1 else min(end, words[last + 1][1])
        cues.append(
            Cue(cue_start, max(cue_end, cue_start), wrap(" ".join(w for w, _, _ in part), rules))
        )
        first = last + 1
    return cues


def _spread(tokens: Sequence[str], start: float, end: float) -> list[Timed]:
    """Times for words said evenly, character by character, over `start`..`end`."""
    total = sum(len(token) + 1 for token in tokens)
    timed, done = [], 0
    for token in tokens:
        begin = start + (end - start) * done / total
        done += len(token) + 1
        timed.append((token, begin, start + (end - start) * done / total))
    return timed


def _chunk_end(words: Sequence[Timed], first: int, rules: CueRules) -> int:
    """The last word of the cue that starts at `first`. Of the ends that fit the cue's lines
    and seconds: the end of the text, else the clause end nearest to an even share of the rest,
    else the word nearest to it."""
    remaining = len(" ".join(w for w, _, _ in words[first:]))
    target = remaining / math.ceil(remaining / rules.max_chars)
    fitting = [first]
    for index in range(first + 1, len(words)):
        text = " ".join(w for w, _, _ in words[first : index + 1])
        if not wraps(text, rules) or words[index][2] - words[first][1] > rules.max_seconds:
            break
        fitting.append(index)
    if fitting[-1] == len(words) - 1:
        return fitting[-1]

    def distance(index: int) -> float:
        return abs(len(" ".join(w for w, _, _ in words[first : index + 1])) - target)

    clause_ends = [i for i in fitting if words[i][0].endswith(CLAUSE_ENDS)]
    usable = [i for i in clause_ends if distance(i) <= target / 2]
    return min(usable or fitting, key=distance)


def wraps(text: str, rules: CueRules) -> bool:
    """Whether `text` goes into the cue's lines."""
    lines = wrap(text, rules).splitlines()
    return len(lines) <= rules.max_lines and all(
        len(line) <= rules.max_line_chars for line in lines
    )


def wrap(text: str, rules: CueRules = CueRules()) -> str:
    """`text` on one line when it fits, else broken into two at the space that balances them
    best (a clause end wins when nearly as balanced)."""
    if len(text) <= rules.max_line_chars:
        return text
    spaces = [i for i, char in enumerate(text) if char == " "]
    if not spaces:
        return text

    def cost(space: int) -> float:
        longest = max(space, len(text) - space - 1)
        return longest - (4 if text[space - 1] in CLAUSE_ENDS else 0)

    space = min(spaces, key=cost)
    return f"{text[:space]}\n{text[space + 1 :]}"


def settle(
    cues: Sequence[Cue], language: str, limit: float, rules: CueRules = CueRules()
) -> list[Cue]:
    """Cues (in order) kept on screen long enough to be read: each ends no sooner than its
    reading time and `rules.min_seconds` allow, and no later than the next cue, `limit` (the end
    of the media) or `rules.max_seconds`."""
    settled = []
    for number, cue in enumerate(cues):
        following = cues[number + 1] if number + 1 < len(cues) else None
        bound = min(following.start if following else limit, cue.start + rules.max_seconds)
        reading = len(cue.text.replace("\n", " ")) / reading_speed(language)
        wanted = max(cue.end, cue.start + rules.min_seconds, cue.start + reading)
        settled.append(Cue(cue.start, max(cue.start, min(wanted, bound)), cue.text))
    return settled


def rooms(cues: Sequence[Cue], limit: float, rules: CueRules = CueRules()) -> list[float]:
    """The seconds each cue (in order) could stay on screen: until the next cue, `limit` (the
    end of the media) or `rules.max_seconds`, whichever comes first."""
    ends = [following.start for following in cues[1:]] + [limit] * bool(cues)
    pairs = zip(cues, ends, strict=True)
    return [min(end, cue.start + rules.max_seconds) - cue.start for cue, end in pairs]


def problems(
    cue: Cue, language: str, rules: CueRules = CueRules(), room: float | None = None
) -> list[str]:
    """The norms `cue` breaks: too many or too long lines, too short or long on screen, too
    fast to read. Given its `room` (see `rooms`), a cue that takes all of it breaks neither the
    minimum duration nor the reading speed: the timing does not allow them."""
    lines = cue.text.splitlines()
    seconds = cue.end - cue.start
    cramped = room is not None and seconds >= room - 1e-3
    found = []
    if len(lines) > rules.max_lines:
        found.append("lines")
    if any(len(line) > rules.max_line_chars for line in lines):
        found.append("line length")
    if seconds > rules.max_seconds + 1e-3 or (seconds < rules.min_seconds - 1e-3 and not cramped):
        found.append("duration")
    too_fast = seconds > 0 and len(" ".join(lines)) / seconds > reading_speed(language) + 1e-6
    if too_fast and not cramped:
        found.append("reading speed")
    return found
