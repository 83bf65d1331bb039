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
from nasops.report.hosted import as_people_see
from nasops.spec import LoadedSpec, Spec, load_spec
from nasops.spec.rights import RightsTable, resolve_rights


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
@click.argument("spec_path", metavar="[SPEC]", required=False)
@click.option("-i", "--inventory",
              help="Check every spec the inventory's NAS hosts name instead, and the specs of "
                   "a NAS that hosts several organisations (nasops_specs) together.")
@click.option("--limit", "-l", help="With -i: Ansible host pattern restricting the hosts.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (valid, counts, errors with file/line/column).")
@click.option("--platform", type=click.Choice(["debian", "qts"]), default=None,
              help="With SPEC: also check it against what that platform can do (qts: a QNAP "
                   "NAS, docs/qts.md). With -i, each host's nasops_platform says it.")
def validate(spec_path: str | None, inventory: str | None, limit: str | None,
             as_json: bool, platform: str | None) -> None:
    """Check SPEC (or every spec of -i INVENTORY) and list every problem with its line; exit
    2 if one is invalid."""
    if inventory is not None and spec_path is None:
        if platform is not None:
            raise BadInputError("--platform is for one SPEC: with -i, each host's "
                                "nasops_platform says it")
        _validate_inventory(inventory, limit, as_json)
        return
    if spec_path is None or inventory is not None:
        raise BadInputError("give one spec file (nasops validate SPEC) or an inventory "
                            "(nasops validate -i INVENTORY)")
    if limit is not None:
        raise BadInputError("--limit chooses hosts of an inventory: use it with -i")
    try:
        loaded = _load(spec_path)
        if platform == "qts":
            from nasops.spec.qts import qts_problems  # noqa: PLC0415 - QTS only

            refused = qts_problems(loaded)
            if refused:
                raise SpecError(refused)
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


def _validate_inventory(inventory: str, limit: str | None, as_json: bool) -> None:
    """validate -i: every spec of every NAS, and the organisations of a NAS together."""
    # Here, not at the top: the single-spec form does not pay for the inventory side.
    from nasops.ansible.summary import plural, run_document  # noqa: PLC0415
    from nasops.provision.hosted import validate_inventory  # noqa: PLC0415

    try:
        found = validate_inventory(inventory, limit)
    except NasopsError as error:
        if as_json:
            _echo_json({**run_document("validate", None, exit_code=error.exit_code, log=None,
                                       error=error),
                        "inventory": inventory, "valid": False, "organisations": None})
        raise
    for warning in found.warnings:
        click.echo(warning.format(), err=True)
    if as_json:
        _echo_json({**run_document("validate", None, exit_code=0, log=None,
                                   warnings=found.warnings),
                    "inventory": inventory, "valid": True, "organisations": found.hosts})
        return
    # The warnings were printed above, each with its place.
    for host, organisations in found.hosts.items():
        together = " (checked together)" if len(organisations) > 1 else ""
        qts = (" (checked against what QTS can do: docs/qts.md)"
               if found.platforms.get(host) == "qts" else "")
        click.echo(f"{host}: valid — {plural(len(organisations), 'organisation')}: "
                   f"{', '.join(organisations)}{together}{qts}")


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
@click.argument("spec_path", metavar="[SPEC]", required=False)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table",
              show_default=True, help="Output format.")
@click.option("--output", "-o", help="Write to this file instead of standard output.")
@click.option("-i", "--inventory",
              help="Instead of SPEC: the whole NAS of this inventory (with --limit when it "
                   "names several), every organisation it hosts in one report.")
@click.option("--limit", "-l", help="With -i: the Ansible host pattern of one NAS.")
def access_report(spec_path: str | None, output_format: str, output: str | None,
                  inventory: str | None, limit: str | None) -> None:
    """Show who can read or change every folder of SPEC, or of a whole NAS (-i), with the
    logins people type (GDPR access overview)."""
    if inventory is not None and spec_path is None:
        spec, table = _nas_report(inventory, limit)
    elif spec_path is not None and inventory is None and limit is None:
        spec = _load(spec_path).spec
        table = as_people_see(spec, resolve_rights(spec))
    else:
        raise BadInputError("give one spec file (nasops access-report SPEC) or an inventory "
                            "(nasops access-report -i INVENTORY [--limit NAS])")
    text = render(spec, table, output_format)
    if output:
        write_output(output, text, "access report")
        click.echo(f"access report written to {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def _nas_report(inventory: str, limit: str | None) -> tuple[Spec, RightsTable]:
    """access-report -i: the one NAS of the inventory (after --limit), all its organisations
    checked together first (nasops validate -i), in one report."""
    from nasops.provision.hosted import validate_inventory  # noqa: PLC0415
    from nasops.report.hosted import combined_report  # noqa: PLC0415

    found = validate_inventory(inventory, limit)
    for warning in found.warnings:
        click.echo(warning.format(), err=True)
    if len(found.hosts) != 1:
        raise BadInputError(f"{inventory} names {len(found.hosts)} NAS hosts "
                            f"({', '.join(found.hosts)}): choose one with --limit")
    [(host, _organisations)] = found.hosts.items()
    # The specs as they were checked together (not read again: one could change meanwhile).
    return combined_report(host, [loaded.spec for loaded in found.specs[host]],
                           found.shared.get(host))


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
