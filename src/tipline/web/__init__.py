"""Request plumbing shared by both trust domains: privacy middleware, upload limits, headers."""
