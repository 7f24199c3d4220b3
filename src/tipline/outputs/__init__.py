"""What leaves Tipline: law-enforcement referral packages (and, later, notices to hosts).

A confirmed referral becomes a *package* for the agency it names: a ZIP holding ``report.json``
(metadata under a versioned JSON Schema shipped in ``schema/``, no reporter content), the
reporter's account and the PDF summary and every evidence file encrypted to the agency's age key,
``manifest.sha256``, and a chain of custody drawn from the audit log. The ZIP is signed in
minisign format with the hotline's referral key. Agencies check it with Debian's ``minisign``,
``sha256sum`` and ``age``, without Tipline; ``tipline referral verify`` does the same checks.

Layer 6 (docs/architecture.md): it reads cases, audit, crypto and storage and is used by the
console and the CLI; nothing below it knows it exists.
"""
