"""The statekit state stack on Azure (azurerm provider, imported only from this package)."""
