"""The settings that matter, read from each synthesized resource's attributes.

One list of rules per Terraform resource type (settings_aws.py, settings_azure.py,
settings_gcp.py): (aspect, label, how to read it). Aspects are the columns people
compare: encryption and key, TLS minimum, backups or point-in-time recovery,
dead-letter wiring, consistency, network exposure, plus capacity and retention.
A rule returns None when the attribute is not set, and where the provider has a
default the rule names it ("off (default)"), never a guess.
"""

from __future__ import annotations

from statekit.compare.settings_aws import AWS_RULES
from statekit.compare.settings_azure import AZURE_RULES
from statekit.compare.settings_gcp import GCP_RULES
from statekit.compare.settings_readers import ASPECTS, Reader, Setting
from statekit.compare.tfjson import Resource, Stack

__all__ = ["ASPECTS", "RULES", "Setting", "settings_of"]

RULES: dict[str, list[tuple[str, str, Reader]]] = {**AWS_RULES, **AZURE_RULES, **GCP_RULES}


def settings_of(resource: Resource, stack: Stack) -> list[Setting]:
    """The settings of one resource; types without rules contribute nothing."""
    found = []
    for aspect, label, reader in RULES.get(resource.type, []):
        value = reader(resource, stack)
        if value is not None:
            found.append(Setting(aspect, label, str(value), f"{resource.type} {resource.name}"))
    return found
