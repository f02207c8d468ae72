"""residency-audit: where your cloud data physically and legally lives."""

__version__ = "0.1.0"
