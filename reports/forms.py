"""Query-string forms of the report pages (and of ``export_report``): each validates what a reader
asked for and turns it into the ``ReportFilters`` every selector takes.

The forms are always bound (to ``request.GET``, possibly empty); a field with a bad value is
left out of the filters and shows its error, the others still apply. Exports refuse invalid
filters instead (``ReportForm.errors_text``), so a file never holds more than was asked for.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms

from integrations.models import Connection, SyncKind
from lms_cache.models import DETAILED_STATUSES, STATUS_REASONS
from reports import vocabulary
from reports.filters import NO_REASON, SESSION_PHASES, DateRange, ReportFilters
from reports.selectors.common import report_connections
from reports.selectors.courses import course_choices, group_choices
from reports.selectors.learners import PRESENCE_CHOICES
from reports.selectors.path_sessions import path_choices

RANGE_REVERSED = "The end date is before the start date."
TOO_MANY_IDS = "At most {limit} ids."
BAD_ID = "“{value}” is not an id."

MAX_IDS = 100
ID_SEPARATORS = re.compile(r"[\s,;]+")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class SearchInput(forms.TextInput):
    input_type = "search"


def _date(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=DateInput)


def _status_choices() -> list[tuple[str, str]]:
    return [("", "Any status")] + [(s, vocabulary.status_label(s)) for s in DETAILED_STATUSES]


class IdListField(forms.CharField):
    """Ids separated by commas, spaces or new lines, as the iSpring API's ``…Ids[]`` filters."""

    def to_python(self, value: Any) -> tuple[str, ...]:
        text = super().to_python(value)
        ids = tuple(dict.fromkeys(part for part in ID_SEPARATORS.split(text) if part))
        if len(ids) > MAX_IDS:
            raise forms.ValidationError(TOO_MANY_IDS.format(limit=MAX_IDS))
        for value in ids:
            if not ID_PATTERN.match(value):
                raise forms.ValidationError(BAD_ID.format(value=value[:40]))
        return ids


def _shown(field: forms.Field, value: Any) -> str:
    """A cleaned filter value as the form shows it: a choice's label, an object's label, ids joined."""
    if isinstance(field, forms.ModelChoiceField):
        return str(field.label_from_instance(value))
    if isinstance(field, forms.ChoiceField):
        labels = {str(key): str(label) for key, label in field.choices}
        values = value if isinstance(value, list | tuple) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class ReportForm(forms.Form):
    """A report's filters. ``sort`` is not drawn with the other fields: the table carries it
    (see the templates), so a sorted table keeps its order when a filter changes."""

    #: Pairs of (from, to) date fields checked for order, and the ReportFilters field they fill.
    date_ranges: tuple[tuple[str, str, str], ...] = ()

    search = forms.CharField(label="Search", required=False, max_length=200, widget=SearchInput)
    sort = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for start, end, _ in self.date_ranges:
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, RANGE_REVERSED)
        return data

    def valid_data(self) -> dict[str, Any]:
        """The cleaned values of the fields that validated (all of them when the form is valid)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}

    def filters(self, base: ReportFilters | None = None) -> ReportFilters:
        """``base`` (the reader's own filters: see ``reports.views.helpers.reader_filters``)
        narrowed by what the form asks for."""
        data = self.valid_data()
        ranges = {target: DateRange(data.get(start), data.get(end)) for start, end, target in self.date_ranges}
        return (base or ReportFilters()).but(
            **self.to_filters(data), **ranges, search=data.get("search") or "", sort=data.get("sort") or ""
        )

    def to_filters(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}

    def applied(self) -> list[tuple[str, str]]:
        """``(label, value as shown)`` of each filter that narrows the report (sort aside), in
        field order: what a page and an export's provenance say was applied."""
        data = self.valid_data()
        applied = []
        for name, field in self.fields.items():
            value = data.get(name)
            if name == "sort" or value in (None, "", [], ()):
                continue
            applied.append((str(field.label or name), _shown(field, value)))
        return applied

    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "sort"]

    def errors_text(self) -> str:
        return "; ".join(
            f"{self.fields[name].label or name}: {' '.join(errors)}" for name, errors in self.errors.items()
        )


class ConnectionChoiceField(forms.ModelChoiceField):
    """The connections whose provider syncs ``kind``, asked again for every form (the installed
    providers may change: ``LMS_EXTRA_PROVIDERS``)."""

    def __init__(self, kind: str, **kwargs) -> None:
        self.kind = kind
        super().__init__(
            report_connections(kind=kind),
            required=False,
            empty_label="All connections",
            label="Connection",
            **kwargs,
        )

    def __deepcopy__(self, memo: dict) -> ConnectionChoiceField:
        result = super().__deepcopy__(memo)
        result.queryset = report_connections(kind=self.kind)
        return result


class PathSessionFilterForm(ReportForm):
    """Sessions overview: connection, path, open between two dates, phase, learners in a status, search."""

    date_ranges = (("active_from", "active_to", "active"),)
    field_order = ["search", "connection", "path", "phase", "status", "active_from", "active_to"]

    connection = ConnectionChoiceField(SyncKind.SESSIONS)
    path = forms.ModelChoiceField(path_choices(), required=False, empty_label="All paths")
    phase = forms.ChoiceField(label="Session", required=False, choices=[("", "Any time"), *SESSION_PHASES.items()])
    status = forms.ChoiceField(label="Has learners", required=False, choices=_status_choices)
    active_from = _date("Open from")
    active_to = _date("Open until")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["search"].label = "Session or path"
        self.fields["status"].choices = [("", "In any status")] + _status_choices()[1:]

    def to_filters(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "connection": data.get("connection"),
            "path": data.get("path"),
            "phase": data.get("phase") or "",
            "status": data.get("status") or "",
        }


class CourseLabelField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class GroupLabelField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class LearnerFilterForm(ReportForm):
    """One path session's learner table: status, reason, group, search."""

    field_order = ["search", "status", "reason", "group"]

    status = forms.ChoiceField(label="Status", required=False, choices=_status_choices)
    reason = forms.ChoiceField(
        label="Reason",
        required=False,
        choices=[
            ("", "Any reason"),
            (NO_REASON, "No reason"),
            *((reason, vocabulary.reason_label(reason)) for reasons in STATUS_REASONS.values() for reason in reasons),
        ],
    )
    group = GroupLabelField(label="Group", queryset=None, required=False, empty_label="All groups")

    def __init__(self, *args, groups, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.fields["search"].label = "Name, mail or id"

    def to_filters(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"status": data.get("status") or "", "reason": data.get("reason") or "", "group": data.get("group")}


class AttemptFilterForm(ReportForm):
    """Course statistics and the attempts table: completion dates, course, learner, group."""

    date_ranges = (("completed_from", "completed_to", "completed"),)
    field_order = ["connection", "course", "user", "group", "completed_from", "completed_to"]

    connection = ConnectionChoiceField(SyncKind.COURSE_STATS)
    course = CourseLabelField(course_choices(), required=False, empty_label="All courses")
    user = forms.CharField(label="Learner", required=False, max_length=200, help_text="Id, mail or name")
    group = GroupLabelField(group_choices(), required=False, empty_label="All groups")
    completed_from = _date("Completed from")
    completed_to = _date("Completed until")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["search"]  # the learner field is the search
        self.fields["user"].widget = SearchInput()

    def to_filters(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "connection": data.get("connection"),
            "course": data.get("course"),
            "user": data.get("user") or "",
            "group": data.get("group"),
        }


class ModuleResultFilterForm(ReportForm):
    """iSpring module results, with the filters of ``GET /learners/modules/results``."""

    date_ranges = (
        ("completed_from", "completed_to", "completed"),
        ("accessed_from", "accessed_to", "accessed"),
        ("due_from", "due_to", "due"),
    )
    field_order = [
        "search",
        "connection",
        "user_ids",
        "course_ids",
        "module_ids",
        "user_statuses",
        "completion_statuses",
    ]

    connection = ConnectionChoiceField(SyncKind.MODULE_RESULTS)
    user_ids = IdListField(label="User ids", required=False, max_length=4000)
    course_ids = IdListField(label="Course ids", required=False, max_length=4000)
    module_ids = IdListField(label="Module ids", required=False, max_length=4000)
    user_statuses = forms.TypedMultipleChoiceField(
        label="User status",
        required=False,
        coerce=int,
        choices=lambda: list(vocabulary.learner_status_labels().items()),
        widget=forms.CheckboxSelectMultiple,
    )
    completion_statuses = forms.MultipleChoiceField(
        label="Completion status",
        required=False,
        choices=lambda: list(vocabulary.completion_status_labels().items()),
        widget=forms.CheckboxSelectMultiple,
    )
    completed_from = _date("Completed from")
    completed_to = _date("Completed until")
    accessed_from = _date("Assigned from")
    accessed_to = _date("Assigned until")
    due_from = _date("Due from")
    due_to = _date("Due until")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["search"].label = "Module title"

    def to_filters(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "connection": data.get("connection"),
            "user_ids": data.get("user_ids") or (),
            "course_ids": data.get("course_ids") or (),
            "module_ids": data.get("module_ids") or (),
            "user_statuses": tuple(data.get("user_statuses") or ()),
            "completion_statuses": tuple(data.get("completion_statuses") or ()),
        }


class LearnerReportFilterForm(ReportForm):
    """The Learners report: people by name or e-mail, in several LMSs or one, with an item in a
    shared status, with a record in a connection."""

    field_order = ["search", "presence", "shared_status", "connection"]

    presence = forms.ChoiceField(
        label="Known to", required=False, choices=[("", "Any number of LMSs"), *PRESENCE_CHOICES.items()]
    )
    shared_status = forms.ChoiceField(
        label="Has an item",
        required=False,
        choices=lambda: [("", "In any status"), *vocabulary.shared_status_labels().items()],
    )
    connection = forms.ModelChoiceField(
        Connection.objects.order_by("name"), required=False, empty_label="All connections", label="Connection"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["search"].label = "Name or e-mail"

    def to_filters(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "presence": data.get("presence") or "",
            "shared_status": data.get("shared_status") or "",
            "connection": data.get("connection"),
        }
