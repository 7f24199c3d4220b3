"""Notice and takedown: who hosts a reported URL, the notice to them, and whether it came down."""
