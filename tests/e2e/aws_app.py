"""The deployed example app on an AWS endpoint, driven through its real entry points.

- HTTP: the function URL, with requests signed by SigV4 for the ``lambda`` service
  (``authorization_type = "AWS_IAM"``) exactly as for
  ``https://<id>.lambda-url.<region>.on.aws/<path>``, then sent to the emulator's
  address for that URL, ``/_aws/lambda-url/<id>/<path>`` (MiniStack answers some
  paths, ``/health`` among them, itself, whatever the Host header says);
- the queue: messages sent to SQS, consumed by the event source mapping;
- the saga: its executions read back from Step Functions.

Also the check that a destroyed stack left nothing behind.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

EMULATOR_CREDENTIALS = Credentials("test", "test")


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=EMULATOR_CREDENTIALS.access_key,
        aws_secret_access_key=EMULATOR_CREDENTIALS.secret_key,
    )


@dataclass
class DeployedApp:
    """``tests.handlers.scenario.Platform`` over a deployed stack."""

    endpoint: str  # the emulator, http://127.0.0.1:PORT
    region: str
    function_url: str  # the stack's output <http function>_endpoint
    queue_name: str
    dlq_name: str
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sqs = client("sqs", self.endpoint, self.region)
        self.queue_url = self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        self.dlq_url = self.sqs.get_queue_url(QueueName=self.dlq_name)["QueueUrl"]

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        host = urlsplit(self.function_url).netloc
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        payload = None if data is None else data.encode()
        signed = AWSRequest(
            method=method,
            url=f"https://{host}{path}",
            data=payload,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        SigV4Auth(EMULATOR_CREDENTIALS, "lambda", self.region).add_auth(signed)
        url_id = host.split(".", 1)[0]
        request = urllib.request.Request(
            f"{self.endpoint}/_aws/lambda-url/{url_id}{path}",
            data=payload,
            method=method,
            headers=dict(signed.headers.items()),
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        route = f"{method} /{path.strip('/').split('/')[0]}"
        self.latencies.setdefault(route, []).append(time.perf_counter() - started)
        return status, json.loads(text)

    def deliver_events(self) -> None:
        """Nothing to drive: the stack's event source mapping polls the queue."""

    def send_event(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def dead_letters(self) -> list[Any]:
        received = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return [json.loads(m["Body"]) for m in received.get("Messages", [])]

    def latency_table(self) -> list[tuple[str, int, float, float]]:
        """(route, calls, median ms, max ms) for every route called."""
        return [
            (route, len(times), statistics.median(times) * 1000, max(times) * 1000)
            for route, times in sorted(self.latencies.items())
        ]


def leftovers(endpoint: str, region: str, prefix: str) -> dict[str, list[str]]:
    """What still exists under the stack's name prefix (``<app>-dev``), by service."""

    def named(values: list[str]) -> list[str]:
        return [v for v in values if prefix in v]

    found = {
        "dynamodb": named(client("dynamodb", endpoint, region).list_tables()["TableNames"]),
        "sqs": named(client("sqs", endpoint, region).list_queues().get("QueueUrls", [])),
        "lambda": named(
            [
                f["FunctionName"]
                for f in client("lambda", endpoint, region).list_functions()["Functions"]
            ]
        ),
        "stepfunctions": named(
            [
                m["name"]
                for m in client("stepfunctions", endpoint, region).list_state_machines()[
                    "stateMachines"
                ]
            ]
        ),
        "sns": named(
            [t["TopicArn"] for t in client("sns", endpoint, region).list_topics()["Topics"]]
        ),
        "iam": named(
            [r["RoleName"] for r in client("iam", endpoint, region).list_roles()["Roles"]]
        ),
        "logs": named(
            [
                g["logGroupName"]
                for g in client("logs", endpoint, region).describe_log_groups()["logGroups"]
            ]
        ),
        "cloudwatch": named(
            [
                a["AlarmName"]
                for a in client("cloudwatch", endpoint, region).describe_alarms()["MetricAlarms"]
            ]
        ),
        "kms aliases": named(
            [a["AliasName"] for a in client("kms", endpoint, region).list_aliases()["Aliases"]]
        ),
        # A deleted secret waits out its recovery window (prod: 30 days), as on AWS.
        "secretsmanager": named(
            [
                secret["Name"]
                for secret in client("secretsmanager", endpoint, region).list_secrets()[
                    "SecretList"
                ]
                if "DeletedDate" not in secret
            ]
        ),
    }
    kms = client("kms", endpoint, region)
    # A deleted key waits out its deletion window (PendingDeletion), as on AWS.
    found["kms keys"] = [
        k["KeyId"]
        for k in kms.list_keys()["Keys"]
        if prefix
        in (meta := kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]).get("Description", "")
        and meta["KeyState"] not in ("PendingDeletion", "Disabled")
    ]
    return {service: names for service, names in found.items() if names}
