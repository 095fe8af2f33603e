"""AWS state stack: DynamoDB, ElastiCache, SQS, Step Functions, Lambda, CloudWatch, Budgets.

Only this package imports ``cdktn_provider_aws``; ``modules.common.stack.build_stack``
imports it when an AWS stack is synthesized.
"""
