"""LMS Admin, the Django project."""

#: The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``),
#: settings.LMS_ADMIN_VERSION and the clients' User-Agent import it.
__version__ = "0.1.0"
