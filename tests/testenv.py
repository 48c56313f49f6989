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


def _redis_database_per_worker() -> None:
    """``pytest -n 2`` gives each worker its own test database; give it its own Redis database
    too (1, 2, …), so one worker's task queue and cache never reach the other's, nor a worker
    process that a test starts take the other's tasks. tests/scale uses databases 10 and up."""
    from urllib.parse import urlsplit, urlunsplit

    url = os.environ.get("REDIS_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if url and worker:
        index = 1 + int(worker.removeprefix("gw") or 0) % 8
        os.environ["REDIS_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{index}"))


_redis_database_per_worker()
