"""``crmsync demo``: the whole story on embedded defaults, in a directory of its own.

It starts the Salesforce sandbox (a separate process) with generated CRM data, creates an in-house
ERP in SQLite from the same generated companies (with realistic defects), writes a crmsync.yaml a
person can read and reuse, runs a two-way sync and a reconciliation, and prints what happened.
"""
