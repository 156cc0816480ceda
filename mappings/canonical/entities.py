"""Canonical entities: one shape of a customer, whichever system it came from.

Enums for stages and statuses carry an explicit path for values they do not know: the value maps
to ``other`` and the original is kept in the matching ``*_raw`` field, so nothing is lost and
picklist drift can be reported. Fields holding personal data are marked ``x-pii``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mappings.canonical.types import PII, Address, CountryCode, Email, Money, Phone

SCHEMA_VERSION = "1.0.0"


class CanonicalModel(BaseModel):
    """Common fields: the canonical id (assigned through the ID cross-reference) and change times."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False, use_enum_values=False)
    entity: ClassVar[str] = ""

    id: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    is_deleted: bool = False


class AccountType(StrEnum):
    CUSTOMER = "customer"
    PROSPECT = "prospect"
    PARTNER = "partner"
    RESELLER = "reseller"
    COMPETITOR = "competitor"
    OTHER = "other"


class Account(CanonicalModel):
    entity: ClassVar[str] = "Account"

    name: str = Field(min_length=1, max_length=255)
    account_number: str | None = None  # the in-house customer number: the usual external id
    type: AccountType | None = None
    type_raw: str | None = None
    industry: str | None = None
    website: str | None = None
    domain: str | None = None
    phone: Phone | None = None
    email: Email | None = Field(default=None, json_schema_extra=PII)
    vat_number: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    annual_revenue: Money | None = None
    employees: int | None = Field(default=None, ge=0)
    owner_id: str | None = None
    parent_id: str | None = None
    active: bool = True


class Contact(CanonicalModel):
    entity: ClassVar[str] = "Contact"

    account_id: str | None = None
    first_name: str | None = Field(default=None, json_schema_extra=PII)
    last_name: str = Field(min_length=1, json_schema_extra=PII)
    email: Email | None = Field(default=None, json_schema_extra=PII)
    phone: Phone | None = Field(default=None, json_schema_extra=PII)
    mobile_phone: Phone | None = Field(default=None, json_schema_extra=PII)
    title: str | None = None
    department: str | None = None
    mailing_address: Address | None = Field(default=None, json_schema_extra=PII)
    birthdate: date | None = Field(default=None, json_schema_extra=PII)
    language: str | None = None
    external_ref: str | None = None  # the in-house contact number
    owner_id: str | None = None
    do_not_contact: bool = False


class LeadStatus(StrEnum):
    OPEN = "open"
    WORKING = "working"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"
    CONVERTED = "converted"
    OTHER = "other"


class Lead(CanonicalModel):
    entity: ClassVar[str] = "Lead"

    first_name: str | None = Field(default=None, json_schema_extra=PII)
    last_name: str = Field(min_length=1, json_schema_extra=PII)
    company: str = Field(min_length=1)
    email: Email | None = Field(default=None, json_schema_extra=PII)
    phone: Phone | None = Field(default=None, json_schema_extra=PII)
    title: str | None = None
    status: LeadStatus = LeadStatus.OPEN
    status_raw: str | None = None
    source: str | None = None
    country: CountryCode | None = None
    owner_id: str | None = None
    converted_account_id: str | None = None


class OpportunityStage(StrEnum):
    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"
    OTHER = "other"


class Opportunity(CanonicalModel):
    entity: ClassVar[str] = "Opportunity"

    account_id: str | None = None
    name: str = Field(min_length=1)
    stage: OpportunityStage
    stage_raw: str | None = None
    amount: Money | None = None
    close_date: date | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    order_number: str | None = None  # in-house order number, for orders mapped to opportunities
    owner_id: str | None = None
    is_closed: bool = False
    is_won: bool = False


class ActivityKind(StrEnum):
    TASK = "task"
    EVENT = "event"
    CALL = "call"
    EMAIL = "email"
    OTHER = "other"


class Activity(CanonicalModel):
    entity: ClassVar[str] = "Activity"

    kind: ActivityKind
    subject: str | None = None
    status: str | None = None
    due_date: date | None = None
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    who_id: str | None = None  # a contact or lead
    what_id: str | None = None  # an account or opportunity
    owner_id: str | None = None
    completed: bool = False
    description: str | None = Field(default=None, json_schema_extra=PII)


class UserKind(StrEnum):
    USER = "user"
    QUEUE = "queue"


class User(CanonicalModel):
    """A record owner: a person or a queue (Salesforce 005 vs 00G ids)."""

    entity: ClassVar[str] = "User"

    username: str | None = Field(default=None, json_schema_extra=PII)
    email: Email | None = Field(default=None, json_schema_extra=PII)
    first_name: str | None = Field(default=None, json_schema_extra=PII)
    last_name: str | None = Field(default=None, json_schema_extra=PII)
    kind: UserKind = UserKind.USER
    is_active: bool = True


ENTITIES: dict[str, type[CanonicalModel]] = {
    m.entity: m for m in (Account, Contact, Lead, Opportunity, Activity, User)
}
