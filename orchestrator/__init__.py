"""Everything between connectors and mappings: config, state, runs, reconciliation, reports, CLI."""
