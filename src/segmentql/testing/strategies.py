"""Hypothesis strategies for segmentql (work in progress)."""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    """Register segmentql strategies with hypothesis (called through its entry point)."""
