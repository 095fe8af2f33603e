"""The one error family of statekit.

Every error a caller can see is a ``StatekitError``; each message names the key
(or URL, or option) and the rule it broke, so a log line is enough to act on.
Subclasses also derive from the matching built-in exception so code that
already catches ``ValueError``/``KeyError`` style errors keeps working.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statekit.store.types import Item


class StatekitError(Exception):
    """Base of every statekit error."""


class Conflict(StatekitError):
    """A condition (``if_match``, ``if_absent``, a transaction check) failed.

    ``current`` is the item as the backend saw it when the condition failed
    (``None`` when it does not exist), when the backend reports it in the same
    round trip; callers use it to retry without a second read.
    """

    def __init__(
        self,
        key: str,
        rule: str,
        current: Item | None = None,
        *,
        current_reported: bool = False,
    ) -> None:
        super().__init__(f"conflict on key {key!r}: {rule}")
        self.key = key
        self.rule = rule
        self.current = current
        # True when ``current`` (even ``None``: missing) is what the backend reported.
        self.current_reported = current_reported or current is not None


class InvalidKey(StatekitError, ValueError):
    """A key (or prefix) breaks the portable key rules."""

    def __init__(self, key: object, rule: str) -> None:
        super().__init__(f"invalid key {key!r}: {rule}")
        self.key = key
        self.rule = rule


class InvalidValue(StatekitError, ValueError):
    """A value is not JSON-compatible, or not of the type an operation needs."""

    def __init__(self, key: str, rule: str) -> None:
        super().__init__(f"invalid value for key {key!r}: {rule}")
        self.key = key
        self.rule = rule


class ValueTooLarge(StatekitError, ValueError):
    """A value is over the portable size limit."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        super().__init__(
            f"value for key {key!r} is {size} bytes as JSON; the portable limit is {limit} bytes"
        )
        self.key = key
        self.size = size
        self.limit = limit


class InvalidTransaction(StatekitError, ValueError):
    """A transaction breaks a rule that holds on every backend."""


class CrossPartitionTransaction(InvalidTransaction):
    """A transaction names keys of more than one partition (refused before any call)."""

    def __init__(self, partitions: list[str]) -> None:
        super().__init__(
            "a transaction must stay within one partition (the part of a key before its "
            f"first '/'); it names {len(partitions)}: {', '.join(map(repr, partitions))}"
        )
        self.partitions = partitions


# Query parameters whose value is (or may be) a secret: password, key, sig, token...
# ``*_env`` and ``password_secret`` name where a secret lives, not the secret itself.
_SECRET_PARAM = re.compile(r"pass|pwd|key|sig|token|secret|cred|auth|sas|session", re.IGNORECASE)
_REFERENCE_PARAM = re.compile(r".*_env|password_secret", re.IGNORECASE)
REDACTED = "***"


def _redact_param(match: re.Match[str]) -> str:
    name = match.group(2)
    if _SECRET_PARAM.search(name) and not _REFERENCE_PARAM.fullmatch(name):
        return f"{match.group(1)}{name}={REDACTED}"
    return match.group(0)


def redact_url(url: str) -> str:
    """``url`` with the password of its user info and every secret-like parameter as ``***``.

    Works on text, not on a parsed URL, because it must also redact URLs too
    malformed to parse; it errs on redacting too much.
    """
    text = str(url)
    scheme_end = text.find("://")
    if scheme_end >= 0:
        start = scheme_end + 3
        end = len(text)
        for stop in "?#":
            found = text.find(stop, start)
            if found >= 0:
                end = min(end, found)
        authority = text[start:end]
        at = authority.rfind("@")
        if at >= 0:
            user, colon, _ = authority[:at].partition(":")
            userinfo = f"{user}:{REDACTED}" if colon else user
            text = text[:start] + userinfo + authority[at:] + text[end:]
    # A URL inside a parameter (``?endpoint=http://u:p@host``) has user info too.
    text = _NESTED_USERINFO.sub(rf"\1:{REDACTED}@", text)
    return re.sub(r"([?&;])([^=&;#]*)=([^&;#]*)", _redact_param, text)


_NESTED_USERINFO = re.compile(r"(//[^/?#@:]*):(?!\*\*\*@)[^/?#@]*@")


class InvalidURL(StatekitError, ValueError):
    """A connection URL (``STATEKIT_*_URL`` or an argument) cannot be used.

    The message, ``url`` and ``rule`` never carry a secret: passwords and
    secret-like parameters are redacted (``redact_url``).
    """

    def __init__(self, url: str, rule: str, source: str = "url") -> None:
        shown = redact_url(url)
        rule = _redact_secrets_of(url, shown, rule)
        super().__init__(f"invalid {source} {shown!r}: {rule}")
        self.url = shown
        self.rule = rule


def _redact_secrets_of(url: str, shown: str, text: str) -> str:
    """``text`` without any secret that ``redact_url`` took out of ``url``."""
    if shown == url:
        return text
    for secret in _secrets_in(url):
        if len(secret) >= 3:  # shorter fragments would garble the message, not hide much
            text = text.replace(secret, REDACTED)
    return text


def _secrets_in(url: str) -> list[str]:
    secrets = []
    scheme_end = url.find("://")
    if scheme_end >= 0:
        authority = re.split(r"[?#]", url[scheme_end + 3 :], maxsplit=1)[0]
        if "@" in authority:
            _, colon, password = authority[: authority.rfind("@")].partition(":")
            if colon and password:
                secrets.append(password)
    secrets.extend(m.group(1) for m in re.finditer(r"//[^/?#@:]*:([^/?#@]+)@", url))
    for match in re.finditer(r"[?&;]([^=&;#]*)=([^&;#]*)", url):
        name, value = match.group(1), match.group(2)
        if value and _SECRET_PARAM.search(name) and not _REFERENCE_PARAM.fullmatch(name):
            secrets.append(value)
    return secrets


class InvalidOption(StatekitError, ValueError):
    """An option (ttl, limit, attempts, cursor, ...) has a value that is not allowed."""


class Unsupported(StatekitError, NotImplementedError):
    """The backend does not declare the capability this call needs."""

    def __init__(self, backend: str, capability: str) -> None:
        super().__init__(f"backend {backend!r} does not support {capability!r}")
        self.backend = backend
        self.capability = capability


class BackendUnavailable(StatekitError, ConnectionError):
    """The backend could not be reached, or did not answer in time, after bounded retries.

    ``outcome_unknown`` tells what happened to the request:

    * ``False``: it never reached the service (connection refused, no route, a
      connect timeout): nothing was applied, a retry is safe.
    * ``True``: it may have reached the service (a read timeout, a connection
      lost mid-request, a 5xx answer): a write **may have been applied**. Retry
      only what is safe to apply twice: a conditional write (``if_match``,
      ``if_absent``) is, because the retry of an applied write fails its
      condition; ``Store.update`` handles this itself (it re-reads: see its
      docstring); a blind ``increment`` is not: read it back first.
    """

    def __init__(
        self,
        backend: str,
        operation: str,
        cause: BaseException | None = None,
        *,
        outcome_unknown: bool | None = None,
    ) -> None:
        if outcome_unknown is None:
            outcome_unknown = not never_sent(cause)
        detail = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        outcome = (
            "the outcome is unknown: a write may have been applied"
            if outcome_unknown
            else "nothing was applied (the service was not reached)"
        )
        super().__init__(f"backend {backend!r} unavailable during {operation}{detail}; {outcome}")
        self.backend = backend
        self.operation = operation
        self.outcome_unknown = outcome_unknown


# Exceptions raised before a request is sent (by class name, so no SDK is imported).
_NOT_SENT_TYPES = frozenset(
    {
        "ConnectionRefusedError",
        "EndpointConnectionError",  # botocore: could not connect
        "ConnectTimeoutError",  # botocore/urllib3: the connection was never made
        "ConnectTimeout",
        "NewConnectionError",  # urllib3
        "ServiceRequestError",  # azure-core: the request was not sent
        "NoRegionError",
        "EntraTokenUnavailable",  # statekit.clients.redis_entra: no token, so no connection
    }
)
_NOT_SENT_TEXT = ("Connection refused", "Errno 111]", "Error 111 ")


def never_sent(cause: BaseException | None) -> bool:
    """Whether ``cause`` (or an exception it wraps) shows the request never left the client."""
    seen = 0
    while cause is not None and seen < 8:
        names = {klass.__name__ for klass in type(cause).__mro__}
        if names & _NOT_SENT_TYPES:
            return True
        text = str(cause)
        if any(marker in text for marker in _NOT_SENT_TEXT):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False
