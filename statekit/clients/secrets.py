"""Passwords named by a connection URL, never written in it: shared by every backend.

``password_env=VAR`` names the variable the platform fills from its secret store;
``password_secret=ARN`` is an AWS Secrets Manager ARN, read once per process with
boto3 (imported only then). A JSON secret with a ``password`` field (the format of
ElastiCache and RDS secrets) is understood.
"""

from __future__ import annotations

import json
import os
import re
import threading

from statekit.errors import BackendUnavailable
from statekit.urls import ConnectionURL

_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$")
_secrets: dict[str, str] = {}
_secrets_lock = threading.Lock()


def resolve_password(url: ConnectionURL) -> str | None:
    """The password named by ``password_env`` or ``password_secret``, or ``None``."""
    env_name = url.param("password_env")
    secret_arn = url.param("password_secret")
    if env_name is not None and secret_arn is not None:
        raise url.error("give password_env or password_secret, not both")
    if env_name is not None:
        if not env_name:
            raise url.error("password_env must name an environment variable")
        value = os.environ.get(env_name)
        if value is None:
            raise url.error(f"password_env names {env_name!r}, which is not set")
        return value
    if secret_arn is not None:
        return _secret_password(url, secret_arn)
    return None


def _secret_password(url: ConnectionURL, arn: str) -> str:
    match = _ARN.match(arn)
    if match is None:
        raise url.error(
            f"password_secret must be a Secrets Manager ARN "
            f"(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), got {arn!r}"
        )
    with _secrets_lock:  # once per process: a warm invocation never calls Secrets Manager
        cached = _secrets.get(arn)
        if cached is not None:
            return cached
        try:
            import boto3
        except ModuleNotFoundError:
            raise url.error("password_secret needs boto3: pip install 'statekit[aws]'") from None
        from botocore.exceptions import ClientError

        client = boto3.client("secretsmanager", region_name=match.group(1))
        try:
            secret = client.get_secret_value(SecretId=arn)
        except ClientError as exc:  # the service answered: no such secret, no permission
            raise url.error(f"password_secret {arn!r} could not be read: {exc}") from None
        except Exception as exc:  # botocore's connection errors are many; the message says which
            raise BackendUnavailable("secretsmanager", f"reading {arn}", exc) from None
        text = secret.get("SecretString")
        if not isinstance(text, str):
            raise url.error(f"secret {arn!r} has no SecretString (binary secrets are not read)")
        password = _password_in(text)
        _secrets[arn] = password
        return password


def _password_in(text: str) -> str:
    """ElastiCache/RDS-style JSON secrets carry ``password``; a plain secret is the password."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict) and isinstance(parsed.get("password"), str):
        return str(parsed["password"])
    return text
