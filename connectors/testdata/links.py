"""How the generated Salesforce objects and ERP tables correspond, field by field.

This is the contract between the generator and whoever compares the two sides (reconciliation tests,
the demo's mapping specs): which object pairs with which table, through which keys, and which
systemic conventions differ on every record (these are never findings). Field names on the left are
the canonical ones of mappings/canonical/entities.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EntityLink:
    entity: str  # canonical entity name
    sf_object: str
    erp_table: str
    erp_key: str  # the ERP's business key column
    sf_external_id: str  # Salesforce field holding the ERP key
    erp_sf_id: str | None  # ERP column holding the Salesforce Id (15- or 18-char)
    fields: dict[str, tuple[str, str]]  # canonical name -> (Salesforce field, ERP column)


ACCOUNT = EntityLink("Account", "Account", "customers", "cust_no", "ERP_Customer_No__c", "sf_account_id", {
    "name": ("Name", "company_name"),
    "vat_number": ("VAT_Number__c", "vat_id"),
    "billing_address.street": ("BillingStreet", "street"),
    "billing_address.postal_code": ("BillingPostalCode", "zip"),
    "billing_address.city": ("BillingCity", "city"),
    "billing_address.country": ("BillingCountry", "country"),
    "phone": ("Phone", "phone_no"),
    "website": ("Website", "web"),
    "industry": ("Industry", "sector"),
    "owner_id": ("OwnerId", "sales_rep"),
    "currency": ("CurrencyIsoCode", "currency"),
    "created_at": ("CreatedDate", "created_ts"),
})
CONTACT = EntityLink("Contact", "Contact", "contacts", "contact_no", "ERP_Contact_No__c", "sf_contact_id", {
    "account_id": ("AccountId", "cust_no"),
    "salutation": ("Salutation", "salutation"),
    "first_name": ("FirstName", "given_name"),
    "last_name": ("LastName", "family_name"),
    "email": ("Email", "email_addr"),
    "phone": ("Phone", "phone_no"),
    "mobile_phone": ("MobilePhone", "mobile_no"),
    "title": ("Title", "position"),
})
OPPORTUNITY = EntityLink("Opportunity", "Opportunity", "orders", "order_no", "ERP_Order_No__c", None, {
    "account_id": ("AccountId", "cust_no"),
    "close_date": ("CloseDate", "order_date"),
    "stage": ("StageName", "status"),
    "amount": ("Amount", "net_amount"),
    "currency": ("CurrencyIsoCode", "currency"),
    "owner_id": ("OwnerId", "sales_rep"),
})
USER = EntityLink("User", "User", "employees", "emp_code", "EmployeeNumber", "sf_user_id", {
    "name": ("Name", "full_name"),
    "email": ("Email", "email_addr"),
    "is_active": ("IsActive", "active"),
})
LINKS: dict[str, EntityLink] = {link.entity: link for link in (ACCOUNT, CONTACT, OPPORTUNITY, USER)}

INDUSTRY_TO_SECTOR: dict[str, str] = {
    "Retail": "RETAIL", "Apparel": "RETAIL", "Food & Beverage": "WHOLESALE", "Shipping": "WHOLESALE",
    "Transportation": "WHOLESALE", "Agriculture": "WHOLESALE", "Manufacturing": "MANUFACT",
    "Machinery": "MANUFACT", "Chemicals": "MANUFACT", "Electronics": "MANUFACT", "Engineering": "MANUFACT",
    "Construction": "MANUFACT", "Energy": "MANUFACT", "Consulting": "SERVICES", "Technology": "SERVICES",
    "Finance": "SERVICES", "Banking": "SERVICES", "Insurance": "SERVICES", "Media": "SERVICES",
    "Communications": "SERVICES", "Telecommunications": "SERVICES", "Hospitality": "SERVICES",
    "Entertainment": "SERVICES", "Recreation": "SERVICES", "Utilities": "SERVICES", "Environmental": "SERVICES",
    "Other": "SERVICES", "Government": "PUBLIC", "Education": "PUBLIC", "Not For Profit": "PUBLIC",
    "Healthcare": "HEALTH", "Biotechnology": "HEALTH",
}
"""Salesforce Industry -> ERP sector code (many to one; the ERP's codes are coarser)."""
CUSTOMER_INDUSTRIES = tuple(INDUSTRY_TO_SECTOR)

ORDER_STATUS_TO_STAGE: dict[str, str] = {
    "OPEN": "Negotiation/Review", "CONF": "Closed Won", "SHIP": "Closed Won", "INVC": "Closed Won",
    "CANC": "Closed Lost",
}
"""ERP order status -> the StageName of the Opportunity linked to the order."""

YES_NO = {True: "Y", False: "N"}

CONVENTIONS: dict[str, str] = {
    "ids": "ERP sf_*_id columns hold the 18-character Id, or the 15-character form (formatting variant).",
    "timestamps": "Salesforce datetimes are UTC strings (+0000); ERP created_ts/changed_ts are naive local "
                  "times in the ERP time zone. Linked accounts were migrated with audit fields, so CreatedDate "
                  "and created_ts are the same instant. A created_ts written in UTC wall-clock time (off by the "
                  "zone's exact UTC offset) is a formatting variant.",
    "country": "Salesforce BillingCountry holds the English country name; the ERP holds the ISO 3166 alpha-2 "
               "code (a country name there is a formatting variant).",
    "phone": "Both sides hold the international format '+49 30 12345678'; national, E.164 and 00-prefixed "
             "forms are formatting variants of the same number.",
    "industry": "ERP sector = INDUSTRY_TO_SECTOR[Industry].",
    "stage": "Opportunity StageName = ORDER_STATUS_TO_STAGE[orders.status] for order-linked opportunities.",
    "owner": "ERP sales_rep is the emp_code of the employee whose sf_user_id is the Salesforce OwnerId.",
    "salutation": "Salesforce Salutation is 'Ms.'/'Mr.'; the ERP stores the local form (Sra./Sr., Frau/Herr...).",
    "flags": "ERP 'Y'/'N' flags correspond to Salesforce booleans (deleted_flag ~ IsDeleted, active ~ IsActive).",
    "money": "Salesforce currency fields are JSON numbers (1234.5); ERP NUMERIC(14,2) values are Decimals "
             "(1234.50). Compare at the declared scale.",
    "empty": "Salesforce never returns ''; an ERP '' corresponds to a Salesforce null.",
}
