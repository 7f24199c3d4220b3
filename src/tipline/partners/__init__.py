"""API credentials for staff members and partner organisations (platforms, other hotlines).

Why a separate app: the public API package (``tipline.api``) must never import staff code, yet
some API routes (``POST /api/v1/match``) are for staff and partners only. The credential check
lives here and refers to staff accounts only through ``settings.AUTH_USER_MODEL``.

Design:

* A token is ``tl_`` + 32 random bytes in base32, shown once at creation. Only a keyed BLAKE2b
  digest of it is stored (``tipline.crypto.box.credential_digest``, key outside the database), so
  a copy of the database cannot be used to call the API. 256 bits of entropy make a slow hash
  pointless: nobody can enumerate tokens, with or without the key.
* Every refusal before the scope check (no header, malformed header, unknown, revoked token, a
  staff member's account deactivated) is the same 401, so a caller learns nothing about which
  tokens exist. Only a valid token used outside its scopes gets 403.
* Scopes are a list of names from ``Scope``; later routes add names (``reports:submit``,
  ``hashes:exchange``) without a schema change.
"""
