from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Cached statistics read by managers: report pages and CSV/XLSX exports."""

    name = "reports"
