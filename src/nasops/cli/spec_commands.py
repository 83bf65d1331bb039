"""Commands that only read a spec: validate, access-report, spec schema, init."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import click

from nasops.compile.contract import desired_schema
from nasops.errors import (
    BadInputError,
    NasopsError,
    Problem,
    SpecError,
    os_error_exit_code,
    os_error_words,
)
from nasops.report.access import FORMATS, render
from nasops.spec import LoadedSpec, Spec, load_spec
from nasops.spec.rights import resolve_rights


def write_output(path: str, text: str, what: str) -> None:
    """Write an output file the user named; any OS error becomes one line (no traceback)."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        failure = NasopsError(f"{path}: cannot write the {what}: {os_error_words(error)}")
        failure.exit_code = os_error_exit_code(error)
        raise failure from None


def _load(spec_path: str) -> LoadedSpec:
    loaded = load_spec(spec_path)
    for warning in loaded.warnings:
        click.echo(warning.format(), err=True)
    return loaded


# SPEC is plain text for click: load_spec itself refuses folders, FIFOs and devices in one
# line, where click would print its usage text around the error.
@click.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (valid, counts, errors with file/line/column).")
def validate(spec_path: str, as_json: bool) -> None:
    """Check SPEC and list every problem with its line; exit 2 if it is invalid."""
    try:
        loaded = _load(spec_path)
        spec = loaded.spec
        counts = {"users": len(spec.users), "groups": len(spec.groups),
                  "shares": len(spec.shares), "folders": len(resolve_rights(spec).folders)}
    except NasopsError as error:
        if as_json:
            _echo_json(validate_document(spec_path, error=error))
        raise
    if as_json:
        _echo_json(validate_document(spec_path, counts=counts, warnings=loaded.warnings))
        return
    click.echo(f"{spec_path}: valid — {counts['users']} users, {counts['groups']} groups, "
               f"{counts['shares']} shares, {counts['folders']} folders"
               + (f", {len(loaded.warnings)} warning(s)" if loaded.warnings else ""))


def _echo_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def validate_document(spec_path: str, *, counts: dict[str, int] | None = None,
                      error: NasopsError | None = None,
                      warnings: Iterable[Problem] = ()) -> dict[str, Any]:
    """Return the `validate --json` document; its keys are those of the run documents of
    plan, apply and drift (hosts empty, log null) plus spec, valid and counts."""
    # Here, not at the top: `validate` without --json does not pay for the Ansible side.
    from nasops.ansible.summary import run_document  # noqa: PLC0415

    document = run_document("validate", None, exit_code=error.exit_code if error else 0,
                            log=None, error=error, warnings=warnings)
    if error is not None and not isinstance(error, SpecError):
        # A spec that cannot be read at all (missing, a folder): the file is the one named.
        for entry in document["errors"]:
            entry["file"] = spec_path
    return {**document, "spec": spec_path, "valid": error is None, "counts": counts}


@click.command("access-report")
@click.argument("spec_path", metavar="SPEC")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table",
              show_default=True, help="Output format.")
@click.option("--output", "-o", help="Write to this file instead of standard output.")
def access_report(spec_path: str, output_format: str, output: str | None) -> None:
    """Show who can read or change every folder of SPEC (GDPR access overview)."""
    spec = _load(spec_path).spec
    text = render(spec, resolve_rights(spec), output_format)
    if output:
        write_output(output, text, "access report")
        click.echo(f"access report written to {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@click.group("spec")
def spec_group() -> None:
    """Spec helpers for editors and new users."""


@spec_group.command("schema")
@click.option("--desired", is_flag=True,
              help="Print the schema of the compiled desired state (`nasops compile`) instead.")
def schema(desired: bool) -> None:
    """Print the spec's JSON Schema (for editor completion and checks)."""
    if desired:
        click.echo(json.dumps(desired_schema(), indent=2, ensure_ascii=False))
        return
    document = Spec.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "nasops spec"
    # The models accept `organization: wsm` and `volume: /srv/nas` as shorthands; say so, or
    # editors would flag them.
    properties = document["properties"]
    properties["organization"] = {"anyOf": [
        properties["organization"],
        {"type": "string", "description": "Short identifier, same as organization.id"}]}
    properties["volume"] = {"anyOf": [
        {"$ref": properties["volume"]["$ref"]},
        {"type": "string", "description": "Absolute path, same as volume.path"}]}
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--organization", default="my-org", show_default=True,
              help="Short identifier of the organisation.")
def init(directory: str, organization: str) -> None:
    """Write a commented starter spec and inventory into DIRECTORY."""
    target = Path(directory)
    spec_file = target / f"{organization}.yml"
    inventory_file = target / "inventory.yml"
    existing = [str(path) for path in (spec_file, inventory_file) if path.exists()]
    if existing:
        raise BadInputError(f"refusing to overwrite {', '.join(existing)}")
    data = resources.files("nasops") / "data"
    starter = (data / "starter-spec.yml").read_text(encoding="utf-8")
    inventory = (data / "starter-inventory.yml").read_text(encoding="utf-8")
    target.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(starter.replace("my-org", organization), encoding="utf-8")
    inventory_file.write_text(inventory.replace("my-org", organization), encoding="utf-8")
    click.echo(f"wrote {spec_file} and {inventory_file}; next: nasops validate {spec_file}")


def register(cli: click.Group) -> None:
    """Add the spec commands to the main CLI group."""
    for command in (validate, access_report, spec_group, init):
        cli.add_command(command)
