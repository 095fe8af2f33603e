"""Load the example's catalogue into a deployed stack's store.

A deployed stack starts with an empty table; the products the app sells are
written once, after ``terraform apply``, with the stack's store URL::

    STATEKIT_STORE_URL=$(terraform output -raw statekit_store_url) python -m handlers.seed

Running it again rewrites the same items (idempotent).
"""

from __future__ import annotations

import statekit
from handlers.app import CATALOG, Shop


def main() -> None:
    shop = Shop(store=statekit.open_store(), cache=None, queue=None, workflows=None)
    shop.seed_products()
    print(f"seeded {len(CATALOG)} products: {', '.join(sorted(CATALOG))}")


if __name__ == "__main__":
    main()
