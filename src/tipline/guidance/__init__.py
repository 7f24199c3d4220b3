"""Help before the form: guidance pages, the guided assistant and per-country agencies.

Public trust domain: it never imports console or staff code.
"""
