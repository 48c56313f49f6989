"""The form a reader follows path sessions and courses by e-mail digest with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from reports.digests.schedule import UNKNOWN_TIME_ZONE, WEEKDAYS, time_zone_names
from reports.digests.subscriptions import NO_MAIL_ADDRESS, NOTHING_TO_FOLLOW, DigestData
from reports.models import DigestSubscription


class SessionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        end = f" – {obj.end_date:%Y-%m-%d}" if obj.end_date else ""
        return f"{obj.name} ({obj.start_date:%Y-%m-%d}{end}, {obj.connection.name})"


class CourseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.connection.name})"


class DigestForm(forms.Form):
    sessions = SessionChoiceField(
        queryset=None,
        required=False,
        label="Path sessions",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Newly late, completed, to retake and unsuccessful learners. Hold Ctrl (⌘) to choose several.",
    )
    courses = CourseChoiceField(
        queryset=None,
        required=False,
        label="Courses",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Learners who newly completed an attempt.",
    )
    frequency = forms.ChoiceField(choices=DigestSubscription.Frequency.choices, widget=forms.RadioSelect)
    weekday = forms.TypedChoiceField(
        label="Day (weekly digests)", coerce=int, choices=list(enumerate(WEEKDAYS)), initial=0
    )
    send_at = forms.TimeField(label="Time of day", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    time_zone = forms.ChoiceField(label="Time zone")

    def __init__(self, *args: Any, user, sessions, courses, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "frequency": "daily",
            "send_at": "08:00",
            "time_zone": settings.TIME_ZONE,
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["sessions"].queryset = sessions
        self.fields["courses"].queryset = courses
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in time_zone_names()]
        self.fields["time_zone"].error_messages["invalid_choice"] = UNKNOWN_TIME_ZONE.format(value="%(value)s")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.user.email:
            raise forms.ValidationError(NO_MAIL_ADDRESS)
        if "sessions" in data and "courses" in data and not data["sessions"] and not data["courses"]:
            raise forms.ValidationError(NOTHING_TO_FOLLOW)
        return data

    def digest_data(self) -> DigestData:
        d = self.cleaned_data
        return DigestData(
            sessions=list(d["sessions"]),
            courses=list(d["courses"]),
            frequency=d["frequency"],
            weekday=d["weekday"],
            send_at=d["send_at"],
            time_zone=d["time_zone"],
        )

    @classmethod
    def initial_from(cls, subscription: DigestSubscription) -> dict[str, Any]:
        return {
            "sessions": list(subscription.sessions.all()),
            "courses": list(subscription.courses.all()),
            "frequency": subscription.frequency,
            "weekday": subscription.weekday,
            "send_at": subscription.send_at,
            "time_zone": subscription.time_zone,
        }
