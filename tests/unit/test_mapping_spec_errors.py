"""Every spec error is one line naming file, line and key; ``crmsync mappings validate`` exits 2."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from mappings import MappingSet, MappingSpecError
from mappings.canonical import CanonicalRegistry, CustomField
from mappings.spec.compile import compile_text
from mappings.transforms.base import TransformRegistry
from orchestrator.cli import main

GOOD = """\
system_type: salesforce
object: Contact
entity: Contact
key: Id
fields:
  - canonical: last_name
    native: LastName
    transforms: [trim]
  - canonical: email
    native: Email
    transforms: [email]
"""


def write(tmp_path: Path, text: str, name: str = "contact.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def validate(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    code = main(["mappings", "validate", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_good_spec_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    code, out, err = validate(capsys, path)
    assert code == 0, err
    assert out.startswith(f"OK {path}")


@pytest.mark.parametrize(("broken", "line", "key", "message"), [
    (GOOD.replace("transforms: [email]", "transforms: [emial]"), 11, "fields[1].transforms[0]",
     "unknown transform 'emial' (did you mean 'email'?)"),
    (GOOD.replace("canonical: email", "canonical: e_mail"), 9, "fields[1].canonical",
     "unknown canonical field 'e_mail' of Contact (did you mean 'email'?)"),
    (GOOD.replace("transforms: [trim]", "transforms: [trim"), 9, "canonical",
     "YAML syntax error"),
], ids=["unknown-transform", "unknown-canonical-field", "yaml-syntax"])
def test_acceptance_errors_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str,
                                           line: int, key: str, message: str) -> None:
    path = write(tmp_path, broken)
    code, _, err = validate(capsys, path)
    assert code == 2
    text = one_error_line(err)
    assert text.startswith(f"{path}:{line}: {key}: "), text
    assert message in text


@pytest.mark.parametrize(("replace", "by", "line", "key", "fragment"), [
    ("transforms: [email]", "transforms: [{phone: {regoin: ES}}]", 11, "fields[1].transforms[0].phone.regoin",
     "unknown key"),
    ("transforms: [email]", "transforms: [{phone: {region: XX}}]", 11, "fields[1].transforms[0].phone.region",
     "unknown phone region 'XX'"),
    ("canonical: email", "canonical: last_name", 9, "fields[1].canonical", "already mapped by fields[0]"),
    ("key: Id\n", "", 1, "key", "missing required key"),
    ("    native: Email\n", "    native: Email\n    nativ: Email\n", 11, "fields[1].nativ", "unknown key"),
    ("object: Contact\n", "object: Contact\nobject: Lead\n", 3, "object", "duplicate key 'object'"),
    ("entity: Contact", "entity: Contcat", 3, "entity", "unknown canonical entity 'Contcat'"),
    ("transforms: [email]", "transforms: [{constant: x}]", 11, "fields[1].transforms[0]", "has no inverse"),
    ("    native: Email\n", "    native: [Email, Email2]\n", 11, "fields[1].transforms",
     "2 native fields need a first transform that takes 2 values"),
    ("transforms: [email]", "transforms: [{value_map: {map: {a: b}, on_unknown: other}}]", 11,
     "fields[1].transforms[0].value_map", "needs an enum field with an OTHER member"),
    ("transforms: [email]", "transforms: [{datetime: Mars/Olympus}]", 11, "fields[1].transforms[0].datetime",
     "unknown time zone"),
], ids=["unknown-option", "invalid-option", "duplicate-target", "missing-key", "unknown-key", "duplicate-yaml-key",
        "unknown-entity", "no-inverse", "arity", "other-without-raw", "bad-zone"])
def test_each_error_names_file_line_and_key(tmp_path: Path, replace: str, by: str, line: int, key: str,
                                            fragment: str) -> None:
    assert replace in GOOD
    path = write(tmp_path, GOOD.replace(replace, by))
    with pytest.raises(MappingSpecError) as caught:
        MappingSet.load(path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}: {key}: "), text
    assert fragment in text


def test_custom_fields_of_the_project_are_known() -> None:
    spec = GOOD.replace("canonical: email", "canonical: loyalty_tier").replace("[email]", "[trim]")
    with pytest.raises(MappingSpecError, match="unknown canonical field 'loyalty_tier'"):
        compile_text(spec, "x.yaml", CanonicalRegistry(), TransformRegistry.builtin())
    registry = CanonicalRegistry({"Contact": {"loyalty_tier": CustomField(type="string")}})
    compiled = compile_text(spec, "x.yaml", registry, TransformRegistry.builtin())
    assert [t.path for p in compiled.fields for t in p.canonicals] == ["last_name", "loyalty_tier"]


def test_a_directory_reports_every_bad_file_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("[trim]", "[trimm]").replace("Contact\nentity", "Lead\nentity"), "b.yaml")
    write(tmp_path, "system_type: [unclosed\n", "c.yaml")
    code, out, err = validate(capsys, tmp_path)
    assert code == 2
    assert out.count("OK ") == 1
    errors = err.strip().splitlines()
    assert len(errors) == 2
    assert re.match(rf"{re.escape(str(tmp_path / 'b.yaml'))}:8: fields\[0\]\.transforms\[0\]: unknown transform",
                    errors[0])
    assert errors[1].startswith(f"{tmp_path / 'c.yaml'}:2: ")


def test_shipped_specs_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mappings", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.count("OK ") == 11


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = validate(capsys, tmp_path / "nope")
    assert code == 2
    assert "no such file or directory" in err


def test_show_explains_a_spec(capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.commands.mappings_cmd import SHIPPED

    assert main(["mappings", "show", str(SHIPPED / "erp" / "orders.yaml"), "--code"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sql:orders -> Opportunity  key=order_no  cursor=changed_ts")
    assert "references: account_id -> Account, owner_id -> User" in out
    assert "stage" in out and "value_map" in out and "def to_canonical(record, ctx):" in out
