"""The form an L&D admin sets a manager's scope with (``reports.scopes``)."""

from __future__ import annotations

from typing import Any

from django import forms

from reports.models import LmsGroup, ManagerScope
from reports.scopes import CUSTOM_FIELD_MISSING, MANAGER_HAS_NO_MAIL, RULE_INCOMPLETE, SCOPE_FIELDS


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: LmsGroup) -> str:
        return f"{obj.name} ({obj.connection.name})"


class ManagerScopeForm(forms.ModelForm):
    field_order = ["every_learner", "groups"]
    groups = GroupChoiceField(
        queryset=LmsGroup.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="360Learning groups, as the last users sync brought them. Hold Ctrl (⌘ on a Mac) to choose several.",
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

    def scope_values(self) -> dict[str, Any]:
        """The cleaned values ``manager_scope_update`` takes (groups apart)."""
        values = {name: self.cleaned_data[name] for name in SCOPE_FIELDS}
        values["rule_value"] = values["rule_value"].strip()
        values["rule_custom_field"] = (
            values["rule_custom_field"].strip() if values["rule_field"] == ManagerScope.RuleField.CUSTOM else ""
        )
        return values
