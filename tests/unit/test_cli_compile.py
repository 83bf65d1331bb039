"""`nasops compile` and `nasops spec schema --desired` through the real CLI entry point."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from ruamel.yaml import YAML

from nasops.cli.main import main
from nasops.compile import compile_desired
from nasops.compile.contract import DesiredState, desired_fingerprint, desired_json
from nasops.spec import load_spec

REPOSITORY = Path(__file__).parents[2]
EXAMPLE = REPOSITORY / "inventory" / "example" / "wsm.yml"
STARTER = REPOSITORY / "src" / "nasops" / "data" / "starter-spec.yml"
BAD_SPEC = ("organization: tiny\nusers:\n  - login: ana\n    groups: [Finanse]\n"
            "groups:\n  - name: Finance\n")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `nasops ARGV` in-process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_json_is_the_state_apply_uses_written_private(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    output = tmp_path / "desired.json"
    code, out, err = run(capsys, "compile", str(EXAMPLE), "-o", str(output))
    assert code == 0, err
    assert out == ""
    state = compile_desired(load_spec(EXAMPLE).spec)
    assert output.read_text(encoding="utf-8") == desired_json(state)
    assert mode_of(output) == 0o600
    assert err == (f"desired state of wsm written to {output} "
                   f"(sha256 {desired_fingerprint(state)})\n")
    assert [path.name for path in tmp_path.iterdir()] == ["desired.json"]


def test_an_existing_readable_file_is_replaced_by_a_private_one(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    output = tmp_path / "desired.json"
    # An earlier desired state (what nasops may replace without --force).
    output.write_text('{"version": 1, "organization": "old", "root": "/srv/nas/old", '
                      '"shares": []}', encoding="utf-8")
    output.chmod(0o644)
    code, _, err = run(capsys, "compile", str(STARTER), "-o", str(output))
    assert code == 0, err
    assert json.loads(output.read_text(encoding="utf-8"))["organization"] == "my-org"
    assert mode_of(output) == 0o600


@pytest.mark.parametrize(("name", "options"), [("desired.yml", []), ("desired.yaml", []),
                                                ("desired.json", ["--format", "yaml"])])
def test_yaml_holds_the_same_state(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   name: str, options: list[str]) -> None:
    output = tmp_path / name
    code, _, err = run(capsys, "compile", str(EXAMPLE), "-o", str(output), *options)
    assert code == 0, err
    text = output.read_text(encoding="utf-8")
    assert text.startswith("version: 3\norganization: wsm\n")
    assert "Bénin" in text  # UTF-8 as it is, not escaped
    data: dict[str, Any] = yaml.safe_load(text)
    state = DesiredState.model_validate(data)
    assert state == compile_desired(load_spec(EXAMPLE).spec)
    assert mode_of(output) == 0o600


def test_yaml_texts_that_look_like_numbers_stay_texts(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    # PyYAML writes YAML 1.1; a YAML 1.2 reader (ruamel here, Go tools) would read a plain
    # 1e3 or 0o17 as a number, and the state would no longer be the contract's.
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text('organization: tiny\ngroups:\n  - {name: Board, description: "1e3"}\n'
                         'shares:\n  - name: Common\n    description: "0o17"\n'
                         '    folders:\n      - {name: "-.5"}\n      - {name: "1_000"}\n',
                         encoding="utf-8")
    code, out, err = run(capsys, "compile", str(spec_file), "-o", "-", "--format", "yaml")
    assert code == 0, err
    expected = compile_desired(load_spec(spec_file).spec)
    assert DesiredState.model_validate(YAML(typ="safe", pure=True).load(out)) == expected
    assert DesiredState.model_validate(yaml.safe_load(out)) == expected


def test_dash_writes_to_standard_output(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    code, out, err = run(capsys, "compile", str(STARTER), "-o", "-")
    assert code == 0, err
    assert out == desired_json(compile_desired(load_spec(STARTER).spec))
    code, out, _ = run(capsys, "compile", str(STARTER), "-o", "-", "--format", "yaml")
    assert code == 0
    assert yaml.safe_load(out) == json.loads(desired_json(compile_desired(
        load_spec(STARTER).spec)))
    assert list(tmp_path.iterdir()) == []


def test_warnings_go_to_standard_error(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text("organization: tiny\nshares:\n  - name: Board\n    folders:\n"
                         "      - {name: Minutes, inherit: false}\n", encoding="utf-8")
    code, out, err = run(capsys, "compile", str(spec_file), "-o", "-")
    assert code == 0
    assert json.loads(out)["shares"][0]["folders"][1]["path"] == "Minutes"
    assert f"{spec_file}:5:9: warning: shares[0].folders[0]: inherit: false" in err


def test_an_invalid_spec_exits_2_located_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text(BAD_SPEC, encoding="utf-8")
    output = tmp_path / "desired.json"
    code, out, err = run(capsys, "compile", str(spec_file), "-o", str(output))
    assert code == 2
    assert out == ""
    assert err == (f"{spec_file}:4:14: users[0].groups[0]: unknown group 'Finanse' "
                   "(did you mean 'Finance'?)\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["spec.yml"]


def test_an_invalid_spec_leaves_an_earlier_output_alone(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text(BAD_SPEC, encoding="utf-8")
    output = tmp_path / "desired.json"
    output.write_text("earlier", encoding="utf-8")
    code, _, _ = run(capsys, "compile", str(spec_file), "-o", str(output))
    assert code == 2
    assert output.read_text(encoding="utf-8") == "earlier"


def test_the_spec_itself_is_never_overwritten(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yml"
    text = STARTER.read_text(encoding="utf-8")
    spec_file.write_text(text, encoding="utf-8")
    link = tmp_path / "link.yml"
    link.symlink_to(spec_file)
    for output in (spec_file, link):
        code, out, err = run(capsys, "compile", str(spec_file), "-o", str(output))
        assert (code, out) == (2, "")
        assert err == f"{output}: this is the spec itself; choose another output file\n"
    assert spec_file.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("place", "words"), [
    ("missing/desired.json", "cannot write the desired state: no such file or directory"),
    (".", "is a directory; name the file to write"),
])
def test_an_output_that_cannot_be_written_is_one_line(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path, place: str,
                                                      words: str) -> None:
    output = tmp_path / place
    code, out, err = run(capsys, "compile", str(STARTER), "-o", str(output))
    assert (code, out) == (2, "")
    assert err == f"{output}: {words}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_spec_is_bad_input(capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    code, _, err = run(capsys, "compile", str(tmp_path / "none.yml"), "-o", "-")
    assert code == 2
    assert err == f"{tmp_path / 'none.yml'}: no such spec file\n"


def test_the_output_option_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compile", str(STARTER))
    assert code == 2
    assert "Missing option '--output'" in err


def test_schema_desired_describes_what_compile_writes(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    import jsonschema  # noqa: PLC0415 — a dev dependency, imported where it is used

    code, out, _ = run(capsys, "spec", "schema", "--desired")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "nasops desired state"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"]) == {
        "version", "organization", "volume", "organizations", "shared_root",
        "groups", "users", "shares", "sync", "backup", "monitoring"}
    assert schema["properties"]["organization"]["description"].startswith("The NAS's name")
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    for spec in (EXAMPLE, STARTER):
        output = tmp_path / f"{spec.stem}.json"
        assert run(capsys, "compile", str(spec), "-o", str(output))[0] == 0
        document = json.loads(output.read_text(encoding="utf-8"))
        assert list(validator.iter_errors(document)) == []
        document["shares"][0]["folders"][0]["colour"] = "red"
        assert list(validator.iter_errors(document))


def test_schema_without_desired_is_still_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "spec", "schema")
    assert code == 0
    assert json.loads(out)["title"] == "nasops spec"


def test_compile_never_replaces_a_device_a_fifo_a_link_or_another_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`-o /dev/null` as root would replace the system's /dev/null with a file of personal
    data; a secrets file or inventory replaced by mistake loses passwords."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("nasops_user_passwords: {alice: s3cret-long}\n", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    for target, words in ((fifo, "not a regular file"), ("/dev/null", "not a regular file"),
                          (secrets, "not a desired state"), (link, "symbolic link"),
                          (tmp_path, "is a directory")):
        code, _, err = run(capsys, "compile", str(STARTER), "-o", str(target))
        assert code == 2, (target, err)
        assert words in err
    assert secrets.read_text(encoding="utf-8").startswith("nasops_user_passwords")
    assert Path("/dev/null").is_char_device() and fifo.is_fifo()
    # An earlier desired state is replaced; another file only with --force.
    desired = tmp_path / "desired.json"
    assert run(capsys, "compile", str(STARTER), "-o", str(desired))[0] == 0
    assert run(capsys, "compile", str(STARTER), "-o", str(desired))[0] == 0
    assert run(capsys, "compile", str(STARTER), "-o", str(secrets), "--force")[0] == 0
    # /dev/stdout is standard output, not a file to replace.
    code, out, _ = run(capsys, "compile", str(STARTER), "-o", "/dev/stdout")
    assert code == 0 and '"organization"' in out
