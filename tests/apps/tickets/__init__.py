"""A tiny ticket shop: an App of its own for the IaC tests (two apps, one account)."""
