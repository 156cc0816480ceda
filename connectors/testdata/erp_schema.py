"""The demo in-house ERP: a small, realistic schema whose conventions differ from Salesforce's.

Customer numbers are the business key (``cust_no``), timestamps are ``changed_ts`` in the ERP's
local time zone without offset, soft deletes are a ``deleted_flag`` of 'Y'/'N', sectors and order
statuses are the ERP's own codes, money is NUMERIC with a separate currency column. Any SQL
database SQLAlchemy speaks can hold it (SQLite for the demo, PostgreSQL or MariaDB for tests).
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

ERP_TIMEZONE = "Europe/Madrid"
"""changed_ts / created_ts are naive local times in this zone (as many ERPs store them)."""

SECTORS = ("RETAIL", "WHOLESALE", "MANUFACT", "SERVICES", "PUBLIC", "HEALTH")
CUSTOMER_STATUS = {"A": "active", "I": "inactive", "B": "blocked"}
ORDER_STATUS = ("OPEN", "CONF", "SHIP", "INVC", "CANC")

metadata = MetaData()

customers = Table(
    "customers", metadata,
    Column("cust_no", String(10), primary_key=True),
    Column("company_name", String(120), nullable=False),
    Column("vat_id", String(20)),
    Column("street", String(120)),
    Column("zip", String(12)),
    Column("city", String(60)),
    Column("country", String(60)),  # ISO code mostly, sometimes a country name (formatting variant)
    Column("phone_no", String(40)),
    Column("email_addr", String(120)),
    Column("web", String(120)),
    Column("sector", String(12)),  # one of SECTORS (drift: values outside it)
    Column("status", CHAR(1), nullable=False, server_default="A"),
    Column("credit_limit", Numeric(12, 2)),
    Column("currency", CHAR(3), nullable=False, server_default="EUR"),
    Column("sales_rep", String(10)),  # employee code of the account manager
    Column("sf_account_id", String(18)),  # Salesforce Id when linked (15- or 18-char)
    Column("created_ts", DateTime, nullable=False),
    Column("changed_ts", DateTime, nullable=False),
    Column("deleted_flag", CHAR(1), nullable=False, server_default="N"),
    Index("ix_customers_changed", "changed_ts", "cust_no"),
)

contacts = Table(
    "contacts", metadata,
    Column("contact_no", Integer, primary_key=True, autoincrement=False),
    Column("cust_no", String(10), ForeignKey("customers.cust_no"), nullable=True),
    Column("salutation", String(10)),
    Column("given_name", String(60)),
    Column("family_name", String(80), nullable=False),
    Column("email_addr", String(120)),
    Column("phone_no", String(40)),
    Column("mobile_no", String(40)),
    Column("position", String(80)),
    Column("lang", CHAR(2)),
    Column("sf_contact_id", String(18)),
    Column("changed_ts", DateTime, nullable=False),
    Column("deleted_flag", CHAR(1), nullable=False, server_default="N"),
    Index("ix_contacts_changed", "changed_ts", "contact_no"),
)

orders = Table(
    "orders", metadata,
    Column("order_no", String(12), primary_key=True),
    Column("cust_no", String(10), ForeignKey("customers.cust_no"), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("status", String(4), nullable=False),  # one of ORDER_STATUS
    Column("net_amount", Numeric(14, 2), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("sales_rep", String(10)),
    Column("changed_ts", DateTime, nullable=False),
    Index("ix_orders_changed", "changed_ts", "order_no"),
)

invoices = Table(
    "invoices", metadata,
    Column("invoice_no", String(12), primary_key=True),
    Column("order_no", String(12), ForeignKey("orders.order_no")),
    Column("cust_no", String(10), ForeignKey("customers.cust_no"), nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("due_date", Date),
    Column("gross_amount", Numeric(14, 2), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("paid_flag", CHAR(1), nullable=False, server_default="N"),
    Column("changed_ts", DateTime, nullable=False),
    Index("ix_invoices_changed", "changed_ts", "invoice_no"),
)

employees = Table(
    "employees", metadata,
    Column("emp_code", String(10), primary_key=True),
    Column("full_name", String(120), nullable=False),
    Column("email_addr", String(120)),
    Column("active", CHAR(1), nullable=False, server_default="Y"),
    Column("sf_user_id", String(18)),
)
