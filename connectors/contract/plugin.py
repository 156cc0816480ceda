"""pytest plugin entry point: makes ``connector_contract`` available to any installed test suite."""

from connectors.contract.suite import ContractCase, connector_contract

__all__ = ["ContractCase", "connector_contract"]
