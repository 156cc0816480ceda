"""The project's one test-data generator: both sides (Salesforce objects, the demo ERP's tables)
from one set of companies and people, with optional injected defects and a ground-truth file."""
