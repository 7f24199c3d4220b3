"""Cyberstalking evidence log: a passphrase-protected locker for a victim's records.

Public trust domain: it never imports console or staff code.
"""
