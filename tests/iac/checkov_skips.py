"""Checkov checks skipped per environment, each with its one-line reason.

Production skips only what no configuration of this stack can satisfy; every
dev/staging skip is a deliberate cost or convenience trade-off of that environment
(see environments/<env>.toml). The test fails on any other failed check.
"""

from __future__ import annotations

# AWS. Azure and GCP list theirs in checkov_skips_azure_gcp.py.
PROD: dict[str, str] = {
    "CKV_AWS_272": "Lambda code signing needs a signed artifact from an S3 signing job; the asset "
    "is zipped and uploaded by Terraform itself (planned: signer profile + pipeline).",
    "CKV_AWS_116": "A function's DLQ takes failed asynchronous invocations only; every invocation "
    "here is synchronous (function URL, Step Functions Task, SQS event source mapping, whose "
    "failed messages reach the queue's own DLQ by redrive): issue 16.",
    "CKV_AWS_285": "Execution logging is on (level ERROR in prod), but without execution data: "
    "the saga's input and results hold card tokens (include_execution_data = false in prod).",
    "CKV2_AWS_57": "The ElastiCache auth token has no AWS-provided rotation function; it is 64 "
    "random characters, KMS-encrypted and readable only by the functions' role.",
}

# What dev and staging relax on purpose (customer-managed keys off, short log retention, ...).
RELAXED: dict[str, str] = {
    "CKV_AWS_158": "Log groups use CloudWatch's default encryption; no customer-managed key outside prod.",
    "CKV_AWS_338": "Logs are kept 7/30 days outside prod (observability.log_retention_days).",
    "CKV_AWS_119": "DynamoDB uses the AWS-managed key outside prod (database.customer_managed_key = false).",
    "CKV_AWS_191": "ElastiCache uses the AWS-managed key outside prod.",
    "CKV_AWS_149": "The cache secret uses the AWS-managed key outside prod.",
    "CKV_AWS_173": "Lambda environment holds no secret; the AWS-managed key encrypts it outside prod.",
    "CKV_AWS_115": "No reserved concurrency outside prod: small accounts cannot reserve it.",
    "CKV_AWS_28": "Point-in-time recovery is off in dev (database.point_in_time_recovery = false).",
    "CKV_AWS_117": "dev has the cache off, so the functions need no VPC and run outside one.",
    "CKV_AWS_297": "Schedules use the AWS-owned key outside prod (no customer-managed key).",
}

AWS_SKIPS: dict[str, dict[str, str]] = {
    "prod": PROD,
    "staging": {**PROD, **RELAXED},
    "dev": {**PROD, **RELAXED},
}


def skips_for(env: str) -> dict[str, str]:
    """The AWS skips of one environment (Azure/GCP: checkov_skips_azure_gcp.py)."""
    return dict(AWS_SKIPS.get(env, AWS_SKIPS["dev"]))
