"""batchtui: a keyboard-driven terminal dashboard for Azure Batch."""

__version__ = "0.1.0"
