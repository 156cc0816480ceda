"""Reconciliation: compare two systems through the canonical model and record what disagrees or is broken.

Layout: records/finding/codes (the values), normalise/fieldkinds/keys (comparison rules), matching and
spill (pairing at scale), detectors/ (one module per finding code), engine (the run), sides (reading
through connectors and mappings), coverage, thresholds, rangediff (mirror checksums), tables (the
state-store tables of migration 2).
"""
