"""What a report is made of, shared by every channel that takes one (web form, API)."""
