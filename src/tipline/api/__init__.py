"""Anonymous JSON API for mobile apps (and, later, the partner API).

Same fields and messages as the web form (tipline.intake.forms); the answer to an unknown or
malformed receipt is identical to the answer to a wrong one.
"""
