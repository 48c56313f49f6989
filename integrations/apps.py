from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """LMS connections, 360Learning integration configurations, imports and syncs."""

    name = "integrations"
