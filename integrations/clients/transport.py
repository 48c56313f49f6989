"""HTTP plumbing shared by every LMS client: sessions, timeouts, retries, error mapping.

Modelled on healthchecks' ``hc/api/transports.py``: one place turns an HTTP answer into
an ``LmsError`` (``Transport.error_for_response``, overridable per vendor), and the
retry loop reads the error's flags instead of re-deriving them.

Retry rules, in one place (``Transport.request``):

- Idempotent calls (GET, token requests) are retried with jittered exponential backoff
  on connection errors, timeouts, 429 (honouring ``Retry-After`` up to a cap) and
  502/503/504.
- Calls that change remote state pass ``idempotent=False``. They are retried only when
  the failure proves the request never left this machine (DNS failure, connection
  refused, connect timeout). Once it may have reached the server, the caller gets
  ``may_have_been_applied=True`` and nothing is re-sent. A 4xx or 429 answer, or a 5xx
  answer whose remote code is listed in ``refusal_codes``, means the remote refused it:
  ``may_have_been_applied=False``, still not retried here (the caller decides when).

No secrets in logs or messages: URLs are logged with sensitive query parameters masked,
bodies are never logged, and every message passes through ``Redactor``. Functions that hold
a secret in a local variable are marked ``hide_locals`` for Django's error pages.

Where requests may go is ``addresses.py``'s policy, applied at every connection
(``CheckedAdapter``): public https on port 443, loopback only when the caller allows it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Protocol, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from integrations.clients.addresses import CheckedAdapter, parse_base_url
from integrations.clients.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    LmsError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RemoteUnavailable,
)
from integrations.clients.parsing import Fields
from lms_admin import __version__

logger = logging.getLogger("integrations.clients")

#: (connect, read) seconds. Connect is short: an unreachable LMS should fail fast.
#: Read is long enough for a 2,000-row user-stats page on a slow tenant.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def user_agent(version: str = __version__) -> str:
    """The User-Agent every client sends: ``lms-admin/<version>`` (the product's, by default)."""
    return f"lms-admin/{version}"


DEFAULT_USER_AGENT = user_agent()


# Secrets ---------------------------------------------------------------------------------
#: Query parameters whose values never reach a log line or an exception (lower-cased).
SENSITIVE_PARAMS = frozenset(
    {
        "apikey",
        "api_key",
        "client_secret",
        "access_token",
        "token",
        "password",
        "secret",
    }
)
MASK = "***"


def mask_url(url: str) -> str:
    """``url`` with the values of sensitive query parameters replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, MASK if k.lower() in SENSITIVE_PARAMS else v) for k, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="[]*")))


_SENSITIVE_IN_TEXT = re.compile(
    r"(?i)\b(" + "|".join(sorted(SENSITIVE_PARAMS, key=len, reverse=True)) + r")=([^&\s\"']+)"
)


def mask_text(text: str) -> str:
    """``text`` with ``apiKey=...``-style query values masked wherever they appear."""
    return _SENSITIVE_IN_TEXT.sub(lambda m: f"{m.group(1)}={MASK}", text)


class _MaskingFilter(logging.Filter):
    """Masks sensitive query values in urllib3's request log lines.

    urllib3 logs every request line at DEBUG (``"GET /api/v1/...?apiKey=... HTTP/1.1"``);
    whoever turns DEBUG on for it must not get the v1 API key in their logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "=" in a for a in record.args):
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and "=" in record.msg and not record.args:
            record.msg = mask_text(record.msg)
        return True


_MASKING_FILTER = _MaskingFilter()
for _name in ("urllib3.connectionpool",):
    _logger = logging.getLogger(_name)
    if _MASKING_FILTER not in _logger.filters:
        _logger.addFilter(_MASKING_FILTER)


_F = TypeVar("_F", bound=Callable[..., Any])


def hide_locals(func: _F) -> _F:
    """Hide the local variables of ``func``, and of everything it calls, from Django's
    technical 500 page and error reports (``SafeExceptionReporterFilter``).

    This is Django's ``sensitive_variables()`` (no names: every variable), which a client
    may not import (clients stay free of Django). Django recognises it in a traceback by a
    frame of a function named ``sensitive_variables_wrapper`` holding itself, with a
    ``sensitive_variables`` attribute; the wrapper below is built the same way, and
    ``tests/integrations/clients/test_secrets.py`` renders a Django error page to prove it.
    """

    @functools.wraps(func)
    def sensitive_variables_wrapper(*args: Any, **kwargs: Any) -> Any:
        sensitive_variables_wrapper.sensitive_variables = "__ALL__"  # type: ignore[attr-defined]
        return func(*args, **kwargs)

    return sensitive_variables_wrapper  # type: ignore[return-value]


class Redactor:
    """Replaces known secret values in any text; the last line of defence for messages."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Very short values would blank out ordinary words; real secrets are longer.
        self._secrets = tuple(sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return mask_text(text)

    def __repr__(self) -> str:
        return f"<Redactor {len(self._secrets)} secrets>"


# Tokens ----------------------------------------------------------------------------------
class TokenStore(Protocol):
    """Where access tokens live between calls, keyed per connection.

    The default keeps them in process memory; the Django layer passes an adapter over
    its cache so every web and worker process shares one token per connection.
    ``expires_at`` is a ``time.time()`` timestamp after which the token must not be used
    (already shortened by the refresh margin), so a cache can use it as its timeout.
    """

    def get(self, key: str) -> tuple[str, float] | None: ...

    def set(self, key: str, token: str, expires_at: float) -> None: ...


class InMemoryTokenStore:
    """Thread-safe in-process ``TokenStore``."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        with self._lock:
            return self._tokens.get(key)

    def set(self, key: str, token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)

    def __repr__(self) -> str:
        return f"<InMemoryTokenStore {len(self._tokens)} tokens>"


def token_cache_key(provider: str, base_url: str, client_id: str) -> str:
    """A cache-safe key for one connection's token (hashed: cache backends limit key characters)."""
    digest = hashlib.sha256(f"{provider}|{base_url.rstrip('/')}|{client_id}".encode()).hexdigest()
    return f"lms-token:{provider}:{digest[:40]}"


class TokenManager:
    """Hands out a valid bearer token, fetching one only when the store has none usable.

    ``fetch`` returns ``(access_token, expires_in_seconds)``. Tokens are refreshed
    ``refresh_margin`` seconds before they expire (at most half their lifetime, so very
    short-lived tokens are still used).
    """

    def __init__(
        self,
        *,
        store: TokenStore,
        key: str,
        fetch: Callable[[], tuple[str, float]],
        clock: Clock = time.time,
        refresh_margin: float = 60.0,
    ) -> None:
        self._store = store
        self._key = key
        self._fetch = fetch
        self._clock = clock
        self._margin = refresh_margin
        self._lock = threading.Lock()

    def _usable(self, cached: tuple[str, float] | None, rejected: str | None = None) -> str | None:
        if cached is None:
            return None
        token, expires_at = cached
        if not token or token == rejected or expires_at <= self._clock():
            return None
        return token

    def token(self) -> str:
        """A token that is not expired (nor about to be); fetches one if needed."""
        if token := self._usable(self._store.get(self._key)):
            return token
        with self._lock:
            # Another thread may have fetched one while we waited for the lock.
            if token := self._usable(self._store.get(self._key)):
                return token
            return self._fetch_and_store()

    def refresh(self, rejected: str) -> str:
        """A token other than ``rejected`` (which the remote just refused with 401).

        Reuses a newer token another process already stored, else fetches a new one.
        """
        with self._lock:
            if token := self._usable(self._store.get(self._key), rejected):
                return token
            return self._fetch_and_store()

    def _fetch_and_store(self) -> str:
        token, expires_in = self._fetch()
        margin = min(self._margin, expires_in / 2)
        self._store.set(self._key, token, self._clock() + expires_in - margin)
        return token


# Retries ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent calls are retried: ``max_attempts`` tries in all, waits of
    ``backoff_base * 2**n`` seconds (capped at ``backoff_cap``, jittered to 50-100 %),
    and a remote ``Retry-After`` honoured up to ``retry_after_cap`` seconds (beyond that
    the call raises ``RateLimited`` so a task can reschedule instead of holding a worker).
    """

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0

    def backoff(self, attempt: int, jitter: float) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return delay * (0.5 + jitter / 2)


DEFAULT_RETRY = RetryPolicy()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _may_have_been_sent(exc: requests.RequestException) -> bool:
    """False only when the failure proves no byte of the request reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.SSLError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # DNS failures (NameResolutionError subclasses NewConnectionError), refused
        # connections and connect timeouts all happen before the request is written.
        if isinstance(reason, NewConnectionError | ConnectTimeoutError):
            return False
    # Read timeouts, resets after connecting, TLS errors, broken chunked bodies: the
    # request may have been written and processed.
    return True


# The transport ---------------------------------------------------------------------------
class Transport:
    """One remote API's HTTP session: pooling, timeouts, retries and error mapping.

    Subclass per vendor to override ``parse_error_body`` (where the remote puts its
    error code and message), ``status_errors`` and ``refusal_codes``.
    """

    #: HTTP status -> error class; anything else 4xx is ``BadRequest``, 5xx ``RemoteUnavailable``.
    status_errors: ClassVar[Mapping[int, type[LmsError]]] = {
        400: BadRequest,
        401: AuthError,
        403: PermissionDenied,
        404: NotFound,
        429: RateLimited,
    }
    #: Statuses worth retrying for idempotent calls.
    retry_statuses: ClassVar[frozenset[int]] = frozenset({429, 502, 503, 504})
    #: Remote error codes on 5xx answers that the vendor documents as "refused, nothing done".
    refusal_codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Sleep = time.sleep,
        retry: RetryPolicy = DEFAULT_RETRY,
        secrets: Iterable[str] = (),
        jitter: Callable[[], float] = random.random,
        pool_maxsize: int = 10,
        allow_loopback: bool = False,
    ) -> None:
        """``allow_loopback`` lets requests reach this machine's loopback addresses, over
        http and on any port (demo and tests, where the sandbox LMS runs).

        Raises ``AddressRefused`` (a ``ValueError``) for a malformed base URL; where it
        leads is checked at each connection, so each request may raise it too.
        """
        parse_base_url(base_url)
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc.lower())
        self.name = name
        self.timeout = timeout
        self.retry = retry
        self.redact = Redactor(secrets)
        self._sleep = sleep
        self._jitter = jitter
        self.session = requests.Session()
        # urllib3 retries stay off: this class decides what is safe to retry.
        adapter = CheckedAdapter(
            allow_loopback=allow_loopback, pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = user_agent
        # Proxies and .netrc credentials from the environment must not receive our tokens
        # (and a proxy would resolve the host itself, out of reach of the address check).
        self.session.trust_env = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.base_url}>"

    def close(self) -> None:
        self.session.close()

    # URLs --------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """Absolute URL for ``path`` (which starts with ``/``) under the base URL."""
        return self.base_url + path

    def same_origin_url(self, url: str, *, relative_to: str) -> str:
        """Resolve a remote-supplied URL (a ``Link`` or ``Location`` header) and refuse any
        other origin: following it would hand our bearer token to a third party.

        Raises ``BadResponse``.
        """
        resolved = urljoin(relative_to, url)
        parts = urlsplit(resolved)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise BadResponse(f"{self.name}: refusing to follow a URL to another origin")
        return resolved

    def describe(self, method: str, url: str) -> str:
        """``"<name> <METHOD> <path>"`` for messages: no query string, no host."""
        return self.redact(f"{self.name} {method} {urlsplit(url).path}")

    # Errors: the one overridable place ---------------------------------------------------
    def parse_error_body(self, response: requests.Response) -> tuple[str | None, str | None]:
        """``(code, message)`` from an error body, or ``None``s when it has neither.

        Understands the shapes both vendors use: ``{"error": {"code", "message"}}``,
        ``{"error": "invalid_token"}`` and ``{"code": 8150, "message": "..."}``.
        """
        try:
            body = response.json()
        except ValueError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        error = body.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
        elif isinstance(error, str):
            code, message = error, body.get("message") or body.get("error_description")
        else:
            code, message = body.get("code"), body.get("message")
        return (
            str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
            message if isinstance(message, str) else None,
        )

    def error_for_response(self, response: requests.Response, *, idempotent: bool) -> LmsError:
        """The ``LmsError`` for a response with an unexpected status."""
        status = response.status_code
        code, remote_message = self.parse_error_body(response)
        where = self.describe(response.request.method or "?", response.url or "")
        text = f"{where}: HTTP {status}"
        if code:
            text += f" {code}"
        if remote_message:
            text += f": {remote_message[:500]}"
        text = self.redact(text)

        if 300 <= status < 400:
            return BadResponse(f"{text} (unexpected redirect)", status=status, code=code)
        if status < 400:
            return BadResponse(
                f"{text} (unexpected status)",
                status=status,
                code=code,
                may_have_been_applied=not idempotent,
            )

        if status >= 500:
            # A 5xx may come from a gateway after the app processed the request, unless
            # the vendor documents the code as a refusal (e.g. 503 bulkAPIDisabled).
            applied = not idempotent and code not in self.refusal_codes
            return RemoteUnavailable(text, status=status, code=code, may_have_been_applied=applied)
        # 4xx: the remote refused the request; nothing was applied.
        cls = self.status_errors.get(status, BadRequest)
        if cls is RateLimited:
            return RateLimited(
                text,
                status=status,
                code=code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return cls(text, status=status, code=code)

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying an idempotent call after ``response``, or
        ``None`` to raise its error now."""
        if attempt >= self.retry.max_attempts or response.status_code not in self.retry_statuses:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return self.retry.backoff(attempt, self._jitter())
        # Waiting longer than the cap would hold a worker; the caller reschedules instead.
        return retry_after if retry_after <= self.retry.retry_after_cap else None

    # Requests ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        expected: Iterable[int] = (200,),
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying what is safe to retry, and return the
        response when its status is in ``expected``.

        ``url`` is absolute (see ``url()``). Redirects are never followed.
        Raises ``LmsError`` subclasses; see the module docstring for the retry rules.
        ``AddressRefused`` (where the URL leads is not allowed) is never retried.
        """
        expected = frozenset(expected)
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            failure: RemoteUnavailable | None = None
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                sent = _may_have_been_sent(exc)
                failure = self._connection_error(exc, method, url, sent=sent, idempotent=idempotent)
                retryable = idempotent or not sent
            if failure is not None:
                # Raised outside the except block on purpose: the requests exception
                # (whose text holds the full URL, v1 apiKey included) must not ride along
                # as __context__ into error trackers.
                if retryable and attempt < self.retry.max_attempts:
                    wait = self.retry.backoff(attempt, self._jitter())
                    self._log_retry(failure, wait, attempt)
                    self._sleep(wait)
                    continue
                raise failure

            elapsed_ms = (time.monotonic() - started) * 1000
            logger.debug(
                "%s %s %s -> %s in %.0f ms",
                self.name,
                method,
                self.redact(mask_url(response.url or url)),
                response.status_code,
                elapsed_ms,
            )
            if response.status_code in expected:
                return response

            error = self.error_for_response(response, idempotent=idempotent)
            retry_in = self._retry_wait(response, attempt) if idempotent else None
            response.close()
            if retry_in is None:
                raise error
            self._log_retry(error, retry_in, attempt)
            self._sleep(retry_in)

    def _connection_error(
        self,
        exc: requests.RequestException,
        method: str,
        url: str,
        *,
        sent: bool,
        idempotent: bool,
    ) -> RemoteUnavailable:
        where = self.describe(method, url)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            what = f"connect timeout after {self.timeout[0]:g}s"
        elif isinstance(exc, requests.exceptions.ReadTimeout):
            what = f"read timeout after {self.timeout[1]:g}s"
        elif not sent:
            what = "could not connect"
        else:
            what = "connection lost"
        # The exception text itself is not used: requests puts the full URL (query
        # string included, e.g. a v1 apiKey) in it.
        text = self.redact(f"{where}: {what} ({type(exc).__name__})")
        if sent and not idempotent:
            text += "; the request may have been applied"
        return RemoteUnavailable(text, may_have_been_applied=sent and not idempotent)

    def _log_retry(self, error: LmsError, wait: float, attempt: int) -> None:
        logger.warning(
            "%s; retrying in %.1fs (attempt %d of %d)",
            error.message,
            wait,
            attempt + 1,
            self.retry.max_attempts,
        )

    # Bodies ------------------------------------------------------------------------------
    def decode_json(self, response: requests.Response, *, may_have_been_applied: bool = False) -> Any:
        """The decoded JSON body; ``BadResponse`` when it is not JSON.

        ``may_have_been_applied`` is set on the error for state-changing calls whose
        success answer we could not read.
        """
        try:
            return response.json()
        except ValueError:
            pass
        # Raised outside the except block: the decode error's context holds the body,
        # which for a token answer would include the access token.
        where = self.describe(response.request.method or "?", response.url or "")
        raise BadResponse(
            f"{where}: HTTP {response.status_code} with a malformed JSON body",
            status=response.status_code,
            # A truncated body or a proxy's HTML page can be transient.
            permanent=False,
            may_have_been_applied=may_have_been_applied,
        )

    def next_link(self, response: requests.Response) -> str | None:
        """The absolute URL of ``Link: <...>; rel="next"``, or ``None`` when absent.

        Raises ``BadResponse`` when it points to another origin.
        """
        link = response.links.get("next")
        if not link or not link.get("url"):
            return None
        return self.same_origin_url(link["url"], relative_to=response.url)


# Clients -----------------------------------------------------------------------------------
class CredentialsClient:
    """What every client-credentials client shares: one transport, one token manager, and
    ``close()`` / ``with``. Subclasses name their ``transport_class``, ``name`` and
    ``provider`` and implement ``_fetch_token``; the secret lives only in the transport's
    redactor and in the closure that fetches tokens, never as an attribute (and the
    functions holding it are ``hide_locals``)."""

    transport_class: ClassVar[type[Transport]]
    #: The vendor's name in messages and logs.
    name: ClassVar[str]
    #: Namespace of the token cache key.
    provider: ClassVar[str]

    @hide_locals
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        token_store: TokenStore | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        retry: RetryPolicy = DEFAULT_RETRY,
        token_refresh_margin: float = 60.0,
        allow_loopback: bool = False,
    ) -> None:
        """``allow_loopback``: see ``Transport``. Raises ``AddressRefused`` for a malformed base URL."""
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self.client_id = client_id
        self._transport = self.transport_class(
            base_url,
            name=self.name,
            timeout=timeout,
            user_agent=user_agent,
            sleep=sleep,
            retry=retry,
            secrets=(client_secret,),
            allow_loopback=allow_loopback,
        )
        self.base_url = self._transport.base_url

        @hide_locals
        def fetch() -> tuple[str, float]:
            # Every frame below (the token request's body included) holds the secret.
            return self._fetch_token(client_secret)

        self._tokens = TokenManager(
            store=token_store if token_store is not None else InMemoryTokenStore(),
            key=token_cache_key(self.provider, self.base_url, client_id),
            fetch=fetch,
            clock=clock,
            refresh_margin=token_refresh_margin,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def _fetch_token(self, client_secret: str) -> tuple[str, float]:
        """``(access_token, expires_in)`` from the vendor's token endpoint."""
        raise NotImplementedError

    @staticmethod
    def _token_from(body: Any, what: str, *, token_type_required: bool) -> tuple[str, float]:
        """Check a token answer: a non-empty bearer token with a positive lifetime."""
        f = Fields(body, what)
        token, expires_in = f.string("access_token"), f.number("expires_in")
        token_type = f.string("token_type") if token_type_required else f.opt_string("token_type")
        if token_type is not None and token_type.lower() != "bearer":
            raise BadResponse(f"{what}: token_type must be Bearer")
        if not token or expires_in <= 0:
            raise BadResponse(f"{what}: empty token or non-positive expires_in")
        return token, expires_in
