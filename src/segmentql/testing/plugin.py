"""pytest plugin for segmentql (work in progress: audience file collection lands next)."""

from __future__ import annotations
