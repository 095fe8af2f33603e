"""Which component a synthesized resource belongs to.

The construct path decides first (the modules build one construct per component,
``state-aws-dev/database/table``), so shared types (IAM roles, keys, log groups)
land where the stack put them. The type map below is the fallback for resources
built outside a component construct.
"""

from __future__ import annotations

COMPONENTS = ("database", "cache", "queue", "orchestrator", "functions", "observability")
COMPONENT_LABELS = {
    "database": "Database",
    "cache": "Cache",
    "queue": "Queue",
    "orchestrator": "Orchestrator",
    "functions": "Functions",
    "observability": "Observability",
    "network": "Network (shared)",
    "shared": "Shared (stack-wide)",
}
# Construct ids the modules use that are not literally a component name.
_PATH_ALIASES = {
    "store": "database",
    "table": "database",
    "db": "database",
    "workflow": "orchestrator",
    "workflows": "orchestrator",
    "function": "functions",
    "handlers": "functions",
    "monitoring": "observability",
    "logs": "observability",
    "budget": "observability",
    "alerts": "observability",
    "alarms": "observability",
    "network": "network",
    "vnet": "network",
    "vpc": "network",
}

TYPE_COMPONENT = {
    # AWS
    "aws_dynamodb_table": "database",
    "aws_appautoscaling_target": "database",
    "aws_appautoscaling_policy": "database",
    "aws_elasticache_serverless_cache": "cache",
    "aws_elasticache_replication_group": "cache",
    "aws_elasticache_subnet_group": "cache",
    "aws_elasticache_user": "cache",
    "aws_elasticache_user_group": "cache",
    "aws_sqs_queue": "queue",
    "aws_sqs_queue_policy": "queue",
    "aws_sqs_queue_redrive_policy": "queue",
    "aws_sqs_queue_redrive_allow_policy": "queue",
    "aws_lambda_event_source_mapping": "queue",
    "aws_sfn_state_machine": "orchestrator",
    "aws_lambda_function": "functions",
    "aws_lambda_permission": "functions",
    "aws_lambda_function_url": "functions",
    "aws_cloudwatch_log_group": "observability",
    "aws_cloudwatch_metric_alarm": "observability",
    "aws_sns_topic": "observability",
    "aws_sns_topic_subscription": "observability",
    "aws_budgets_budget": "observability",
    "aws_rds_cluster": "database",
    "aws_rds_cluster_instance": "database",
    "aws_db_proxy": "database",
    "aws_vpc": "network",
    "aws_subnet": "network",
    "aws_vpc_endpoint": "network",
    "aws_flow_log": "network",
    # Azure
    "azurerm_cosmosdb_account": "database",
    "azurerm_cosmosdb_sql_database": "database",
    "azurerm_cosmosdb_sql_container": "database",
    "azurerm_cosmosdb_sql_role_assignment": "database",
    "azurerm_postgresql_flexible_server": "database",
    "azurerm_redis_cache": "cache",
    "azurerm_managed_redis": "cache",
    "azurerm_redis_enterprise_cluster": "cache",
    "azurerm_redis_enterprise_database": "cache",
    "azurerm_storage_queue": "queue",
    "azurerm_service_plan": "functions",
    "azurerm_linux_function_app": "functions",
    "azurerm_function_app_flex_consumption": "functions",
    "azurerm_log_analytics_workspace": "observability",
    "azurerm_application_insights": "observability",
    "azurerm_monitor_action_group": "observability",
    "azurerm_monitor_metric_alert": "observability",
    "azurerm_monitor_diagnostic_setting": "observability",
    "azurerm_consumption_budget_resource_group": "observability",
    "azurerm_consumption_budget_subscription": "observability",
    # Google Cloud
    "google_firestore_database": "database",
    "google_firestore_field": "database",
    "google_firestore_backup_schedule": "database",
    "google_sql_database_instance": "database",
    "google_memcache_instance": "cache",
    "google_redis_instance": "cache",
    "google_memorystore_instance": "cache",
    "google_pubsub_topic": "queue",
    "google_pubsub_subscription": "queue",
    "google_workflows_workflow": "orchestrator",
    "google_cloudfunctions2_function": "functions",
    "google_cloud_run_v2_service": "functions",
    "google_logging_project_bucket_config": "observability",
    "google_monitoring_alert_policy": "observability",
    "google_monitoring_notification_channel": "observability",
    "google_billing_budget": "observability",
}


def component_of(resource_type: str, construct_path: str) -> str:
    """The component of a resource: its construct path first, then its type, else ``shared``."""
    for part in construct_path.split("/")[1:-1] if "/" in construct_path else ():
        word = part.lower()
        if word in COMPONENTS or word == "network":
            return word
        for alias, component in _PATH_ALIASES.items():
            if word == alias or word.startswith(f"{alias}-") or word.startswith(f"{alias}_"):
                return component
    return TYPE_COMPONENT.get(resource_type, "shared")
