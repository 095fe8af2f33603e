"""The statekit queue: a storage account holding the queue and its ``-poison`` queue.

The account is for this queue alone, so the function's Storage Queue Data
Contributor role is scoped to the two queues, not to the host storage. Shared-key
(account key) access is off: the function authenticates with its managed identity.
TLS 1.2 minimum, HTTPS only, no public blob access, private endpoint when private.
"""

from __future__ import annotations

from cdktn_provider_azurerm.storage_account import StorageAccount
from cdktn_provider_azurerm.storage_queue import StorageQueue
from constructs import Construct

from . import roles
from .context import AzureContext
from .network import PrivateNetwork
from .storage import encryption_of, secure_storage_account
from .vault import Vault

QUEUE_NAME = "statekit-work"
POISON_SUFFIX = "-poison"  # the Azure Functions / statekit dead-letter convention


class StorageQueueComponent(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        vault: Vault,
        network: PrivateNetwork | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.max_attempts = ctx.settings.queue.max_receive_count
        self.account: StorageAccount = secure_storage_account(
            self, "account", ctx, "queue", encryption_of(vault)
        )
        if network is not None:
            network.connect("queue", self.account.id, "queue")
        self.queue = StorageQueue(
            self, "queue", name=QUEUE_NAME, storage_account_id=self.account.id
        )
        self.poison_queue = StorageQueue(
            self, "poison", name=f"{QUEUE_NAME}{POISON_SUFFIX}", storage_account_id=self.account.id
        )

    @property
    def queue_name(self) -> str:
        return QUEUE_NAME

    @property
    def poison_queue_name(self) -> str:
        return f"{QUEUE_NAME}{POISON_SUFFIX}"

    @property
    def url(self) -> str:
        """``azurequeue://ACCOUNT.queue.core.windows.net/QUEUE?max_attempts=N`` (dead letters in
        QUEUE-poison); N is host.json's ``maxDequeueCount`` too, so statekit and the host agree."""
        return (
            f"azurequeue://{self.account.name}.queue.core.windows.net/{QUEUE_NAME}"
            f"?max_attempts={self.max_attempts}"
        )

    def app_settings(self) -> dict[str, str]:
        """The identity-based connection the queue trigger binding uses (no key)."""
        return {
            "STATEKIT_QUEUE_CONNECTION__queueServiceUri": self.account.primary_queue_endpoint,
            "STATEKIT_QUEUE_NAME": QUEUE_NAME,
        }

    def grant_access(self, principal_id: str) -> None:
        for construct_id, queue in (("work", self.queue), ("poison", self.poison_queue)):
            roles.grant(
                self,
                f"function-{construct_id}",
                role=roles.STORAGE_QUEUE_DATA_CONTRIBUTOR,
                on=queue.id,
                principal_id=principal_id,
            )
