"""LocalAgreement-2: the words two consecutive passes agree on are committed, sentence by
sentence."""

from __future__ import annotations

from dubber.engines.types import Word
from dubber.live.agreement import LocalAgreement


def test_a_heard_sentence_end_is_pending_until_a_word_after_it_is_agreed_on():
    agreement = LocalAgreement()
    agreement.update([Word("Two", 0.1, 0.3), Word("men", 0.3, 0.5)])
    assert not agreement.sentence_pending()
    words = ("Two", "men", "shook", "hands.", "I", "think")
    for count in (4, 5):  # heard, then agreed on: a word after it must be agreed on too
        assert not agreement.update([Word(w, 0.0, 0.1) for w in words[:count]])
        assert agreement.sentence_pending()
    spoken = agreement.update([Word(w, 0.0, 0.1) for w in words])
    assert [w.text for w in spoken] == ["Two", "men", "shook", "hands."]
    assert not agreement.sentence_pending()


def test_the_final_pass_gives_only_the_words_not_spoken_yet():
    agreement = LocalAgreement()
    words = [Word(w, 0.0, 0.1) for w in ("Two", "men", "shook", "hands.", "I", "think")]
    agreement.update(words)
    assert [w.text for w in agreement.update(words)] == ["Two", "men", "shook", "hands."]
    final = [Word(w, 0.0, 0.1) for w in ("two", "men", "shook", "hands.", "I", "think", "so.")]
    assert [w.text for w in agreement.rest(final)] == ["I", "think", "so."]


def test_a_long_enough_clause_is_spoken_before_its_sentence_ends():
    words = ("When", "the", "council", "met", "on", "Monday,", "it", "approved")
    passes = [[Word(w, 0.0, 0.1) for w in words[:count]] for count in (7, 8)]
    clauses = LocalAgreement(clause_words=6)
    sentences = LocalAgreement()
    assert not clauses.update(passes[0]) and not sentences.update(passes[0])
    assert [w.text for w in clauses.update(passes[1])] == list(words[:6])
    assert sentences.update(passes[1]) == []  # no sentence end agreed yet
    short = LocalAgreement(clause_words=6)
    brief = [Word(w, 0.0, 0.1) for w in ("Well,", "the", "council", "met")]
    short.update(brief)
    assert short.update(brief) == []  # "Well," is too short a clause to speak alone
