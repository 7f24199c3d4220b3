"""The JSON API under ``/api/v1/``: anonymous reporting for mobile apps, and the partner API.

Anonymous endpoints (reports, follow-up) take the same fields and give the same messages as the
web form (``tipline.web.report_forms``); the answer to an unknown or malformed receipt is
identical to the answer to a wrong one. Partner endpoints (``POST /api/v1/match``) need a
credential from ``tipline.partners``.
"""
