"""The statekit state stack on Google Cloud (google provider, imported only from this package)."""
