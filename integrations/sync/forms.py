"""Forms of the sync screens: launch, list filters, schedules."""

from __future__ import annotations

from django import forms

from integrations.models import Connection, SyncKind, SyncState
from integrations.sync import services

ALL_KINDS = "all"


class SyncLaunchForm(forms.Form):
    """ "Sync now": one kind of the connection, or all of them in order."""

    kind = forms.ChoiceField()
    full_refresh = forms.BooleanField(
        required=False,
        label="Full refresh",
        help_text="List everything again, even where only changes would be fetched.",
    )

    def __init__(self, *args, connection: Connection, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        kinds = services.sync_kinds_for(connection=connection)
        self.fields["kind"].choices = [(k, SyncKind(k).label) for k in kinds] + [(ALL_KINDS, "Everything")]

    def kinds(self) -> list[str]:
        kind = self.cleaned_data["kind"]
        return list(services.sync_kinds_for(connection=self.connection)) if kind == ALL_KINDS else [kind]


class SyncRunFilterForm(forms.Form):
    """Query-string filters of the sync run list."""

    connection = forms.ModelChoiceField(Connection.objects.all(), required=False, empty_label="All connections")
    kind = forms.ChoiceField(choices=[("", "All kinds"), *SyncKind.choices], required=False)
    state = forms.ChoiceField(choices=[("", "All states"), *SyncState.choices], required=False)


class SyncScheduleForm(forms.Form):
    """How often each kind of one connection syncs on its own (django-q2 schedules)."""

    def __init__(self, *args, connection: Connection, schedules: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        for kind in services.sync_kinds_for(connection=connection):
            schedule = schedules.get(kind)
            self.fields[kind] = forms.ChoiceField(
                label=SyncKind(kind).label,
                choices=services.FREQUENCIES,
                required=False,
                initial=schedule.frequency if schedule else "",
            )
            self.fields[f"{kind}_full"] = forms.BooleanField(
                label="full refresh", required=False, initial=bool(schedule and schedule.full_refresh)
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """(frequency, full refresh) bound fields per kind, for the template's table."""
        kinds = services.sync_kinds_for(connection=self.connection)
        return [(self[kind], self[f"{kind}_full"]) for kind in kinds]

    def choices(self) -> dict[str, tuple[str, bool]]:
        """{kind: (frequency, full refresh)} once valid."""
        kinds = services.sync_kinds_for(connection=self.connection)
        return {kind: (self.cleaned_data[kind], self.cleaned_data[f"{kind}_full"]) for kind in kinds}
