"""The rules that turn iSpring Learn module results into 360Learning statistics, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moves.history import NO_TIME_NOTE, ModuleOutcome, course_statistic, proposed_course_name

DAY = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def module(
    status: str, *, progress: float | None = None, seconds: int | None = 60, day: int = 0, done: int | None = None
):
    completion = DAY + timedelta(days=done) if done is not None else None
    return ModuleOutcome(status, progress, seconds, DAY + timedelta(days=day), completion)


def test_every_module_passed_or_complete_is_a_success_at_100_completed_on_the_last_completion() -> None:
    stat = course_statistic(
        [module("complete", day=0, done=2), module("passed", day=1, done=5), module("accepted", day=3, done=4)],
        module_count=3,
    )

    assert stat is not None
    assert (stat.progress, stat.result, stat.time_spent_ms) == (100, "success", 180_000)
    assert stat.first_activity_at == DAY and stat.last_activity_at == DAY + timedelta(days=5)


def test_every_module_finished_with_one_failed_or_declined_is_a_failure_at_100() -> None:
    for unsuccessful in ("failed", "declined"):
        stat = course_statistic([module("complete", done=1), module(unsuccessful, done=2)], module_count=2)

        assert stat is not None and (stat.progress, stat.result) == (100, "failed")


def test_an_unfinished_course_has_the_mean_progress_below_100_and_no_result() -> None:
    stat = course_statistic(
        [module("complete", done=1), module("in_progress", progress=50.4, day=4), module("not_started", day=9)],
        module_count=4,  # one module has no result at all: it counts 0
    )

    assert stat is not None
    assert (stat.progress, stat.result) == (38, "")  # (100 + 50.4 + 0 + 0) / 4
    assert stat.last_activity_at == DAY + timedelta(days=4)  # the not-started module's access is no activity


def test_pending_review_is_not_finished_so_progress_never_reaches_100() -> None:
    stat = course_statistic([module("pending", progress=100.0), module("complete", done=1)], module_count=2)

    assert stat is not None and (stat.progress, stat.result) == (99, "")


def test_a_course_never_started_gives_no_statistic_and_no_time_is_sent_as_1_ms() -> None:
    assert course_statistic([module("not_started"), module("not_started")], module_count=2) is None

    stat = course_statistic([module("in_progress", progress=10, seconds=0)], module_count=1)

    assert stat is not None and stat.time_spent_ms == 1 and stat.note == NO_TIME_NOTE


def test_last_activity_is_never_before_first_activity() -> None:
    stat = course_statistic([module("complete", day=5, done=1)], module_count=1)

    assert stat is not None and stat.last_activity_at == stat.first_activity_at == DAY + timedelta(days=5)


def test_a_course_is_named_after_its_modules_common_title() -> None:
    assert proposed_course_name(["Public speaking – module 1", "Public speaking – module 2"]) == "Public speaking"
    assert proposed_course_name(["Excel avancé – module 1"]) == "Excel avancé"
    assert proposed_course_name(["Safety: Part 1", "Safety: Part 12"]) == "Safety"
    assert proposed_course_name(["Welcome", "Benefits"]) == "Welcome"
    assert proposed_course_name(["Module 1", "Module 2"]) == "Module 1"
    assert proposed_course_name([]) == ""
