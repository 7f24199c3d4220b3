"""The transactional outbox of the scale-out task profile (TIPLINE_TASKS=redis).

A task enqueued in that profile is a row of this app's table, written in the caller's database
transaction, so a report and its tasks commit together even when the broker (Redis) is down. The
relay (``relay.py``, run by ``tipline task_relay``) moves committed rows to the broker and marks
them sent. The embedded profile (database task backend) never writes this table.
"""
