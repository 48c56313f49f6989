from django.apps import AppConfig


class LmsCacheConfig(AppConfig):
    """The local copy of the LMS's data: written by syncs (``integrations.sync``), read by reports.

    It imports neither app: syncs announce a merge through ``lms_cache.signals`` and whoever
    cares (reports' digests) listens.
    """

    name = "lms_cache"
    verbose_name = "LMS cache"
