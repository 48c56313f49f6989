"""The Fake LMS API client: OAuth2 client credentials, then paginated JSON listings.

Plain Python over the shared transport (timeouts, retries, error mapping, address policy);
remote JSON becomes typed records here and fails closed with ``BadResponse``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import requests

from integrations.clients.errors import AuthError
from integrations.clients.parsing import Fields, format_datetime, json_list
from integrations.clients.transport import CredentialsClient, Transport

T = TypeVar("T")


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    lang: str

    @classmethod
    def from_json(cls, data: Any) -> Course:
        f = Fields(data, "Fake LMS course")
        return cls(id=f.string("id"), title=f.string("title"), lang=f.string("lang"))


@dataclass(frozen=True)
class Attempt:
    id: str
    course_id: str
    learner_id: str
    progress: int
    seconds_spent: int
    score: int | None
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_json(cls, data: Any) -> Attempt:
        f = Fields(data, "Fake LMS attempt")
        return cls(
            id=f.string("id"),
            course_id=f.string("courseId"),
            learner_id=f.string("learnerId"),
            progress=f.integer("progress"),
            seconds_spent=f.integer("secondsSpent"),
            score=f.opt_integer("score"),
            started_at=f.opt_date_time("startedAt"),
            completed_at=f.opt_date_time("completedAt"),
        )


class FakeLmsClient(CredentialsClient):
    transport_class = Transport
    name = "Fake LMS"
    provider = "fakelms"

    def _fetch_token(self, client_secret: str) -> tuple[str, float]:
        response = self._transport.request(
            "POST",
            self._transport.url("/oauth/token"),
            idempotent=True,
            json={"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": client_secret},
        )
        return self._token_from(self._transport.decode_json(response), "Fake LMS token", token_type_required=True)

    def _get(self, url: str, params: dict[str, str]) -> requests.Response:
        token = self._tokens.token()
        try:
            return self._transport.request(
                "GET", url, idempotent=True, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except AuthError as exc:
            if exc.status != 401:
                raise
        token = self._tokens.refresh(token)
        return self._transport.request(
            "GET", url, idempotent=True, params=params, headers={"Authorization": f"Bearer {token}"}
        )

    def _paginate(self, path: str, params: dict[str, str], parse: Callable[[Any], T]) -> Iterator[T]:
        url: str | None = self._transport.url(path)
        while url is not None:
            response = self._get(url, params)
            for item in json_list(self._transport.decode_json(response), f"Fake LMS {path}"):
                yield parse(item)
            url, params = self._transport.next_link(response), {}

    def courses(self) -> Iterator[Course]:
        return self._paginate("/courses", {}, Course.from_json)

    def attempts(self, *, completed_since: datetime | None = None) -> Iterator[Attempt]:
        params = {"completedSince": format_datetime(completed_since)} if completed_since else {}
        return self._paginate("/attempts", params, Attempt.from_json)
