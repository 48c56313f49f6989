"""Forms of the move flow: what to move where, then which courses and under which names."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from integrations.imports.kinds import LANGS
from moves import selectors
from moves.models import HistoryMove
from moves.services import CourseChoice

HTTPS_ONLY = "360Learning opens courses over https only: give an https:// address."


def _https(value: str) -> str:
    if not value.lower().startswith("https://"):
        raise ValidationError(HTTPS_ONLY)
    return value


class MoveForm(forms.Form):
    source = forms.ModelChoiceField(
        label="From (iSpring Learn connection)",
        queryset=selectors.ispring_connections(),
        empty_label=None,
        help_text="Its cached module results are moved: sync its users and module results first.",
    )
    integration = forms.ModelChoiceField(
        label="Into (360Learning integration)",
        queryset=selectors.integrations_360(),
        empty_label=None,
        help_text="The moved courses become external courses of this integration.",
    )
    default_lang = forms.ChoiceField(
        label="Language of the courses", choices=[(lang, lang) for lang in LANGS], initial="en"
    )
    launch_url = forms.URLField(
        label="Launch URL",
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[_https],
        help_text="Where learners open the moved courses; each course can have its own. Empty: the iSpring site.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["integration"].label_from_instance = lambda i: f"{i.external_platform} ({i.connection.name})"


class CoursesForm(forms.Form):
    """One include box, name and launch URL per proposed course (fields named by course)."""

    def __init__(self, *args, move: HistoryMove, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.courses = list(move.courses.all())
        for course in self.courses:
            self.fields[f"include-{course.pk}"] = forms.BooleanField(
                label=f"Move {course.proposed_name}", required=False, initial=course.include
            )
            self.fields[f"name-{course.pk}"] = forms.CharField(
                label=f"Name of {course.proposed_name}", max_length=500, initial=course.name
            )
            self.fields[f"url-{course.pk}"] = forms.URLField(
                label=f"Launch URL of {course.proposed_name}",
                max_length=500,
                assume_scheme="https",
                validators=[_https],
                initial=course.launch_url,
            )

    def rows(self) -> list[tuple]:
        return [
            (course, self[f"include-{course.pk}"], self[f"name-{course.pk}"], self[f"url-{course.pk}"])
            for course in self.courses
        ]

    def clean(self) -> dict:
        data = super().clean() or {}
        if self.courses and not any(data.get(f"include-{course.pk}") for course in self.courses):
            raise ValidationError("Include at least one course.")
        return data

    def choices(self) -> list[CourseChoice]:
        d = self.cleaned_data
        return [
            CourseChoice(course.pk, d[f"include-{course.pk}"], d[f"name-{course.pk}"], d[f"url-{course.pk}"])
            for course in self.courses
        ]
