"""A small ticket-booking service: seat holds, idempotent payment, e-mail, a nightly job."""
