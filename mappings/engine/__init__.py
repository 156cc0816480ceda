"""The mapping engine: specs compiled into per-record functions, mappers and mapping sets."""
