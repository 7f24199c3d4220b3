"""The partner API: bulk reports from platforms, webhooks, and hash lists pulled between hotlines.

Why its own app, in layer 6 (``tipline.exchange``, beside it, forwards between hotlines):
what it does spans ``tipline.cases`` (filing ordinary reports),
``tipline.partners`` (who the partner is) and ``tipline.matching`` (banks), and those are
siblings or lower, so only a package above them may join them. The API adapters
(``tipline.api.partner``, ``tipline.api.banks``) stay thin over this package.

* ``reports``: a partner's batch of reports, each filed as an ordinary report (same action as
  the web form, so triage and matching run) and linked to the partner's own reference by
  ``PartnerReport``, whose unique (credential, reference) makes re-sending safe even when two
  requests race (the database, not a read-then-write check, decides).
* ``webhooks``: status changes of partners' reports, noticed through the audit log (the
  outbox) and delivered signed, with retries.
* ``hashpull``: pulling another Tipline's bank changes into a local bank (cursor per source).
"""
