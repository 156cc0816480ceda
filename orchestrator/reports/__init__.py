"""Reconciliation reports: a terminal summary (rich), JSON for machines, and a self-contained HTML page."""
