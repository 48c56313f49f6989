from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """An embedded, spec-faithful 360Learning and iSpring Learn for the demo and the tests."""

    name = "sandbox"
