"""One error hierarchy for every remote LMS client.

Callers branch on two flags rather than on HTTP details:

- ``permanent``: retrying the same call will not help (bad credentials, missing
  resource, invalid input, a body we do not understand). Task retry policies read it
  the way healthchecks' ``TransportError(permanent=)`` is read.
- ``may_have_been_applied``: only meaningful for calls that change remote state (bulk
  upserts, integration create/edit/delete). ``True`` means the request may have reached
  the server and been acted on, so the caller must reconcile (poll bulk operations,
  re-read integrations) instead of sending it again. ``False`` means the remote refused
  it or it never left this machine, so sending it again cannot double-apply it.

Messages never contain secrets: the transport masks URLs and redacts known secret
values before building an error, and errors never carry request or response bodies.
"""

from __future__ import annotations


class LmsError(Exception):
    """Base class: a remote LMS call did not produce the expected result.

    Attributes: ``message`` (safe to log and show to admins), ``status`` (HTTP status or
    ``None`` when no response arrived), ``code`` (the remote error code, e.g.
    ``invalid_token``, ``bulkAPIDisabled``, or ``None``), ``permanent`` and
    ``may_have_been_applied`` (see the module docstring).
    """

    default_permanent = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        permanent: bool | None = None,
        may_have_been_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.permanent = self.default_permanent if permanent is None else permanent
        self.may_have_been_applied = may_have_been_applied

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r}, "
            f"permanent={self.permanent!r}, may_have_been_applied={self.may_have_been_applied!r})"
        )


class AuthError(LmsError):
    """The remote refused the credentials or the token (401): fix the connection."""

    default_permanent = True


class PermissionDenied(LmsError):
    """The credentials are valid but lack a scope or role for this call (403)."""

    default_permanent = True


class NotFound(LmsError):
    """The resource named in the call does not exist on the remote (404)."""

    default_permanent = True


class RateLimited(LmsError):
    """The remote asked us to slow down (429).

    ``retry_after`` is the wait in seconds the remote asked for, or ``None`` when it did
    not say. Raised after the client's own retries for idempotent calls, at once when the
    requested wait exceeds the client's cap, and at once for bulk calls (the caller
    reschedules instead of holding a worker).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class RemoteUnavailable(LmsError):
    """No usable answer: connection error, timeout, or a 5xx status."""


class BadRequest(LmsError):
    """The remote rejected the request as invalid (400 and other 4xx); ``message`` and
    ``code`` carry the remote's own explanation."""

    default_permanent = True


class BatchTooLarge(BadRequest, ValueError):
    """A bulk batch exceeds the documented limit; raised before anything is sent.

    Also a ``ValueError`` because it is a caller bug (split the batch), not a remote answer.
    """


class BadResponse(LmsError):
    """The remote answered, but its body does not match the vendor contract (malformed
    JSON or XML, a missing or mistyped field, refused XML entities, an unexpected
    status or redirect)."""

    default_permanent = True


class AddressRefused(LmsError, ValueError):
    """The base URL is malformed, or where it leads is not allowed: a private, reserved or
    loopback address (loopback only when the caller allows it), an IPv6 form wrapping an
    IPv4 address, plain http or a port other than 443 to anything but an allowed loopback
    sandbox. Raised before a byte is sent. ``message`` is written for the admin who typed
    the URL; ``code`` names the rule (``port``, ``private``, ``loopback``...).

    Also a ``ValueError``: it is the connection's configuration that is wrong, not a remote answer.
    """

    default_permanent = True
