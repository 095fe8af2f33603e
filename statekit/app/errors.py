"""The error of a bad App declaration."""

from __future__ import annotations

from statekit.errors import StatekitError


class AppError(StatekitError, ValueError):
    """An App declaration is wrong; the message names the field (``functions[1] 'emails': ...``).

    Raised before anything is deployed, served or synthesized, so a typo never ships.
    """
