from django.apps import AppConfig


class LmsAdminConfig(AppConfig):
    """Project-wide pieces: roles, the home dashboard, access rules and the health task."""

    name = "lms_admin"
    verbose_name = "LMS Admin"
