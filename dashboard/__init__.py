"""Conflict events joined with who controlled the ground on the day."""

__version__ = "0.1.0"
