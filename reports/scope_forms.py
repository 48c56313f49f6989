"""The form an L&D admin sets a manager's scope with (``reports.scopes``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms import BoundField

from lms_cache.models import LmsGroup
from reports.models import ManagerScope
from reports.scopes import CUSTOM_FIELD_MISSING, MANAGER_HAS_NO_MAIL, RULE_INCOMPLETE, SCOPE_FIELDS


@dataclass(frozen=True)
class FieldSubset:
    """Part of a form, shaped like one for the shared ``_form_fields.html``: iterating it gives
    the fields whose errors its summary lists, ``visible_fields`` the fields it renders."""

    errors_of: list[BoundField]
    shown: list[BoundField]

    def __iter__(self) -> Iterator[BoundField]:
        return iter(self.errors_of)

    def visible_fields(self) -> list[BoundField]:
        return self.shown

    def hidden_fields(self) -> list[BoundField]:
        return []


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: LmsGroup) -> str:
        return f"{obj.name} ({obj.connection.name})"


#: The fields the groups fieldset holds (disabled, and ignored, while "every learner" is ticked).
GROUP_FIELDS = ("groups", "include_subgroups")


class ManagerScopeForm(forms.ModelForm):
    """The template renders ``every_learner``, then the groups fieldset (``GROUP_FIELDS``: a
    checkbox per group with a filter box, static/js/app.js), then ``rule_fields``."""

    field_order = ["every_learner", "groups"]
    groups = GroupChoiceField(
        queryset=LmsGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="360Learning groups, as the last users sync brought them. Tick as many as you need.",
    )

    class Meta:
        model = ManagerScope
        fields = ["groups", *SCOPE_FIELDS]
        labels = {
            "every_learner": "Every learner of every connection",
            "include_subgroups": "Include the groups' subgroups",
            "rule_field": "Also a rule on the learner's",
            "rule_custom_field": "Custom field name",
            "rule_operator": "Comparison",
            "rule_value": "Value",
            "rule_value_is_manager_mail": "Compare with the manager's own e-mail instead",
            "match": "With groups and a rule, show learners",
        }
        widgets = {"match": forms.RadioSelect}

    def __init__(self, *args: Any, manager, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.manager = manager
        # Read before validation writes the posted values onto the instance.
        self.stored_include_subgroups = self.instance.include_subgroups
        self.fields["groups"].queryset = (
            LmsGroup.objects.current().select_related("connection").order_by("connection__name", "name", "pk")
        )
        # Their labels say it all; the model's help texts would repeat them.
        self.fields["every_learner"].help_text = ""
        self.fields["rule_value_is_manager_mail"].help_text = ""
        custom = self.fields["rule_custom_field"]
        custom.help_text = (
            "As API v1 names it (e.g. “Manager e-mail”); custom fields come with v1 path-session statistics."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("rule_field"):
            if (
                data.get("rule_field") == ManagerScope.RuleField.CUSTOM
                and not data.get("rule_custom_field", "").strip()
            ):
                self.add_error("rule_custom_field", CUSTOM_FIELD_MISSING)
            if data.get("rule_value_is_manager_mail"):
                if not self.manager.email:
                    self.add_error("rule_value_is_manager_mail", MANAGER_HAS_NO_MAIL)
            elif not data.get("rule_value", "").strip():
                self.add_error("rule_value", RULE_INCOMPLETE)
        return data

    def error_summary(self) -> FieldSubset:
        """For ``_form_fields.html`` at the top of the form: the summary of every field's errors,
        no field (the template lays the fields out itself)."""
        return FieldSubset(errors_of=list(self), shown=[])

    def rule_fields(self) -> FieldSubset:
        """For ``_form_fields.html`` after the groups fieldset: the rule's fields (their errors
        are in the summary already)."""
        skip = ("every_learner", *GROUP_FIELDS)
        return FieldSubset(errors_of=[], shown=[self[name] for name in SCOPE_FIELDS if name not in skip])

    def scope_groups(self) -> list[LmsGroup]:
        """The chosen groups; none while "every learner" is ticked (the page disables them then,
        and a browser without JavaScript may still send them)."""
        return [] if self.cleaned_data["every_learner"] else list(self.cleaned_data["groups"])

    def scope_values(self) -> dict[str, Any]:
        """The cleaned values ``manager_scope_update`` takes (groups apart)."""
        values = {name: self.cleaned_data[name] for name in SCOPE_FIELDS}
        if values["every_learner"]:
            # A disabled checkbox is not sent: keep the stored choice for when groups apply again.
            values["include_subgroups"] = self.stored_include_subgroups
        values["rule_value"] = values["rule_value"].strip()
        values["rule_custom_field"] = (
            values["rule_custom_field"].strip() if values["rule_field"] == ManagerScope.RuleField.CUSTOM else ""
        )
        return values
