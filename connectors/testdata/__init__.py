"""The project's one test-data generator: both sides (Salesforce objects, the demo ERP's tables)
from one set of companies and people, with optional injected defects and a ground-truth file.

See generator.py for the interface and ground_truth.py for the ground-truth format."""

from connectors.testdata.config import GeneratorConfig
from connectors.testdata.defects import CODES
from connectors.testdata.generator import ERP_TABLES, SALESFORCE_OBJECTS, Dataset

__all__ = ["CODES", "ERP_TABLES", "SALESFORCE_OBJECTS", "Dataset", "GeneratorConfig"]
