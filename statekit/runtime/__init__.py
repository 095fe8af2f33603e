"""The kit's runtime adapters: each cloud's events in, the App's portable calls out.

A team writes no per-cloud code: every deployed function runs one of these
entry points with ``STATEKIT_APP`` (``"pkg.module:APP"``) and ``STATEKIT_FUNCTION``
(a declared function's name, or ``"activities"``) in its environment.

- ``statekit.runtime.aws.handle``: every Lambda function;
- ``statekit.runtime.azure.function_app()``: the Azure Functions app (v2 model);
- ``statekit.runtime.gcp.handle``: every Cloud Functions (gen2) function.

``dispatch`` holds what the three share (finding the App and the function,
correlation ids, error answers, partial batch failures); each cloud file only
translates its platform's shapes. None imports another cloud's SDK.
"""

# The root files of the Azure and GCP packages (the IaC side writes them; tests serve them).
AZURE_FUNCTION_APP_PY = "from statekit.runtime.azure import function_app\napp = function_app()\n"
GCP_MAIN_PY = "from statekit.runtime.gcp import handle  # noqa: F401\n"
GCP_ENTRY_POINT = "handle"
AWS_HANDLER = "statekit.runtime.aws.handle"
