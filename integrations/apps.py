from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """LMS connections, 360Learning integration configurations, imports and syncs."""

    name = "integrations"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        setting_changed.connect(_providers_setting_changed, dispatch_uid="integrations.providers.reload")


def _providers_setting_changed(*, setting: str, **kwargs) -> None:
    """``override_settings(LMS_EXTRA_PROVIDERS=…)`` (and pytest-django's ``settings``) take effect:
    the registry reads the setting again on its next use."""
    if setting == "LMS_EXTRA_PROVIDERS":
        from integrations import providers

        providers.reload()
