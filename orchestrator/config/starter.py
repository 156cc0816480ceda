"""The commented crmsync.yaml that ``crmsync init`` writes: a working start, secrets from the environment."""

from __future__ import annotations

STARTER = """\
# crmsync project config; `crmsync config validate` checks it. Paths are relative to this file.
# Secrets never go in this file: write ${ENV_VAR} (or !file path/to/secret) and set them outside.
version: 1

state:
  # Run history, checkpoints, the ID cross-reference, quarantine and findings.
  # One machine: this SQLite file. Several workers: postgresql+psycopg://crmsync:${STATE_DB_PASSWORD}@host/crmsync
  url: sqlite:///.crmsync/state.db
  retention_days: 90            # `crmsync purge` deletes closed quarantine and resolved findings after this

# Your own canonical fields (custom Salesforce fields must land somewhere):
# canonical:
#   extensions:
#     Account:
#       loyalty_tier: {type: string, pii: false}

systems:
  crm:
    connector: salesforce
    settings:
      auth:
        flow: jwt_bearer        # server-to-server: a connected app with your certificate uploaded
        client_id: ${SF_CLIENT_ID}
        username: ${SF_USERNAME}
        private_key_file: ${SF_KEY_FILE}
      login_url: https://login.salesforce.com   # a sandbox org: https://test.salesforce.com
      budget_share: 0.9         # stop on purpose (partial run, exit 3) past 90% of the daily API budget
    # mappings: mappings/crm    # default: the specs shipped for Salesforce
    timezone: UTC

  erp:
    connector: sql
    settings:
      url: postgresql+psycopg://crmsync@erp-db.internal:5432/erp
      password: ${ERP_DB_PASSWORD}
      schema: public
    # Default: the specs shipped for the demo ERP (mappings/specs/erp in the crmsync package).
    # Copy them, edit them for your tables and columns, and point here:
    # mappings: mappings/erp
    timezone: Europe/Madrid     # how the ERP's naive timestamps are to be read

syncs:
  erp-to-crm:
    from: erp
    to: crm
    direction: one_way          # two_way also needs `conflict:` rules
    objects: [Account, Contact]
    mode: incremental           # full re-reads everything
    delete_policy: soft         # ignore | soft (mark inactive) | hard (delete at the target)
    batch_size: 500
    concurrency: 2              # streams at once
    retry: {max_attempts: 6, initial_wait: 0.5, max_wait: 30, max_total: 300}
    # conflict:                 # two_way only: erp | crm | newest | most_complete | manual
    #   default: newest
    #   fields: {email: crm, phone: erp}

reconciliations:
  weekly:
    left: erp
    right: crm
    entities: [Account, Contact]
    match:                      # natural keys, tried after the ID cross-reference and external ids
      Account: [vat_number, name]
      Contact: [email]
    lag_minutes: 60             # records changed this recently may still be syncing: not compared
    thresholds:                 # exit 4 when passed; an integer is a count, a fraction a share of records
      missing: 0.02
      field_mismatch: 100
    report_dir: reports
"""
