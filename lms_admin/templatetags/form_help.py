"""Filters for the shared form partial (templates/_form_fields.html): the error summary and
the "* required" legend."""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.filter
def field_errors(form: forms.BaseForm) -> list[dict[str, str]]:
    """Each field's errors, in the form's order, with the id of the control to link to
    (empty for a hidden field: its error is shown as text). Form-wide errors are not
    included: each form template shows them itself."""
    errors = []
    for field in form:
        for message in field.errors:
            # A list of radios or checkboxes has no one control: link to its first choice.
            target = "" if field.is_hidden else (field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else ""))
            errors.append({"label": str(field.label or field.name), "message": str(message), "target": target})
    return errors


@register.filter
def has_required_fields(form: forms.BaseForm) -> bool:
    return any(field.field.required for field in form.visible_fields())
