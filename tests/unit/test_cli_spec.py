"""The spec commands through the real CLI entry point: exit codes, output, files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasops.cli.main import main
from nasops.spec import load_spec
from nasops.spec.yaml_source import parse_yaml

EXAMPLE = Path(__file__).parents[2] / "inventory" / "example" / "wsm.yml"
CORPUS_VALID = sorted((Path(__file__).parent / "spec_corpus" / "valid").glob("*.yml"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `nasops ARGV` in-process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def test_validate_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLE))
    assert code == 0, err
    assert out == f"{EXAMPLE}: valid — 23 users, 11 groups, 5 shares, 29 folders\n"


def test_validate_prints_warnings_and_counts_them(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text("organization: tiny\nshares:\n  - name: Board\n    folders:\n"
                         "      - {name: Minutes, inherit: false}\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", str(spec_file))
    assert code == 0
    assert err == (f"{spec_file}:5:9: warning: shares[0].folders[0]: inherit: false with no "
                   "access entries: only the NAS administrator can open this folder\n")
    assert out.endswith("2 folders, 1 warning(s)\n")


def test_validate_invalid_spec_exits_2_with_located_lines(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text("organization: tiny\nusers:\n  - login: Bob\n  - login: josé\n",
                         encoding="utf-8")
    code, out, err = run(capsys, "validate", str(spec_file))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"{spec_file}:3:5: users[0].login: 'Bob' has capital letters; logins are lowercase "
        "(try 'bob')",
        f"{spec_file}:4:5: users[1].login: 'josé' has accents or letters outside a-z, which "
        "logins cannot have (try 'jose')",
    ]


@pytest.mark.parametrize("name", ["missing.yml", "."])
def test_validate_refuses_what_is_not_a_spec_file(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path, name: str) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path / name))
    assert code == 2
    assert err.strip()


@pytest.mark.parametrize("output_format", ["table", "csv", "json", "markdown", "html"])
def test_access_report_every_format(capsys: pytest.CaptureFixture[str],
                                    output_format: str) -> None:
    code, out, err = run(capsys, "access-report", str(EXAMPLE), "--format", output_format)
    assert code == 0, err
    assert "Afrique" in out
    assert err == ""


def test_access_report_to_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "access.json"
    code, out, err = run(capsys, "access-report", str(EXAMPLE), "--format", "json",
                         "-o", str(target))
    assert code == 0
    assert out == ""
    assert err == f"access report written to {target}\n"
    assert json.loads(target.read_text(encoding="utf-8"))["organization"] == "wsm"


def test_access_report_unknown_format_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "access-report", str(EXAMPLE), "--format", "pdf")
    assert code == 2
    assert "'pdf' is not one of" in err


def test_access_report_of_an_invalid_spec_exits_2(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text("organization: tiny\nshares: [{name: homes}]\n", encoding="utf-8")
    code, out, err = run(capsys, "access-report", str(spec_file))
    assert (code, out) == (2, "")
    assert "'homes' is reserved by Samba" in err


def test_schema_is_json_schema_with_the_main_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "spec", "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object"
    assert {"organization", "shares", "users", "groups", "backup"} <= set(schema["properties"])
    assert schema["required"] == ["organization"]
    assert schema["additionalProperties"] is False
    assert "Folder" in schema["$defs"]


def test_schema_accepts_the_example_and_the_valid_corpus(
        capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    code, out, _ = run(capsys, "spec", "schema")
    assert code == 0
    validator = jsonschema.Draft202012Validator(json.loads(out))
    validator.check_schema(validator.schema)
    for path in [EXAMPLE, *CORPUS_VALID]:
        data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        errors = [error.message for error in validator.iter_errors(data)]
        assert errors == [], path
    wrong = {"organization": "x", "shares": [{"name": "P", "colour": "red"}]}
    assert list(validator.iter_errors(wrong))


def test_init_writes_a_spec_that_validates(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    target = tmp_path / "new"
    code, out, _ = run(capsys, "init", str(target), "--organization", "collectif")
    assert code == 0
    spec_file = target / "collectif.yml"
    assert spec_file.is_file()
    assert (target / "inventory.yml").is_file()
    assert f"nasops validate {spec_file}" in out
    assert load_spec(spec_file).spec.organization.id == "collectif"
    code, out, err = run(capsys, "validate", str(spec_file))
    assert code == 0, err
    assert "valid" in out


def test_init_never_overwrites(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "init", str(tmp_path))[0] == 0
    before = (tmp_path / "my-org.yml").read_text(encoding="utf-8")
    code, _, err = run(capsys, "init", str(tmp_path))
    assert code == 2
    assert "refusing to overwrite" in err
    assert (tmp_path / "my-org.yml").read_text(encoding="utf-8") == before


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("nasops, version ")
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("validate", "access-report", "spec", "init"):
        assert command in out
