"""Pure: canonical schemas, declarative mapping specs, the transform library and the engine.

No network, no database. Mappings turn native records into canonical ones and back, and explain
every record they reject with a stable reason code and the field, never the value.
"""
