"""Firestore (native mode): one named database, and the TTL policy on ``expires_at_epoch``.

- The composite index ``(pk ASC, key ASC)`` that statekit's listing query needs
  (equality on the partition, range and order on the key), so a prefix listing is
  an indexed query, never a scan.
- TTL: a ``google_firestore_field`` with ``ttl_config`` on the collection statekit
  uses; Firestore deletes a document some time after the Timestamp in that field
  (statekit filters expired items on read either way). The field is exempt from
  indexing: a steadily increasing timestamp index hotspots and nothing queries it.
- Delete protection and point-in-time recovery (7 days) from settings (on in prod);
  customer-managed encryption (CMEK) when the settings ask for it.
- The function's service account gets ``roles/datastore.user`` on this database only
  (an IAM condition on the database's resource name).
"""

from __future__ import annotations

from cdktn_provider_google.firestore_database import (
    FirestoreDatabase,
    FirestoreDatabaseCmekConfig,
)
from cdktn_provider_google.firestore_field import (
    FirestoreField,
    FirestoreFieldIndexConfig,
    FirestoreFieldTtlConfig,
)
from cdktn_provider_google.firestore_index import FirestoreIndex, FirestoreIndexFields
from cdktn_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from constructs import Construct

from .context import GcpContext
from .kms import DataKey

COLLECTION = "statekit"
FIRESTORE_AGENT = "gcp-sa-firestore.iam.gserviceaccount.com"


class FirestoreDatabaseComponent(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: GcpContext, key: DataKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        settings = ctx.settings.database
        grant = key.allow("firestore", ctx.service_agent(FIRESTORE_AGENT)) if key else None
        self.database = FirestoreDatabase(
            self,
            "database",
            name=ctx.naming.name("store"),
            project=ctx.project,
            location_id=ctx.region,
            type="FIRESTORE_NATIVE",
            concurrency_mode="PESSIMISTIC",  # transactions lock: statekit's etag writes never lose
            delete_protection_state=(
                "DELETE_PROTECTION_ENABLED"
                if settings.deletion_protection
                else "DELETE_PROTECTION_DISABLED"
            ),
            deletion_policy="ABANDON" if settings.deletion_protection else "DELETE",
            point_in_time_recovery_enablement=(
                "POINT_IN_TIME_RECOVERY_ENABLED"
                if settings.point_in_time_recovery
                else "POINT_IN_TIME_RECOVERY_DISABLED"
            ),
            cmek_config=FirestoreDatabaseCmekConfig(kms_key_name=key.id) if key else None,
            depends_on=[*ctx.apis, *([grant] if grant else [])],
        )
        self.ttl = FirestoreField(
            self,
            "ttl",
            project=ctx.project,
            database=self.database.name,
            collection=COLLECTION,
            field=settings.ttl_attribute,
            ttl_config=FirestoreFieldTtlConfig(),
            index_config=FirestoreFieldIndexConfig(),
        )

        self.listing_index = FirestoreIndex(
            self,
            "listing-index",
            project=ctx.project,
            database=self.database.name,
            collection=COLLECTION,
            query_scope="COLLECTION",
            fields=[
                FirestoreIndexFields(field_path=settings.partition_key, order="ASCENDING"),
                FirestoreIndexFields(field_path="key", order="ASCENDING"),
            ],
        )

    @property
    def url(self) -> str:
        """``firestore://PROJECT/DATABASE/COLLECTION`` (docs/urls.md)."""
        return f"firestore://{self.ctx.project}/{self.database.name}/{COLLECTION}"

    def grant_data_access(self, member: str) -> ProjectIamMember:
        """``roles/datastore.user`` for ``member``, conditioned to this one database."""
        return ProjectIamMember(
            self,
            "function-datastore-user",
            project=self.ctx.project,
            role="roles/datastore.user",
            member=member,
            condition=ProjectIamMemberCondition(
                title="statekit database only",
                expression=f'resource.name == "projects/{self.ctx.project}/databases/{self.database.name}"',
            ),
        )
