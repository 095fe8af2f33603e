"""Parsing of connection URLs (``STATEKIT_*_URL``), shared by every ``open_*``.

A URL names its backend by scheme; the rest is the backend's to read through
``ConnectionURL``, which rejects query parameters a backend does not know so a
typo is an error, not a silently ignored option.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from statekit.errors import InvalidURL

# Schemes whose URL may name a user (a Redis ACL user, a PostgreSQL role); no scheme
# takes a password.
USERNAME_SCHEMES = frozenset({"redis", "rediss", "postgresql"})


class ConnectionURL(NamedTuple):
    """A parsed ``STATEKIT_*_URL`` (a named tuple: cheap to define on a cold start)."""

    raw: str
    scheme: str
    host: str
    port: int | None
    username: str | None
    path: str
    params: Mapping[str, str] = MappingProxyType({})
    source: str = "url"

    def error(self, rule: str) -> InvalidURL:
        return InvalidURL(self.raw, rule, self.source)

    def path_parts(self) -> list[str]:
        return [unquote(part) for part in self.path.split("/") if part]

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def require_known_params(self, known: Iterable[str]) -> None:
        unknown = sorted(set(self.params) - set(known))
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise self.error(f"unknown query parameter {unknown[0]!r} (allowed: {allowed})")


def parse_url(url: str, *, source: str = "url", allowed_schemes: Iterable[str]) -> ConnectionURL:
    """Split ``url`` and check its scheme is one of ``allowed_schemes``."""
    allowed = sorted(allowed_schemes)
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL(str(url), "a URL must be a non-empty string like 'sqlite://'", source)
    if "://" not in url:
        raise InvalidURL(
            url, f"missing '://'; expected one of {', '.join(s + '://' for s in allowed)}", source
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(url, f"malformed: {exc}", source) from None
    scheme = parts.scheme.lower()
    if scheme not in allowed:
        raise InvalidURL(
            url, f"unknown scheme {scheme!r}; known schemes: {', '.join(allowed)}", source
        )
    try:
        password = parts.password
    except ValueError:  # pragma: no cover - urlsplit parsed the netloc above
        password = None
    if password is not None:
        raise InvalidURL(
            url,
            "a password never goes in the URL (it ends up in Terraform and logs): "
            + (
                "use ?password_env=VAR or ?password_secret=ARN"
                if scheme in USERNAME_SCHEMES
                else "the service authenticates by the function's identity"
            ),
            source,
        )
    if parts.username is not None and scheme not in USERNAME_SCHEMES:
        raise InvalidURL(
            url,
            f"a {scheme}:// URL takes no user name or credentials (nothing before '@'): "
            "the service authenticates by the function's identity",
            source,
        )
    try:
        params = dict(
            parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        )
    except ValueError as exc:
        raise InvalidURL(url, f"malformed query string: {exc}", source) from None
    return ConnectionURL(
        raw=url,
        scheme=scheme,
        host=parts.hostname or "",
        port=port,
        username=unquote(parts.username) if parts.username else None,
        path=parts.path,
        params=params,
        source=source,
    )


def url_from_env(variable: str, default: str) -> tuple[str, str]:
    """The URL in ``variable`` (or ``default`` when unset), and where it came from."""
    value = os.environ.get(variable)
    if value is None or value == "":
        return default, "default"
    return value, variable


def statekit_home() -> str:
    """Folder of the embedded default's files: ``$STATEKIT_HOME`` or ``./.statekit``."""
    return os.environ.get("STATEKIT_HOME") or os.path.join(os.getcwd(), ".statekit")
