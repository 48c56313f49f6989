"""Who is the same person: learner records grouped by e-mail and by an admin's decisions.

Plain Python over plain tuples, so the rule is tested without a database:

- Records whose e-mails are equal once trimmed and lower-cased are one person (a record
  without an e-mail matches nobody by e-mail).
- An admin's *link* joins two records whatever their e-mails (a changed e-mail, a typo).
- An admin's *unlink* keeps two records apart although their e-mails are equal. Grouping is
  transitive, so a third record with the same e-mail still joins both: unlink it too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

#: Above this many records sharing one e-mail (a shared mailbox), they are chained instead of
#: paired: an unlink inside such a group may then be bridged by a neighbour.
PAIRWISE_LIMIT = 50

MATCHED_BY_MAIL = "mail"
MATCHED_BY_HAND = "hand"
UNMATCHED = "alone"


def mail_key(mail: str) -> str:
    """The e-mail as matching compares it: trimmed, lower-cased."""
    return mail.strip().lower()


@dataclass(frozen=True, slots=True)
class Record:
    pk: int
    mail: str


@dataclass(frozen=True, slots=True)
class Decision:
    """An admin's word on two records: the same person (``same``) or not."""

    first: int
    second: int
    same: bool


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, pk: int) -> int:
        root = self.parent.setdefault(pk, pk)
        while root != self.parent[root]:
            root = self.parent[root]
        while pk != root:  # path compression
            self.parent[pk], pk = root, self.parent[pk]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def match(records: Iterable[Record], decisions: Iterable[Decision] = ()) -> dict[int, tuple[int, str]]:
    """Each record's group and how it joined it: ``{pk: (smallest pk of its group, how)}``,
    ``how`` being ``MATCHED_BY_MAIL``, ``MATCHED_BY_HAND`` or ``UNMATCHED`` (alone in its group).
    Decisions naming a record not in ``records`` are ignored."""
    records = list(records)
    known = {r.pk for r in records}
    decisions = [d for d in decisions if d.first in known and d.second in known and d.first != d.second]
    apart = {frozenset((d.first, d.second)) for d in decisions if not d.same}
    groups = _Groups()
    for record in records:
        groups.find(record.pk)
    by_mail: dict[str, list[int]] = defaultdict(list)
    for record in records:
        if key := mail_key(record.mail):
            by_mail[key].append(record.pk)
    for members in by_mail.values():
        if len(members) > PAIRWISE_LIMIT:
            pairs: Iterable[tuple[int, int]] = zip(members, members[1:], strict=False)
        else:
            pairs = ((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
        for a, b in pairs:
            if frozenset((a, b)) not in apart:
                groups.union(a, b)
    linked: set[int] = set()
    for d in decisions:
        if d.same:
            groups.union(d.first, d.second)
            linked |= {d.first, d.second}
    sizes: dict[int, int] = defaultdict(int)
    for pk in known:
        sizes[groups.find(pk)] += 1
    result = {}
    for pk in known:
        root = groups.find(pk)
        how = UNMATCHED if sizes[root] == 1 else MATCHED_BY_HAND if pk in linked else MATCHED_BY_MAIL
        result[pk] = (root, how)
    return result
