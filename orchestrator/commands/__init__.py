"""CLI sub-commands, one module each; wired explicitly in orchestrator/cli.py."""
