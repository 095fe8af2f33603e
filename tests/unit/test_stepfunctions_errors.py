"""Which Step Functions SDK failures become BackendUnavailable (``reaching_the_service``).

Pure translation: the refused connection itself is exercised against a port where
nothing listens in tests/conformance/workflows/test_observability.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from statekit import BackendUnavailable
from statekit.workflows.engines.stepfunctions.client import reaching_the_service


def _answer(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "StartExecution")


def _raising(error: Exception) -> BaseException:
    @reaching_the_service
    def start() -> None:
        raise error

    with pytest.raises((BackendUnavailable, ClientError)) as raised:
        start()
    caught: BaseException = raised.value
    return caught


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), False),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), True),
        (_answer("ThrottlingException", 400), True),
        (_answer("InternalFailure", 500), True),
        (_answer("SomethingNew", 503), True),
    ],
)
def test_unreachable_throttled_or_failing_service_is_unavailable(
    error: Exception, unknown: bool
) -> None:
    translated = _raising(error)
    assert isinstance(translated, BackendUnavailable)
    assert translated.backend == "stepfunctions" and translated.operation == "start"
    assert translated.outcome_unknown is unknown
    assert translated.__cause__ is error


@pytest.mark.parametrize("code", ["ExecutionDoesNotExist", "AccessDeniedException"])
def test_other_answers_are_left_to_the_method(code: str) -> None:
    error = _answer(code, 400)
    assert _raising(error) is error
