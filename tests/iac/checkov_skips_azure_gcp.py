"""Checkov checks skipped on the Azure and GCP stacks, each with its one-line reason.

(tests/iac/checkov_skips.py is the AWS list; these are kept apart so each cloud's
list is reviewed by whoever owns that cloud's constructs.)

``skips_for(settings)`` picks the groups that apply to one stack from its settings:

- ``ALWAYS``: every stack, prod included. Each is a check that does not fit this
  provider version or this architecture; the reason says what stands in for it.
- ``CUSTOMER_KEY``: only where the stack creates a customer-managed key (prod).
- ``NON_PROD``: relaxations dev and staging choose in their environment files.
- ``PROVIDER_KEY``: ``customer_managed_key = false`` (never prod: the policy aspect
  rejects a prod stack without customer-managed encryption).
- ``PUBLIC_NETWORK``: ``database.public_network_access = true`` (dev).

The checkov tests fail on any failure not skipped here, and on a stale entry: every
skipped id must still match a failing resource of that stack.
"""

from __future__ import annotations

from modules.common.settings import StackSettings

ALWAYS: dict[str, dict[str, str]] = {
    "azure": {
        "CKV_AZURE_140": "checkov reads the old attribute local_authentication_disabled; this provider's local_authentication_enabled is false (asserted in test_azure_stack)",
        "CKV_AZURE_41": "the Durable system key secret mirrors a non-expiring value that Terraform rewrites; an expiry would break the app-setting reference",
        "CKV_AZURE_225": "azurerm accepts zone_balancing_enabled only on Premium plan tiers; the Flex Consumption (FC1) plan's zone redundancy is not exposed by this provider",
        "CKV_AZURE_212": "worker_count is for dedicated plans; Flex Consumption (FC1) scales instances from zero per demand",
        "CKV_AZURE_33": "this provider version has no queue_properties.logging; queue read/write/delete logs go to Log Analytics through a diagnostic setting",
        "CKV2_AZURE_21": "storage insights needs the account key, which is disabled; blob read logs go to Log Analytics through a diagnostic setting",
    },
    "gcp": {
        "CKV_GCP_124": "the api function is the public HTTP entry point (ingress ALLOW_ALL) but every call needs IAM auth: no allUsers invoker; events and activity are internal-only",
        "CKV_GCP_62": "the source bucket holds only build archives Terraform writes; access is in Cloud Audit Logs, and usage logs would need a second, unlogged bucket",
    },
}

CUSTOMER_KEY: dict[str, dict[str, str]] = {
    "azure": {
        "CKV_AZURE_40": "the data key has a rotation_policy (expire_after P1Y, rotated 60 days before); a fixed expiration_date would fight the rotation",
    },
    "gcp": {},
}

PROVIDER_KEY: dict[str, dict[str, str]] = {
    "azure": {
        "CKV_AZURE_100": "customer_managed_key = false outside prod: Cosmos DB uses service-managed encryption at rest",
        "CKV2_AZURE_1": "customer_managed_key = false outside prod: storage uses service-managed encryption at rest",
    },
    "gcp": {
        "CKV_GCP_83": "customer_managed_key = false outside prod: Pub/Sub topics use Google-managed encryption at rest",
    },
}

NON_PROD: dict[str, dict[str, str]] = {
    "azure": {
        "CKV_AZURE_110": "purge protection only in prod, so dev and staging vaults can be deleted and recreated",
        "CKV_AZURE_42": "purge protection (recoverability) only in prod, so non-prod vaults can be deleted and recreated",
        "CKV_AZURE_206": "locally redundant storage outside prod; prod uses GZRS",
    },
    "gcp": {},
}

# dev sets database.public_network_access = true: no VNet, no private endpoints.
PUBLIC_NETWORK: dict[str, dict[str, str]] = {
    "azure": {
        "CKV_AZURE_101": "dev keeps public network access on (public_network_access = true): no VNet to pay for",
        "CKV_AZURE_99": "dev keeps public network access on: Cosmos DB is reached over its public endpoint with Entra auth",
        "CKV_AZURE_109": "dev keeps public network access on: the vault firewall allows all, RBAC still guards every secret",
        "CKV_AZURE_189": "dev keeps public network access on: the vault is reached over its public endpoint",
        "CKV_AZURE_59": "dev keeps public network access on: storage is reached publicly with Entra auth, shared keys off",
        "CKV_AZURE_35": "dev keeps public network access on: the storage firewall allows all, shared keys off",
        "CKV2_AZURE_33": "dev has no private endpoints (public_network_access = true)",
        "CKV2_AZURE_32": "dev has no private endpoints (public_network_access = true)",
    },
    "gcp": {},
}


def skips_for(settings: StackSettings) -> dict[str, str]:
    """Every skipped check id for one stack, with its reason."""
    cloud = settings.cloud
    skips = dict(ALWAYS[cloud])
    if settings.database.customer_managed_key:
        skips.update(CUSTOMER_KEY[cloud])
    else:
        skips.update(PROVIDER_KEY[cloud])
    if not settings.production:
        skips.update(NON_PROD[cloud])
    if settings.database.public_network_access:
        skips.update(PUBLIC_NETWORK[cloud])
    return skips
