"""Per-cloud packages: kinds, classification, Terraform extractors (no cloud SDK imported at module level)."""
