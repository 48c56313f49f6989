"""Environment for the test suite, set before Django reads its settings.

Loaded as a pytest plugin (``-p tests.testenv`` in pyproject.toml) so it runs before
pytest-django configures Django. Values already in the environment win: CI sets
DATABASE_URL and REDIS_URL for the PostgreSQL + Redis run.
"""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
# A fixed Fernet key for tests only.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "u1Bq0x2m4Qx0QYp0b8v3Q8h9bRr7bqk2mG2n7cV0fWw=")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SANDBOX_ENABLED", "1")
os.environ.setdefault("LMS_ALLOW_LOOPBACK", "1")
os.environ.setdefault("LMS_INSECURE_HTTP", "1")
os.environ.setdefault("LMS_PLAIN_STATIC", "1")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
