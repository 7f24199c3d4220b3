"""The audit log: append-only, hash-chained, written in the same transaction as the change.

Every entry carries the HMAC of the previous entry's HMAC and its own canonical content, under a
key kept outside the database (``keys/audit.key``). Editing, deleting, inserting or reordering a
row breaks the chain at that row, and someone with only the database cannot forge a new chain
because they lack the key. ``tipline audit verify`` walks the chain. The chain alone cannot show a
deleted tail, or a chain rebuilt by someone holding the key: signed checkpoints of its head
(``checkpoints.py``), kept outside the database (``sinks.py``: a file, syslog, e-mail) and taken
on a schedule (``tasks.py``), fix it up to the newest checkpoint. On PostgreSQL triggers refuse
UPDATE, DELETE and TRUNCATE on the table.

Entries never hold report content, contact details, receipts or client addresses: only who
(a staff username or "system"), what (an action name), on what (a type and an id), and small
non-sensitive details (a field name, a new state).

The API is in ``tipline.audit.chain``: ``record``, ``verify``, ``head``; checkpoints in
``tipline.audit.checkpoints`` (this package imports no models itself, so Django can load it as an
app).
"""
