"""The refresh engine: what to read, when, and the immutable snapshots it hands to the UI.

No Textual here (an import-linter contract keeps it so): the dashboard, ``--once``, the
exporter and the tests all drive the same pollers.
"""
