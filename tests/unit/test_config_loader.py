"""crmsync.yaml: a valid project loads; every mistake is one line naming file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connectors.retry import RetryPolicy
from orchestrator.config import load_config
from orchestrator.errors import ConfigError
from orchestrator.logging import SecretMasker

GOOD = """\
version: 1
state:
  url: sqlite:///state/crm.db
  retention_days: 30
canonical:
  extensions:
    Account:
      loyalty_tier: {type: string}
systems:
  crm:
    connector: salesforce
    settings:
      auth:
        flow: client_credentials
        client_id: ${SF_CLIENT_ID}
        client_secret: ${SF_CLIENT_SECRET}
      login_url: https://acme.my.salesforce.com
  erp:
    connector: sql
    settings:
      url: postgresql+psycopg://crmsync:${ERP_PW}@db/erp
    timezone: Europe/Madrid
  files:
    connector: memory
    mappings: specs
syncs:
  erp-to-crm:
    from: erp
    to: crm
    objects: [Account, {entity: Contact, batch_size: 100, mode: full}]
    delete_policy: soft
    retry: {max_attempts: 3, initial_wait: 0.1}
  both:
    from: erp
    to: crm
    direction: two_way
    objects: [Contact]
    conflict: {default: newest, fields: {email: crm, phone: erp}}
reconciliations:
  weekly:
    left: erp
    right: crm
    entities: [Account, Contact]
    match: {Contact: [email], Account: [domain, name]}
    thresholds: {field_mismatch: 100, missing: 0.02}
    survivorship: {default: erp}
"""
ENV = {"SF_CLIENT_ID": "3MVG9-client", "SF_CLIENT_SECRET": "s3cr3t-value-1", "ERP_PW": "pg-pass-42"}


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "specs").mkdir(exist_ok=True)
    path = tmp_path / "crmsync.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_project_loads_with_paths_secrets_and_policies(tmp_path: Path) -> None:
    masker = SecretMasker()
    config = load_config(write(tmp_path, GOOD), environ=ENV, masker=masker)
    assert config.state.url == f"sqlite:///{tmp_path.resolve()}/state/crm.db"
    assert config.state.retention_days == 30
    assert config.systems["crm"].settings["auth"]["client_secret"] == "s3cr3t-value-1"
    assert config.systems["erp"].settings["url"] == "postgresql+psycopg://crmsync:pg-pass-42@db/erp"
    assert config.mapping_dir("files") == tmp_path.resolve() / "specs"
    sync = config.sync("erp-to-crm")
    assert [(o.entity, o.batch_size, o.mode) for o in sync.objects] == [("Account", None, None),
                                                                       ("Contact", 100, "full")]
    assert (sync.source, sync.target, sync.delete_policy, sync.batch_size) == ("erp", "crm", "soft", 500)
    assert config.sync("both").resolution().fields == {"email": "crm", "phone": "erp"}
    policy = config.retry_policy("erp-to-crm")
    assert isinstance(policy, RetryPolicy) and (policy.max_attempts, policy.initial_wait) == (3, 0.1)
    assert "loyalty_tier" in config.registry().get("Account").model_fields
    weekly = config.reconciliation("weekly")
    assert weekly.thresholds == {"field_mismatch": 100, "missing": 0.02}
    assert isinstance(weekly.thresholds["field_mismatch"], int) and weekly.report_dir == tmp_path.resolve() / "reports"
    assert masker.mask_text("token s3cr3t-value-1 pw pg-pass-42") == "token **** pw ****"
    assert masker.mask_text("3MVG9-client") == "3MVG9-client"  # a client id is not a secret
    with pytest.raises(ConfigError, match="unknown sync 'nope'"):
        config.sync("nope")


def test_secret_files_are_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "sf").write_text("file-secret-123\n")
    (tmp_path / "secrets" / "pw").write_text("db-file-pw-9\n")
    text = GOOD.replace("client_secret: ${SF_CLIENT_SECRET}", "client_secret: !file secrets/sf").replace(
        "      url: postgresql+psycopg://crmsync:${ERP_PW}@db/erp",
        "      url: postgresql+psycopg://crmsync@db/erp\n      password: {file: secrets/pw}")
    masker = SecretMasker()
    config = load_config(write(tmp_path, text), environ=ENV, masker=masker)
    assert config.systems["crm"].settings["auth"]["client_secret"] == "file-secret-123"
    assert config.systems["erp"].settings["password"] == "db-file-pw-9"
    assert masker.mask_text("file-secret-123 db-file-pw-9") == "**** ****"


def test_relative_paths_in_settings_follow_the_config_file(tmp_path: Path) -> None:
    text = GOOD.replace("""        flow: client_credentials
        client_id: ${SF_CLIENT_ID}
        client_secret: ${SF_CLIENT_SECRET}""", """        flow: jwt_bearer
        client_id: ${SF_CLIENT_ID}
        username: integration@acme.example
        private_key_file: keys/sf.pem
      ca_bundle: /etc/ssl/ca.pem""")
    config = load_config(write(tmp_path, text), environ=ENV, masker=SecretMasker())
    settings = config.systems["crm"].settings
    assert settings["auth"]["private_key_file"] == str(tmp_path.resolve() / "keys" / "sf.pem")
    assert settings["ca_bundle"] == "/etc/ssl/ca.pem"  # absolute paths stay as written
    assert settings["auth"]["username"] == "integration@acme.example"  # not a Path field


def test_executor_section(tmp_path: Path) -> None:
    masker = SecretMasker()
    text = GOOD + "executor:\n  type: celery\n  broker_url: amqp://crmsync:${MQ_PW}@rabbit:5672//\n"
    config = load_config(write(tmp_path, text), environ={**ENV, "MQ_PW": "rabbit-pw-7"}, masker=masker)
    assert config.executor.type == "celery" and config.executor.lease_ttl_s == 60
    assert masker.mask_text("amqp://crmsync:rabbit-pw-7@rabbit") == "amqp://crmsync:****@rabbit"
    assert load_config(write(tmp_path, GOOD), environ=ENV, masker=masker).executor.type == "local"
    with pytest.raises(ConfigError, match=r":47: executor: a celery executor needs broker_url"):
        load_config(write(tmp_path, GOOD + "executor:\n  type: celery\n"), environ=ENV, masker=masker)


def test_sections_read_only_the_state(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), environ={}, sections={"state"})  # no CRM credentials needed
    assert config.state.retention_days == 30 and config.systems == {}


# (replace this, with that) -> (line, key, message fragment)
ERRORS = [
    pytest.param(("  retention_days: 30", "  retenton_days: 30"), (4, "state.retenton_days",
                 "unknown key 'retenton_days'; did you mean 'retention_days'?"), id="unknown-key"),
    pytest.param(("    delete_policy: soft", "    delete_policy: soft\n    batch_size: lots"),
                 (32, "syncs.erp-to-crm.batch_size", "valid integer"), id="bad-type"),
    pytest.param(("    to: crm\n    objects: [Account, {", "    to: crmm\n    objects: [Account, {"),
                 (29, "syncs.erp-to-crm.to", "unknown system 'crmm' (systems: crm, erp, files)"), id="unknown-system"),
    pytest.param(("${SF_CLIENT_SECRET}", "${SF_SECRET}"), (16, "systems.crm.settings.auth.client_secret",
                 "environment variable SF_SECRET is not set"), id="missing-env"),
    pytest.param(("client_secret: ${SF_CLIENT_SECRET}", "client_secret: hunter2hunter2"),
                 (16, "systems.crm.settings.auth.client_secret", "use ${ENV_VAR}"), id="inline-secret"),
    pytest.param(("crmsync:${ERP_PW}@db", "crmsync:hunter2@db"),
                 (21, "systems.erp.settings.url", "literal password"), id="url-password"),
    pytest.param(("    entities: [Account, Contact]\n", "    entities: [Account, Contact\n"),
                 (43, "entities", "YAML syntax error"), id="yaml-syntax"),
    pytest.param(("  retention_days: 30", "  retention_days: 30\n  retention_days: 40"),
                 (5, "state.retention_days", "duplicate key"), id="duplicate-key"),
    pytest.param(("fields: {email: crm,", "fields: {email: sap,"),
                 (38, "syncs.both.conflict.fields.email", "'sap' is not a rule here"), id="bad-conflict-rule"),
    pytest.param(("objects: [Contact]", "objects: [Contakt]"),
                 (37, "syncs.both.objects[0]", "unknown canonical entity 'Contakt'"), id="unknown-entity"),
    pytest.param(("missing: 0.02", "missng: 0.02"),
                 (45, "reconciliations.weekly.thresholds", "unknown finding code 'missng'"), id="bad-threshold"),
    pytest.param(("connector: memory", "connector: sap"),
                 (24, "systems.files.connector", "connector type 'sap' is not installed"), id="not-installed"),
    pytest.param(("mappings: specs", "mappings: nowhere"),
                 (25, "systems.files.mappings", "does not exist"), id="no-mapping-dir"),
    pytest.param(("https://acme.my.salesforce.com", "acme.my.salesforce.com"),
                 (17, "systems.crm.settings.login_url", "salesforce: login_url must start with https://"),
                 id="connector-settings"),
    pytest.param(("version: 1", "version: 2"), (1, "version", "unsupported config version"), id="version"),
    pytest.param(("    timezone: Europe/Madrid", "    timezone: Europe/Madird"),
                 (22, "systems.erp.timezone", "unknown time zone"), id="timezone"),
    pytest.param(("    direction: two_way\n", ""),
                 (33, "syncs.both", "conflict rules apply to two_way syncs only"), id="conflict-one-way"),
]


@pytest.mark.parametrize(("change", "expected"), ERRORS)
def test_each_mistake_is_one_line_with_file_line_and_key(tmp_path: Path, change: tuple[str, str],
                                                          expected: tuple[int, str, str]) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=ENV, masker=SecretMasker())
    line, key, fragment = expected
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}: {key}: "), text
    assert fragment in text


def test_missing_or_empty_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="at least `version: 1`"):
        load_config(write(tmp_path, ""))
    with pytest.raises(ConfigError, match=r":1: version: this required key is missing"):
        load_config(write(tmp_path, "state: {}\n"))
