"""Aspects applied to every stack: tags/labels on everything, and the production policy.

Tagging: every resource whose binding has a ``tags`` (AWS, Azure) or ``labels``
(Google) map gets ``environment``, ``stack`` and ``owner`` plus the file's tags,
merged under whatever the construct set itself.

Policy: data-driven. Each cloud registers ``PolicyRule``s per Terraform resource
type (``register_rules``); in a production stack every resource of a registered
type is checked against its synthesized configuration, and synthesis fails with
``PolicyViolation`` listing every resource that lacks encryption, a TLS minimum,
backups or deletion protection. A resource type that a production stack creates
and no cloud registered rules for is not checked: register rules when adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jsii
from cdktn import IAspect, TerraformResource
from constructs import IConstruct

Requirement = Literal["encryption", "tls", "backup", "deletion_protection"]
Config = Mapping[str, Any]


@dataclass(frozen=True)
class PolicyRule:
    requirement: Requirement
    description: str  # what must hold, e.g. "server_side_encryption.kms_key_arn is set"
    check: Callable[[Config], bool]


_RULES: dict[str, list[PolicyRule]] = {}


def register_rules(resource_type: str, rules: Iterable[PolicyRule]) -> None:
    """Add rules for a Terraform resource type (idempotent per description)."""
    existing = _RULES.setdefault(resource_type, [])
    known = {rule.description for rule in existing}
    existing.extend(rule for rule in rules if rule.description not in known)


def rules_for(resource_type: str) -> list[PolicyRule]:
    return list(_RULES.get(resource_type, ()))


def get_path(config: Config, dotted: str) -> Any:
    """``get_path(c, "a.b")``; a nested block synthesizes as a dict or a one-item list."""
    value: Any = config
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def is_true(dotted: str) -> Callable[[Config], bool]:
    return lambda config: get_path(config, dotted) is True


def is_set(dotted: str) -> Callable[[Config], bool]:
    return lambda config: get_path(config, dotted) not in (None, "", [], {})


def equals(dotted: str, *allowed: Any) -> Callable[[Config], bool]:
    return lambda config: get_path(config, dotted) in allowed


def at_least(dotted: str, minimum: float) -> Callable[[Config], bool]:
    def check(config: Config) -> bool:
        value = get_path(config, dotted)
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum

    return check


class PolicyViolation(RuntimeError):
    """A production resource lacks a required protection; synthesis stops."""

    def __init__(self, stack: str, violations: list[str]) -> None:
        self.stack = stack
        self.violations = violations
        lines = "\n  ".join(violations)
        super().__init__(f"policy check failed for production stack {stack}:\n  {lines}")


def resource_config(resource: TerraformResource) -> dict[str, Any]:
    """The resource's synthesized attributes (tokens stay as strings, which is enough here)."""
    synthesized = resource.to_terraform()
    body = synthesized.get("resource", {}).get(resource.terraform_resource_type, {})
    return dict(next(iter(body.values()), {}))


def check_policy(resource: TerraformResource) -> list[str]:
    """Every failed rule of one resource, as ``type.id: requirement: description``."""
    rules = rules_for(resource.terraform_resource_type)
    if not rules:
        return []
    config = resource_config(resource)
    return [
        f"{resource.terraform_resource_type}.{resource.friendly_unique_id}: "
        f"{rule.requirement}: {rule.description}"
        for rule in rules
        if not rule.check(config)
    ]


@jsii.implements(IAspect)
class TaggingAspect:
    """Merges the stack's required tags (or GCP labels) into every taggable resource."""

    def __init__(self, tags: Mapping[str, str]) -> None:
        self.tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource):
            return
        # On Google resources ``tags`` are Resource Manager tag bindings (``tagKeys/...``),
        # not free-form: the required tags go into ``labels`` there.
        google = node.terraform_resource_type.startswith("google_")
        for attribute in ("labels",) if google else ("tags", "labels"):
            if isinstance(getattr(type(node), attribute, None), property):
                current = getattr(node, f"{attribute}_input", None) or {}
                if isinstance(current, Mapping):
                    setattr(node, attribute, {**self.tags, **current})
                return


@jsii.implements(IAspect)
class PolicyAspect:
    """Fails synthesis of a production stack on the first resource visit that breaks a rule.

    Raising from ``visit`` aborts ``app.synth()`` with the PolicyViolation's message,
    so no stack folder is written for a stack that would fail review.
    """

    def __init__(self, stack_name: str, production: bool) -> None:
        self.stack_name = stack_name
        self.production = production

    def visit(self, node: IConstruct) -> None:
        if not self.production or not isinstance(node, TerraformResource):
            return
        violations = check_policy(node)
        if violations:
            raise PolicyViolation(self.stack_name, violations)
