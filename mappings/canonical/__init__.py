"""Canonical pydantic models and their registry (see entities.py for the why of each shape)."""

from mappings.canonical.entities import (
    ENTITIES,
    SCHEMA_VERSION,
    Account,
    Activity,
    CanonicalModel,
    Contact,
    Lead,
    Opportunity,
    User,
)
from mappings.canonical.registry import CanonicalRegistry, CustomField
from mappings.canonical.types import Address, Money, is_pii

__all__ = [
    "ENTITIES", "SCHEMA_VERSION", "Account", "Activity", "Address", "CanonicalModel", "CanonicalRegistry",
    "Contact", "CustomField", "Lead", "Money", "Opportunity", "User", "is_pii",
]
