"""Key and payload selectors: a callable over the arguments or a JMESPath expression.

A JMESPath expression is evaluated over the event (the first argument) and may
use ``from_json(s)`` for a JSON body in a string. ``jmespath`` is imported only
when a decorator uses an expression.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from statekit.errors import InvalidOption
from statekit.idempotency.errors import IdempotencyKeyError

KeySpec = Callable[..., Any] | str
Selector = Callable[[tuple[Any, ...], dict[str, Any]], Any]

# Top-level event fields that differ between deliveries of the same request
# (API Gateway's requestContext and trace headers, an SQS record's receipt handle
# and receive count): left out of the default payload of a JMESPath key, so a
# redelivery replays instead of being refused as a different payload.
DELIVERY_FIELDS = frozenset(
    {"requestContext", "headers", "multiValueHeaders", "receiptHandle", "attributes"}
)


def selector(name: str, spec: KeySpec) -> Selector:
    if callable(spec):
        return lambda args, kwargs: spec(*args, **kwargs)
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidOption(
            f"@idempotent {name} must be a callable over the arguments or a JMESPath "
            f"expression string, got {spec!r}"
        )
    try:
        import jmespath
        from jmespath.exceptions import JMESPathError
    except ModuleNotFoundError:
        raise InvalidOption(
            f"@idempotent {name} {spec!r} is a JMESPath expression, which needs the "
            "'jmespath' package (a statekit dependency): pip install jmespath; or pass a callable"
        ) from None

    try:
        compiled = jmespath.compile(spec)
    except JMESPathError as exc:
        raise InvalidOption(f"@idempotent {name}: invalid JMESPath {spec!r}: {exc}") from None
    options = jmespath_options()

    def select(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        event = args[0] if args else kwargs.get("event")
        if not isinstance(event, dict | list):
            raise IdempotencyKeyError(
                f"{name} {spec!r} is a JMESPath expression over the event, so the first "
                f"argument must be a dict or list, got {type(event).__name__}; pass a callable"
            )
        try:
            return compiled.search(event, options=options)
        except JMESPathError as exc:
            raise IdempotencyKeyError(f"{name} {spec!r} failed on the event: {exc}") from None

    return select


@functools.cache
def jmespath_options() -> Any:
    """JMESPath options with ``from_json(s)``: parse a JSON string in the event (API Gateway's body)."""
    import jmespath
    import jmespath.functions

    class JsonFunctions(jmespath.functions.Functions):  # type: ignore[misc]
        @jmespath.functions.signature({"types": ["string"]})  # type: ignore[untyped-decorator]
        def _func_from_json(self, text: str) -> Any:
            return json.loads(text)

    return jmespath.Options(custom_functions=JsonFunctions())


def without_delivery_fields(event: Any) -> Any:
    if isinstance(event, dict):
        return {k: v for k, v in event.items() if k not in DELIVERY_FIELDS}
    return event
