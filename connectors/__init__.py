"""I/O only: the connector contract, the plugin registry and the built-in connectors.

Connectors deal in native records (plain dicts keyed by native field names). They never store
state and never decide what to do with a bad record: they report it through typed errors.
"""
