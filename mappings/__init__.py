"""Pure: canonical schemas, declarative mapping specs, the transform library and the engine.

No network, no database. Mappings turn native records into canonical ones and back, and explain
every record they reject with a stable reason code and the field, never the value.
"""

from mappings.context import MappingContext
from mappings.engine.mapper import Mapper
from mappings.engine.mapping_set import MappingSet
from mappings.errors import MappingSpecError, Reason, RecordRejection
from mappings.transforms.base import TransformError, TransformRegistry

__all__ = ["Mapper", "MappingContext", "MappingSet", "MappingSpecError", "Reason", "RecordRejection",
           "TransformError", "TransformRegistry"]
