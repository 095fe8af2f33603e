from tests.observability.telemetry_fixture import telemetry

__all__ = ["telemetry"]
