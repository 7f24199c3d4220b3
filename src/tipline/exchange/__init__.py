"""Forwarding reports between hotlines: signed documents, delivered Tipline to Tipline.

A report whose content is hosted in another country goes to that country's hotline as a signed,
versioned JSON document (``document.py``) holding URLs, hashes, classification and category —
never the reporter's identity or contact details, and files only where the partner agreement in
``PartnerHotline.send_files`` says so. The receiver files it as a report (or links it to an open
one naming the same URL or hash) and later sends outcome updates back the same way.
"""
