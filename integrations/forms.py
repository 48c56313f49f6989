"""Forms for connections and integrations. Secrets are write-only: never rendered back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from integrations import providers
from integrations.models import Connection
from integrations.providers.base import BASE_URL_REQUIRED
from integrations.validators import validate_lms_base_url

SECRET_REQUIRED = "Enter the client secret."
SECRET_KEPT_HELP = "Leave empty to keep the stored secret. It is never shown back."
# After an error the page comes back without the secrets typed (never rendered back): say so.
SECRET_RETYPE = "For your safety the client secret is not kept after an error: type it again."
SECRET_RETYPE_EDIT = (
    "For your safety the new client secret you typed is not kept after an error: type it again, "
    "or leave it empty to keep the stored one."
)
V1_KEY_RETYPE = "For your safety the v1 API key is not kept after an error: type it again."
V1_KEY_RETYPE_EDIT = (
    "For your safety the new v1 API key you typed is not kept after an error: type it again, "
    "or leave it empty to keep the stored one."
)
V1_PAIR_REQUIRED = "Give both the v1 company id and the v1 API key, or neither."
CUSTOM_REGION = ("custom", "Other base URL")
REGION_HELP = "For {providers}: the region of your tenant, or “Other” for a custom base URL."
BASE_URL_HELP = "Required for {providers}for “Other”."


def region_choices() -> list[tuple[str, str]]:
    """Every provider's fixed base URLs (its regions), then "Other base URL"."""
    return [(r.key, r.label) for spec in providers.all() for r in spec.regions] + [CUSTOM_REGION]


def _region_url(provider: str, region: str) -> str | None:
    spec = providers.get_or_none(provider)
    return next((r.base_url for r in spec.regions if r.key == region), None) if spec else None


def _region_of(connection: Connection) -> str:
    spec = providers.get_or_none(connection.provider)
    regions = spec.regions if spec else ()
    return next((r.key for r in regions if r.base_url == connection.base_url), CUSTOM_REGION[0])


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="A short name you will recognise, e.g. “360 EU production”.")
    provider = forms.ChoiceField(choices=providers.choices)
    region = forms.ChoiceField(
        choices=region_choices,
        required=False,
        initial="eu",
    )
    base_url = forms.CharField(label="Base URL", max_length=300, required=False)
    client_id = forms.CharField(label="Client id", max_length=200)
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    v1_company_id = forms.CharField(
        label="v1 company id", max_length=100, required=False, help_text="Optional: enables the v1 path-session report."
    )
    v1_api_key = forms.CharField(
        label="v1 API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    stale_after_hours = forms.IntegerField(
        label="Data is stale after (hours)",
        min_value=1,
        max_value=24 * 90,
        initial=24,
        help_text="Reports flag this connection's data as stale when its last sync is older.",
    )
    alert_after_failures = forms.IntegerField(
        label="Alert after failures in a row",
        min_value=1,
        max_value=100,
        initial=3,
        help_text="E-mail the admins when a sync or an import fails this many times in a row.",
    )

    def __init__(self, *args: Any, instance: Connection | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(instance)
        super().__init__(*args, **kwargs)
        # Which providers offer regions and which need a typed base URL: the registry knows.
        specs = providers.all()
        with_regions = [spec.label for spec in specs if spec.regions]
        typed = [spec.label for spec in specs if not spec.regions]
        if with_regions:
            self.fields["region"].help_text = REGION_HELP.format(providers=" or ".join(with_regions))
        self.fields["base_url"].help_text = BASE_URL_HELP.format(providers="".join(f"{label} and " for label in typed))
        if instance is not None:
            self.fields["client_secret"].help_text = SECRET_KEPT_HELP
            self.fields["v1_api_key"].help_text = SECRET_KEPT_HELP
        else:
            # Marked required on create (the "*" and the control's required attribute).
            self.fields["client_secret"].required = True
            self.fields["client_secret"].error_messages["required"] = SECRET_REQUIRED

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not self._errors:
            return
        editing = self.instance is not None
        for name, again, again_edit in (
            ("client_secret", SECRET_RETYPE, SECRET_RETYPE_EDIT),
            ("v1_api_key", V1_KEY_RETYPE, V1_KEY_RETYPE_EDIT),
        ):
            if self.data.get(name):
                # Both: the bound field copied the help text when the fields were cleaned.
                self.fields[name].help_text = self[name].help_text = again_edit if editing else again

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Connection.objects.filter(name__iexact=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("A connection with this name already exists.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        provider, region = data.get("provider"), data.get("region") or "custom"
        spec = providers.get_or_none(provider) if provider else None
        if region_url := _region_url(provider, region) if provider else None:
            data["base_url"] = region_url
        elif not data.get("base_url"):
            self.add_error("base_url", spec.base_url_required if spec else BASE_URL_REQUIRED)
        if data.get("base_url") and "base_url" not in self.errors:
            try:
                data["base_url"] = validate_lms_base_url(data["base_url"])
            except ValidationError as exc:
                self.add_error("base_url", exc)
        if self.instance is None and not data.get("client_secret") and "client_secret" not in self.errors:
            self.add_error("client_secret", SECRET_REQUIRED)
        has_key = bool(data.get("v1_api_key")) or bool(self.instance and self.instance.v1_api_key_encrypted)
        if spec is not None and spec.v1_access and bool(data.get("v1_company_id")) != has_key:
            self.add_error("v1_company_id", V1_PAIR_REQUIRED)
        return data


def initial_for(connection: Connection) -> dict[str, Any]:
    region = _region_of(connection)
    return {
        "name": connection.name,
        "provider": connection.provider,
        "region": region,
        "base_url": connection.base_url if region == "custom" else "",
        "client_id": connection.client_id,
        "v1_company_id": connection.v1_company_id,
        "stale_after_hours": connection.stale_after_hours,
        "alert_after_failures": connection.alert_after_failures,
    }


OBJECT_ID_MESSAGE = "Pick one from the list (a 360Learning id is 24 hexadecimal characters)."
HTTPS_LOGO_MESSAGE = "The logo must be an https:// URL (360Learning refuses others)."
object_id_validator = RegexValidator(r"^[a-fA-F0-9]{24}$", OBJECT_ID_MESSAGE)


def _https_only(value: str) -> None:
    if value and not value.lower().startswith("https://"):
        raise ValidationError(HTTPS_LOGO_MESSAGE)


class IntegrationForm(forms.Form):
    """Fields and limits of the BaseIntegrationDTO schema (360learning-core-api.json)."""

    external_platform = forms.CharField(
        label="External platform",
        max_length=200,
        help_text="The platform's identifier, e.g. “Coursera”. One per group.",
    )
    group_id = forms.CharField(label="Group", validators=[object_id_validator], widget=forms.Select)
    # One radio per matching author, under the search box of the integration form (a list of
    # radios is what a keyboard and a screen reader handle without any script).
    author_id = forms.CharField(label="Author", validators=[object_id_validator], widget=forms.RadioSelect)
    external_platform_logo_url = forms.URLField(
        label="Logo URL",
        required=False,
        validators=[_https_only],
        assume_scheme="https",
        help_text="https:// URL of a logo with a transparent background.",
    )
    external_platform_unicolor_logo_url = forms.URLField(
        label="Unicolor logo URL",
        required=False,
        validators=[_https_only],
        assume_scheme="https",
        help_text="Optional; the logo above is used when empty.",
    )
    default_completion = forms.BooleanField(label="Complete the course when it is launched", required=False)
    default_progress = forms.IntegerField(
        label="Progress at launch (%)", min_value=0, max_value=100, required=False, help_text="0 to 100."
    )
    no_group_propagation = forms.BooleanField(
        label="Keep content in this group only (do not propagate to subgroups)", required=False
    )

    def __init__(self, *args: Any, groups=(), authors=(), current_author_label: str = "", **kwargs: Any) -> None:
        """``groups``/``authors``: choices read from the tenant, or None when it could not be
        read (the field is then a text box for the 24-character id). ``current_author_label``
        names the chosen author when the list of authors does not include them."""
        super().__init__(*args, **kwargs)
        self.set_choices("group_id", groups, "Choose a group")
        self.set_choices("author_id", authors, None, current_label=current_author_label)

    def set_choices(self, field: str, choices, placeholder: str | None, *, current_label: str = "") -> None:
        if choices is None:
            self.fields[field].widget = forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"})
            self.fields[field].help_text = "The 24-character 360Learning id."
            return
        current = self.data.get(field) if self.is_bound else self.initial.get(field)
        options = ([("", placeholder)] if placeholder else []) + [(c.value, c.label) for c in choices]
        if current and all(value != current for value, _ in options):
            # The current choice stays selectable when a search no longer lists it.
            options.insert(0 if not placeholder else 1, (current, current_label or current))
        self.fields[field].widget.choices = options

    def clean_external_platform(self) -> str:
        value = self.cleaned_data["external_platform"].strip()
        if not value:
            raise ValidationError("Enter the external platform's identifier.")
        return value


# Imports -------------------------------------------------------------------------------------
IMPORT_FILE_HELP = (
    "CSV (UTF-8, comma or semicolon), XLSX, a JSON array of records in the API v2 shape, or a "
    "360Learning API v1 payload (converted to v2; the preview says how)."
)
MAPPING_COLUMN_TWICE = "The column “{column}” is chosen for both {first} and {second}."
MAPPING_MISSING = "Choose a column for {label}: the LMS requires it."


class ImportUploadForm(forms.Form):
    integration = forms.ModelChoiceField(
        queryset=None, help_text="The 360Learning integration configuration that receives the import."
    )
    kind = forms.ChoiceField(label="What to import", choices=[])
    file = forms.FileField(help_text=IMPORT_FILE_HELP)
    v1_progress = forms.IntegerField(
        label="v1 files: progress when a row has none (%)", min_value=0, max_value=100, required=False
    )
    v1_time_spent_ms = forms.IntegerField(
        label="v1 files: time spent when a row has none (ms)",
        min_value=1,
        required=False,
        help_text="API v2 requires a time spent of at least 1 ms; v1 did not.",
    )

    def __init__(self, *args: Any, oversized: set[str] = frozenset(), **kwargs: Any) -> None:
        from integrations.imports.kinds import KIND_CHOICES
        from integrations.models import Integration

        self.oversized = oversized
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = Integration.objects.filter(
            removed_remotely_at__isnull=True, connection__provider__in=providers.with_integrations()
        ).select_related("connection")
        self.fields["kind"].choices = KIND_CHOICES

    def v1_defaults(self):
        from integrations.imports import V1Defaults

        d = self.cleaned_data
        return V1Defaults(progress=d.get("v1_progress"), time_spent_ms=d.get("v1_time_spent_ms"))

    def clean(self):
        if "file" in self.oversized:
            # The upload handler dropped the file while it arrived: say why, not "required".
            self.errors.pop("file", None)
            self.add_error("file", file_too_large_message())
        return super().clean()

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size == 0:
            raise ValidationError("The file is empty.")
        return uploaded


def file_too_large_message() -> str:
    """For a file the upload handler dropped (bigger ones than this are not read at all)."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES / 1_000_000
    return f"The file is larger than {limit:,.0f} MB, the largest accepted: split it into several files."


class MappingForm(forms.Form):
    """One choice per field the kind accepts: which column of the file holds it."""

    def __init__(self, *args: Any, kind: str, headers: list[str], initial: dict[str, str] | None = None, **kwargs):
        from integrations.imports import FIELDS, REQUIREMENTS, Kind

        self.kind = Kind(kind)
        self.requirements = REQUIREMENTS[self.kind]
        by_field = {field: column for column, field in (initial or {}).items()}
        super().__init__(*args, initial={f"field__{f}": c for f, c in by_field.items()}, **kwargs)
        requirement_of = {f: r for r in self.requirements for f in r.fields}
        choices = [("", "— not in this file —")] + [(h, h) for h in headers]
        for spec in FIELDS[self.kind]:
            requirement = requirement_of.get(spec.name)
            help_text = ""
            if requirement is not None:
                help_text = "Required." if len(requirement.fields) == 1 else f"Required: {requirement.label}."
            self.fields[f"field__{spec.name}"] = forms.ChoiceField(
                label=f"{spec.label} ({spec.name})", choices=choices, required=False, help_text=help_text
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen: dict[str, str] = {}
        for name, column in data.items():
            if not column:
                continue
            field = name.removeprefix("field__")
            if column in chosen:
                raise ValidationError(MAPPING_COLUMN_TWICE.format(column=column, first=chosen[column], second=field))
            chosen[column] = field
        mapped = set(chosen.values())
        for requirement in self.requirements:
            if not mapped.intersection(requirement.fields):
                self.add_error(f"field__{requirement.fields[0]}", MAPPING_MISSING.format(label=requirement.label))
        self.chosen = chosen
        return data

    def mapping(self):
        from integrations.imports import ColumnMapping

        return ColumnMapping.from_json(self.chosen, kind=self.kind)


class ImportFilterForm(forms.Form):
    integration = forms.ModelChoiceField(queryset=None, required=False, empty_label="All integrations")
    kind = forms.ChoiceField(choices=[], required=False)
    state = forms.ChoiceField(choices=[], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from integrations.imports.kinds import KIND_CHOICES
        from integrations.models import ImportState, Integration

        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = Integration.objects.select_related("connection")
        self.fields["kind"].choices = [("", "All kinds"), *KIND_CHOICES]
        self.fields["state"].choices = [("", "All states"), *ImportState.choices]


class ImportResultsForm(forms.Form):
    """The filters of a run's records: result and a search text (query string, never trusted)."""

    status = forms.ChoiceField(
        label="Result",
        required=False,
        choices=[("", "All"), ("succeeded", "Succeeded"), ("failed", "Failed"), ("skipped", "Skipped")],
        widget=forms.RadioSelect,
    )
    q = forms.CharField(label="Search", required=False, max_length=200)
