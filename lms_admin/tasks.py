"""django-q2 task wrappers: take ids, call one service."""

from __future__ import annotations

from lms_admin import services


def worker_ping_answer(ping_id: int) -> None:
    services.worker_ping_answer(ping_id=ping_id)
