"""The interface every cloud's stack follows, and the dispatcher that builds one.

Contract for a cloud package ``modules/<cloud>/`` (aws, azure, gcp):

- ``modules/<cloud>/stack.py`` exposes ``build(scope: Construct, settings: StackSettings,
  app: AppSource) -> TerraformStack``. ``build_stack`` below imports only that module, so
  only the providers of the clouds being synthesized are loaded (``cdktn_provider_*``
  imports stay inside the cloud's package, never in ``modules/common``).
- The stack subclasses ``StateStack`` (or calls the same helpers): it is named
  ``<app>-<cloud>-<env>``, carries the remote state backend from the environment
  file, and has the tagging and production-policy aspects from ``aspects.py``.
  The cloud registers its policy rules with ``aspects.register_rules`` at import.
- One construct file per component: ``database.py cache.py queue.py
  orchestrator.py functions.py observability.py`` (plus ``budget`` inside
  observability or its own file). Each construct takes the ``StackSettings``
  (or its own component settings) and nothing cloud-specific from outside.
- A component switched off in ``settings.components`` is not constructed at all,
  and its URL is left out (``StateUrls`` field ``None``).
- Every function gets ``StateUrls.environment()`` as its environment
  (``STATEKIT_STORE_URL`` / ``CACHE_URL`` / ``QUEUE_URL`` / ``WORKFLOW_URL``, format
  in docs/urls.md) and ``StateStack.publish_urls`` writes the same values as
  ``TerraformOutput``s. A URL never contains a secret: passwords are named by
  ``password_secret=<ARN>`` or ``password_env=<VAR>``.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from cdktn import (
    Aspects,
    AzurermBackend,
    GcsBackend,
    LocalBackend,
    S3Backend,
    TerraformOutput,
    TerraformStack,
)
from constructs import Construct

from .app import AppSource, environment_fingerprint
from .aspects import PolicyAspect, TaggingAspect
from .naming import Naming
from .settings import StackSettings

URL_VARIABLES = {
    "store": "STATEKIT_STORE_URL",
    "cache": "STATEKIT_CACHE_URL",
    "queue": "STATEKIT_QUEUE_URL",
    "workflow": "STATEKIT_WORKFLOW_URL",
}


@dataclass(frozen=True)
class StateUrls:
    """The four connection URLs built from the stack's resources (may hold tokens)."""

    store: str
    cache: str | None = None
    queue: str | None = None
    workflow: str | None = None

    def environment(self) -> dict[str, str]:
        """Function environment variables; switched-off components are absent."""
        values = {
            "store": self.store,
            "cache": self.cache,
            "queue": self.queue,
            "workflow": self.workflow,
        }
        return {URL_VARIABLES[key]: value for key, value in values.items() if value is not None}


class CloudStackModule(Protocol):
    def build(self, scope: Construct, settings: StackSettings, app: AppSource) -> TerraformStack: ...


def stack_metadata(settings: StackSettings, app: AppSource) -> dict[str, Any]:
    """What the stack was synthesized from, kept in cdk.tf.json under ``//.statekit``.

    ``statekit compare`` reads it to tell a stack of another App, or one older than the
    App's code or the environment file, from a current one (Terraform ignores ``//``).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        kit = version("statekit")
    except PackageNotFoundError:
        kit = ""
    return {
        "app": app.name,
        "app_ref": app.ref,
        "code_packages": list(app.app.code),
        "code_fingerprint": app.code_fingerprint(),
        "environment": settings.env,
        "environment_file": settings.source,
        "environment_fingerprint": environment_fingerprint(settings),
        "cloud": settings.cloud,
        "functions": sorted(function.name for function in app.app.functions),
        "workflows": sorted(str(workflow.name) for workflow in app.app.workflows),
        "statekit_version": kit,
    }


class StateStack(TerraformStack):
    """Base of every ``<app>-<cloud>-<env>`` stack: name, backend, aspects, URL outputs."""

    def __init__(self, scope: Construct, settings: StackSettings, app: AppSource) -> None:
        settings = dataclasses.replace(settings, app_name=app.name)
        super().__init__(scope, settings.stack_name)
        self.settings = settings
        self.app = app
        self.naming = Naming(settings)
        configure_backend(self, settings)
        Aspects.of(self).add(TaggingAspect(settings.all_tags()))
        Aspects.of(self).add(PolicyAspect(settings.stack_name, settings.production))
        self.metadata = stack_metadata(settings, app)
        self.add_override("//.statekit", self.metadata)

    def publish_urls(self, urls: StateUrls) -> None:
        """The same values the functions get, as outputs (``terraform output``)."""
        for variable, value in urls.environment().items():
            TerraformOutput(
                self, variable.lower(), value=value, description=f"{variable} for statekit"
            )


def configure_backend(stack: TerraformStack, settings: StackSettings) -> None:
    backend = settings.state_backend
    key = backend.key or f"{settings.stack_name}/terraform.tfstate"
    if backend.kind == "s3":
        S3Backend(
            stack,
            bucket=backend.bucket,
            key=key,
            region=backend.region or settings.region,
            encrypt=backend.encrypt,
            use_lockfile=backend.use_lockfile or None,
            dynamodb_table=backend.dynamodb_table or None,
        )
    elif backend.kind == "azurerm":
        AzurermBackend(
            stack,
            resource_group_name=backend.resource_group_name,
            storage_account_name=backend.storage_account_name,
            container_name=backend.container_name,
            key=key,
            use_azuread_auth=True,
        )
    elif backend.kind == "gcs":
        GcsBackend(stack, bucket=backend.bucket, prefix=backend.key or settings.stack_name)
    else:
        # Relative to the stack folder (where terraform runs), never an absolute path of this machine.
        LocalBackend(stack, path=backend.path or f"terraform.{settings.stack_name}.tfstate")


def build_stack(scope: Construct, settings: StackSettings, app: AppSource) -> StateStack:
    """Import ``<constructs>.<cloud>.stack`` (only that cloud's providers) and build the
    stack of ``app`` with ``settings`` (one environment and cloud)."""
    root = __name__.rsplit(".", 2)[0]  # "modules" in the repository, "statekit_iac" installed
    name = f"{root}.{settings.cloud}.stack"
    try:
        module: CloudStackModule = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name not in (name, f"{root}.{settings.cloud}"):
            raise
        raise ModuleNotFoundError(
            f"{app.name}-{settings.cloud}-{settings.env}: no {name} here; leave the cloud out "
            f"with STATEKIT_CLOUDS or the environment file's 'clouds'",
            name=name,
        ) from None
    stack = module.build(scope, settings, app)
    if not isinstance(stack, StateStack):  # pragma: no cover  (a cloud package's contract)
        raise TypeError(f"{name}.build returned {type(stack).__name__}, not a StateStack")
    return stack
