from datetime import timedelta

from django.template import Context, Template
from django.utils import timezone

from lms_admin.templatetags.time_words import ago, span_in_words, took


def test_spans_under_a_minute_read_in_seconds():
    assert span_in_words(0) == "under a second"
    assert span_in_words(0.4) == "under a second"
    assert span_in_words(1) == "1 second"
    assert span_in_words(42.7) == "42 seconds"
    assert span_in_words(60) == "1\xa0minute"
    assert span_in_words(3 * 3600 + 5 * 60) == "3\xa0hours, 5\xa0minutes"


def test_took_and_ago():
    start = timezone.now() - timedelta(seconds=30)
    assert took(start + timedelta(seconds=12), start) == "12 seconds"
    assert took(None, start) == ""
    assert ago(start) == "30 seconds ago"
    assert ago(timezone.now()) == "just now"


def test_the_filters_are_builtins_of_every_template():
    start = timezone.now() - timedelta(seconds=5)
    html = Template("took {{ end|took:start }}").render(Context({"start": start, "end": start + timedelta(seconds=5)}))
    assert html == "took 5 seconds"
