"""The shared connector contract suite, shipped as a pytest plugin (entry point ``pytest11``).

A connector opts in with one line in a test module::

    TestMyConnector = connector_contract(make_case)

where ``make_case(tmp_path) -> ContractCase`` builds a connector with one writable (or pre-seeded)
stream. The suite checks what every part of crmsync relies on: typed check reports, discovery,
bounded batches with cursors, idempotent upserts, per-record results, tombstones, ranges, checksums.
"""

from connectors.contract.suite import ContractCase, connector_contract

__all__ = ["ContractCase", "connector_contract"]
