"""Formatting-only variants: the same value written differently on the two sides of a linked record.

Reconciliation must NOT report these. They sit on a block of linked companies (by rank, so the share
is exact) that carries no defect; within such a company every linked record - the account, each
contact, each order-linked opportunity - gets one variant, whose kind is a hash of its index.
"""

from __future__ import annotations

import math

from connectors.testdata.rng import splitmix
from connectors.testdata.world import LINKED, World

ACCOUNT_KINDS = ("phone_format", "letter_case", "id_length", "timezone", "null_vs_empty", "country_name")
CONTACT_KINDS = ("phone_format", "letter_case", "id_length", "null_vs_empty")
OPPORTUNITY_KINDS = ("decimal_scale",)

VARIANT_FIELDS: dict[tuple[str, str], tuple[list[str], dict[str, list[str]]]] = {
    # (entity, kind) -> (canonical fields, native fields per system)
    ("Account", "phone_format"): (["phone"], {"salesforce": ["Phone"], "erp": ["phone_no"]}),
    ("Account", "letter_case"): (["name"], {"salesforce": ["Name"], "erp": ["company_name"]}),
    ("Account", "id_length"): (["id"], {"salesforce": ["Id"], "erp": ["sf_account_id"]}),
    # the ERP row's created_ts was written in UTC wall-clock time instead of the ERP's zone: the same
    # instant, off by exactly the zone's UTC offset at that moment
    ("Account", "timezone"): (["created_at"], {"salesforce": ["CreatedDate"], "erp": ["created_ts"]}),
    ("Account", "null_vs_empty"): (["website"], {"salesforce": ["Website"], "erp": ["web"]}),
    ("Account", "country_name"): (["billing_address.country"], {"salesforce": ["BillingCountry"],
                                                                "erp": ["country"]}),
    ("Contact", "phone_format"): (["phone"], {"salesforce": ["Phone"], "erp": ["phone_no"]}),
    ("Contact", "letter_case"): (["email", "last_name"], {"salesforce": ["Email", "LastName"],
                                                          "erp": ["email_addr", "family_name"]}),
    ("Contact", "id_length"): (["id"], {"salesforce": ["Id"], "erp": ["sf_contact_id"]}),
    ("Contact", "null_vs_empty"): (["mobile_phone"], {"salesforce": ["MobilePhone"], "erp": ["mobile_no"]}),
    ("Opportunity", "decimal_scale"): (["amount"], {"salesforce": ["Amount"], "erp": ["net_amount"]}),
}


class Variants:
    """Which linked records carry a formatting variant, and of which kind."""

    def __init__(self, world: World, first_rank: int, share: float) -> None:
        linked = world.config.linked
        wanted = math.ceil(share * linked) + 1 if share > 0 else 0
        self.first_rank = first_rank
        self.count = max(0, min(wanted, linked - first_rank))
        self.world = world
        self._seed = world.seed

    def company(self, c: int, rank: int | None = None) -> bool:
        rank = self.world.kinds(c) if rank is None else rank
        return self.first_rank <= rank < self.first_rank + self.count

    def kind(self, entity: str, c: int, m: int = 0, rank: int | None = None) -> str | None:
        """The variant kind of a linked record, or None (``rank``: the company's, if the caller has it)."""
        if not self.company(c, rank):
            return None
        kinds = ACCOUNT_KINDS if entity == "Account" else CONTACT_KINDS if entity == "Contact" else OPPORTUNITY_KINDS
        if entity == "Opportunity" and m >= self.world.w:
            return None
        return kinds[splitmix(self._seed ^ (c * 64 + m) ^ len(entity)) % len(kinds)]

    def detail(self, c: int, m: int = 0) -> int:
        """A second hash for the variant's flavour (which phone style, which time zone)."""
        return splitmix(self._seed * 31 + c * 64 + m) % 1024

    def companies(self) -> range:
        return range(self.first_rank, self.first_rank + self.count)

    def company_at(self, rank: int) -> int:
        return self.world.company_at(LINKED, rank)
