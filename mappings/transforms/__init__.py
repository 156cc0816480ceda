"""The transform library: named value functions with typed options, and the registry to extend it."""

from mappings.transforms.base import (
    BuildEnv,
    FieldInfo,
    NoOptions,
    Options,
    Step,
    TransformDef,
    TransformError,
    TransformRegistry,
)

__all__ = ["BuildEnv", "FieldInfo", "NoOptions", "Options", "Step", "TransformDef", "TransformError",
           "TransformRegistry"]
