"""Errors a person can cause through the command line or the chat."""

from __future__ import annotations


class PejlingError(Exception):
    """A user error with a one-line message meant to be shown as it is."""
