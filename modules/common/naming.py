"""Resource names: one scheme for every cloud, within each cloud's length and character rules.

``Naming(settings).name("queue")`` gives ``<app>-prod-queue`` (the App's name first, so
two apps share an account without colliding). Names that must be
globally unique (S3 buckets, storage accounts, Key Vaults, GCS buckets) get a short,
deterministic suffix from the stack name and the cloud's account scope (project or
region), so two synths of the same settings give the same names.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .settings import StackSettings


def stack_name(app: str, cloud: str, env: str) -> str:
    """``<app>-<cloud>-<env>``: the stack (and its folder under cdktf.out/stacks/)."""
    return f"{app}-{cloud}-{env}"


def _clip(text: str, max_length: int) -> str:
    return text[:max_length].rstrip("-_")


@dataclass(frozen=True)
class Naming:
    settings: StackSettings

    @property
    def app(self) -> str:
        if not self.settings.app_name:
            raise ValueError("Naming needs the App's name (StackSettings.app_name is empty)")
        return self.settings.app_name

    @property
    def base(self) -> str:
        return f"{self.app}-{self.settings.env}"

    def suffix(self, length: int = 6) -> str:
        """Stable across synths; differs per stack, region and project."""
        scope = f"{self.settings.stack_name}/{self.settings.region}/{self.settings.project}"
        return hashlib.sha256(scope.encode()).hexdigest()[:length]

    def name(self, component: str, max_length: int = 63) -> str:
        """Kebab-case, lowercase: ``<app>-<env>-<component>``."""
        text = re.sub(r"[^a-z0-9-]+", "-", f"{self.base}-{component}".lower())
        return _clip(text, max_length)

    def unique(self, component: str, max_length: int = 63) -> str:
        """Kebab-case with the stable suffix, for globally unique names (buckets)."""
        suffix = self.suffix()
        head = self.name(component, max_length - len(suffix) - 1)
        return f"{head}-{suffix}"

    def compact(self, component: str, max_length: int = 24) -> str:
        """Lowercase letters and digits only, with the suffix: storage accounts, Key Vaults."""
        suffix = self.suffix()
        # The App's name (its first 8 letters and digits) keeps two apps' accounts apart
        # even before the suffix, which differs per stack anyway.
        app = re.sub(r"[^a-z0-9]+", "", self.app.lower())[:8]
        head = re.sub(r"[^a-z0-9]+", "", f"{app}{self.settings.env}{component}".lower())
        return head[: max_length - len(suffix)] + suffix

    def pascal(self, component: str) -> str:
        """``BookingProdOrders``: for names that allow no hyphen (some alarms, metric names)."""
        words = re.split(r"[^A-Za-z0-9]+", f"{self.app} {self.settings.env} {component}")
        return "".join(word[:1].upper() + word[1:] for word in words if word)
