"""Which SDK failures of the clouds' workflow clients become BackendUnavailable.

Pure translation (``statekit.workflows.engines.reaching``): the refused connection
itself is exercised against a port where nothing listens in
tests/conformance/workflows/test_observability.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from google.api_core import exceptions as gexc

from statekit import BackendUnavailable
from statekit.workflows import WorkflowNotFound
from statekit.workflows.engines.cloud_workflows import client as cloud_workflows
from statekit.workflows.engines.stepfunctions import client as stepfunctions


def _answer(code: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "StartExecution")


def _google(kind: type[Exception], message: str) -> Exception:
    return kind(message)  # the SDK's classes are untyped: built through a typed door


def _raised(decorator: Callable[[Any], Any], error: Exception) -> BaseException:
    @decorator
    def start() -> None:
        raise error

    with pytest.raises(Exception) as raised:  # noqa: PT011 - which one is the question
        start()
    caught: BaseException = raised.value
    return caught


@pytest.mark.parametrize(
    ("engine", "decorator", "error", "unknown"),
    [
        (
            "stepfunctions",
            stepfunctions.reaching_the_service,
            EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            False,
        ),
        (
            "stepfunctions",
            stepfunctions.reaching_the_service,
            ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
            True,
        ),
        (
            "stepfunctions",
            stepfunctions.reaching_the_service,
            _answer("ThrottlingException", 400),
            True,
        ),
        (
            "stepfunctions",
            stepfunctions.reaching_the_service,
            _answer("InternalFailure", 500),
            True,
        ),
        ("stepfunctions", stepfunctions.reaching_the_service, _answer("SomethingNew", 503), True),
        (
            "workflows",
            cloud_workflows.reaching_the_service,
            _google(gexc.ServiceUnavailable, "down"),
            True,
        ),
        (
            "workflows",
            cloud_workflows.reaching_the_service,
            _google(gexc.DeadlineExceeded, "slow"),
            True,
        ),
        (
            "workflows",
            cloud_workflows.reaching_the_service,
            _google(gexc.ResourceExhausted, "quota"),
            True,
        ),
    ],
)
def test_unreachable_throttled_or_failing_service_is_unavailable(
    engine: str, decorator: Callable[[Any], Any], error: Exception, unknown: bool
) -> None:
    translated = _raised(decorator, error)
    assert isinstance(translated, BackendUnavailable)
    assert translated.backend == engine and translated.operation == "start"
    assert translated.outcome_unknown is unknown
    assert translated.__cause__ is error


@pytest.mark.parametrize(
    ("decorator", "error"),
    [
        (stepfunctions.reaching_the_service, _answer("ExecutionDoesNotExist", 400)),
        (stepfunctions.reaching_the_service, _answer("AccessDeniedException", 400)),
        (cloud_workflows.reaching_the_service, _google(gexc.NotFound, "no such execution")),
        (cloud_workflows.reaching_the_service, _google(gexc.PermissionDenied, "no role")),
        (cloud_workflows.reaching_the_service, WorkflowNotFound("run-1")),
        (cloud_workflows.reaching_the_service, BackendUnavailable("sqlite", "get")),
    ],
)
def test_other_errors_are_left_as_they_are(
    decorator: Callable[[Any], Any], error: Exception
) -> None:
    assert _raised(decorator, error) is error
