"""The forms of the learner page's link and unlink actions (L&D admins): each names learner
records or a decision that concern the person on the page, and nothing else."""

from __future__ import annotations

from django import forms

from lms_cache.models import LmsUser
from people.models import LearnerLink, Person, PersonRecord
from reports.selectors.learners import learner_links

PICK_A_RECORD = "Pick the learner record of another LMS to link: search by name or e-mail first."
NOT_A_RECORD_OF_THIS_PERSON = "That learner record is no longer matched to this person by e-mail: reload the page."
NOT_A_DECISION = "That decision no longer concerns this person: reload the page."


class RecordLabelField(forms.ModelChoiceField):
    def label_from_instance(self, obj: LmsUser) -> str:
        return f"{obj} <{obj.mail.strip()}> ({obj.connection.name})"


class LearnerLinkForm(forms.Form):
    """Link a learner record of a connection the person has no record in."""

    record = RecordLabelField(
        queryset=LmsUser.objects.none(),
        widget=forms.RadioSelect,
        label="Learner record",
        error_messages={"required": PICK_A_RECORD, "invalid_choice": PICK_A_RECORD},
    )

    def __init__(self, *args, person: Person, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record"].queryset = LmsUser.objects.exclude(
            connection_id__in=person.records.values("connection_id")
        ).select_related("connection")


class LearnerSeparateForm(forms.Form):
    """ "Not the same person": one of the person's records matched by e-mail."""

    record = forms.ModelChoiceField(
        queryset=LmsUser.objects.none(),
        error_messages={"required": NOT_A_RECORD_OF_THIS_PERSON, "invalid_choice": NOT_A_RECORD_OF_THIS_PERSON},
    )

    def __init__(self, *args, person: Person, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record"].queryset = LmsUser.objects.filter(
            person_record__person=person, person_record__matched=PersonRecord.Matched.MAIL
        ).select_related("connection")


class LearnerLinkUndoForm(forms.Form):
    """Withdraw an earlier decision naming one of the person's records."""

    link = forms.ModelChoiceField(
        queryset=LearnerLink.objects.none(),
        error_messages={"required": NOT_A_DECISION, "invalid_choice": NOT_A_DECISION},
    )

    def __init__(self, *args, person: Person, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["link"].queryset = learner_links(person)
