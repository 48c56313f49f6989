"""The shared form partial's filters: the error summary's links and the "* required" legend."""

from __future__ import annotations

from django import forms

from lms_admin.templatetags.form_help import field_errors, has_required_fields


class Sample(forms.Form):
    name = forms.CharField()
    colour = forms.ChoiceField(choices=[("r", "Red"), ("b", "Blue")], widget=forms.RadioSelect)
    token = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(required=False)


def test_each_error_links_to_its_control_and_a_radio_list_to_its_first_choice():
    form = Sample(data={})
    assert field_errors(form) == [
        {"label": "Name", "message": "This field is required.", "target": "id_name"},
        {"label": "Colour", "message": "This field is required.", "target": "id_colour_0"},
        {"label": "Token", "message": "This field is required.", "target": ""},
    ]


def test_the_legend_shows_only_when_a_visible_field_is_required():
    assert has_required_fields(Sample())

    class Optional(forms.Form):
        note = forms.CharField(required=False)
        token = forms.CharField(widget=forms.HiddenInput)

    assert not has_required_fields(Optional())
