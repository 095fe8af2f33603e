"""A process that drives one saga run and hangs inside charge_payment, to be killed.

``python -m tests.conformance.workflows.local_child WORKFLOW_URL RUN_ID MARKER``: starts the
order saga for RUN_ID; charge_payment writes MARKER and then sleeps, so the
parent can SIGKILL this process mid-run, after reserve_stock completed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from handlers.activities import ACTIVITIES
from handlers.saga import ORDER_SAGA, order
from statekit.workflows import open_workflows
from statekit.workflows.engines.local.client import LocalWorkflows


def main() -> None:
    url, run_id, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def hanging_charge(payload: Any) -> Any:
        marker.write_text("charging")
        time.sleep(600)
        return ACTIVITIES["charge_payment"](payload)

    client = open_workflows(url)
    assert isinstance(client, LocalWorkflows)
    client.activities = {**ACTIVITIES, "charge_payment": hanging_charge}
    client.start(ORDER_SAGA, order(run_id), run_id)


if __name__ == "__main__":
    main()
