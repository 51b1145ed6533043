"""segmentql: audience queries, checked, compiled to Python, evaluated on profile snapshots."""

__version__ = "0.1.0"
