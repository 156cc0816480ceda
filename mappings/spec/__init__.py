"""Mapping spec files: YAML with line numbers, the spec models, checking and compilation."""
