"""The matching rule, without a database: e-mails compared trimmed and case-blind, links join,
unlinks part, and a record without an e-mail matches nobody by e-mail."""

from __future__ import annotations

from people.matching import MATCHED_BY_HAND, MATCHED_BY_MAIL, PAIRWISE_LIMIT, UNMATCHED, Decision, Record, match


def _groups(result: dict[int, tuple[int, str]]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for pk, (root, _) in result.items():
        groups.setdefault(root, set()).add(pk)
    return {frozenset(g) for g in groups.values()}


def test_mails_match_trimmed_and_case_blind_and_an_empty_mail_matches_nobody() -> None:
    records = [
        Record(1, "ana@example.com"),
        Record(2, " ANA@Example.com "),
        Record(3, "bo@example.com"),
        Record(4, ""),
        Record(5, "  "),
    ]

    result = match(records)

    assert _groups(result) == {frozenset({1, 2}), frozenset({3}), frozenset({4}), frozenset({5})}
    assert result[1] == (1, MATCHED_BY_MAIL) and result[2] == (1, MATCHED_BY_MAIL)
    assert result[3] == (3, UNMATCHED) and result[4] == (4, UNMATCHED)


def test_a_link_joins_different_mails_and_an_unlink_parts_equal_ones() -> None:
    records = [Record(1, "old@example.com"), Record(2, "new@example.com"), Record(3, "x@e.com"), Record(4, "X@e.com")]

    result = match(records, [Decision(1, 2, same=True), Decision(3, 4, same=False)])

    assert _groups(result) == {frozenset({1, 2}), frozenset({3}), frozenset({4})}
    assert result[2] == (1, MATCHED_BY_HAND)
    assert result[3][1] == result[4][1] == UNMATCHED


def test_decisions_about_unknown_records_are_ignored() -> None:
    result = match([Record(1, "a@e.com")], [Decision(1, 99, same=True), Decision(1, 1, same=True)])

    assert result == {1: (1, UNMATCHED)}


def test_a_shared_mailbox_beyond_the_pairwise_limit_is_still_one_person() -> None:
    records = [Record(pk, "training@example.com") for pk in range(PAIRWISE_LIMIT + 5)]

    assert len(_groups(match(records))) == 1
