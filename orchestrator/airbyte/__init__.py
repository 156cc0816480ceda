"""crmsync as an Airbyte source (airbyte-cdk 7.x): canonical streams read through the mappings.

The console script ``source-crmsync`` follows the Airbyte protocol (spec, check, discover, read);
it reads one configured system through its connector and mapping specs, exactly as a sync does,
and emits canonical records, with deletes marked as Airbyte's CDC sources mark them.
"""
