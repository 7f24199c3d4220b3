"""Evidence files: validation of uploads at intake and metadata-free previews."""
