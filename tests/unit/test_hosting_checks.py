"""Several organisations on one NAS (issue 13): each spec is valid alone; checked together,
every conflict is reported at both places in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.errors import SpecError
from nasops.spec import load_spec, load_spec_text
from nasops.spec.hosting import check_hosted

COLLECTIVE = Path(__file__).resolve().parents[2] / "inventory" / "collective"


def organisation(file: str, identifier: str, prefix: str | None, *, volume: str = "/srv/nas",
                 extra_user: str = "", extra: str = "") -> object:
    prefix_line = f"  account_prefix: {prefix}\n" if prefix is not None else ""
    text = (f"version: 1\norganization:\n  id: {identifier}\n{prefix_line}"
            f"volume:\n  path: {volume}\n  size: 1T\n"
            "groups:\n  - name: Équipe\n    system_name: equipe\n"
            f"users:\n  - {{login: marie, name: Marie, groups: [Équipe]}}\n{extra_user}"
            "shares:\n  - name: Documents\n    quota: 600G\n    access: {Équipe: write}\n"
            + extra)
    return load_spec_text(text, file)


def messages(problems: list[object]) -> list[str]:
    return [problem.format() for problem in problems]  # type: ignore[attr-defined]


def test_the_collective_example_holds_together_with_a_login_two_associations_use() -> None:
    specs = [load_spec(COLLECTIVE / f"{name}.yml") for name in ("atable", "habitat", "relais")]
    assert check_hosted("collectif-nas", specs) == []
    logins = [user.login for spec in specs for user in spec.spec.users]
    assert logins.count("marie") == 2  # atb-marie and rel-marie: two people, two accounts


def test_every_organisation_needs_its_own_account_prefix() -> None:
    problems = check_hosted("nas", [organisation("a.yml", "atable", "atb-"),
                                    organisation("b.yml", "habitat", None)])
    [missing] = [problem.format() for problem in problems if problem.severity == "error"]
    assert missing.startswith("b.yml:2:1: organization: NAS nas hosts 2 organisations: set "
                              "organization.account_prefix"), missing
    problems = check_hosted("nas", [organisation("a.yml", "atable", "atb-"),
                                    organisation("b.yml", "habitat", "atb-")])
    text = "\n".join(messages(problems))
    assert "b.yml:4:3: organization.account_prefix: account prefix 'atb-' is another " \
        "organisation's too" in text and "also at a.yml:4" in text, text
    # The same prefix makes every account and share name collide too, each at both places.
    assert "account or group name 'atb-marie'" in text and "Samba share name 'atb-Documents'" \
        in text, text


def test_ids_volume_and_exporter_are_one_per_nas() -> None:
    problems = messages(check_hosted("nas", [
        organisation("a.yml", "atable", "atb-"),
        organisation("b.yml", "atable", "hab-", volume="/srv/other",
                     extra="monitoring:\n  port: 9751\n")]))
    text = "\n".join(problems)
    assert "b.yml:3:3: organization.id: organization id 'atable' is another organisation's " \
        "too; also at a.yml:3" in text, text
    assert "b.yml:6:3: volume.path: '/srv/other' here but '/srv/nas' in a.yml:6" in text, text
    # The other spec does not state the port: the default is what it says.
    assert "b.yml:18:3: monitoring.port: 9751 here but 9750 in a.yml (the default): the " \
        "organisations of NAS nas share one exporter" in text, text


def test_a_laptop_or_a_repository_in_two_organisations_is_refused() -> None:
    device = ("  - login: zoe\n    name: Zoé\n    devices:\n      - {name: laptop, id: "
              "55LGC2K-YLNQZPI-TYU4TOU-FFAO326-QK5UN37-FC5PIO7-ZETTS3U-77MJRAG}\n")
    backup = "backup:\n  repositories:\n    - {name: usb, url: /mnt/backup-usb/restic}\n"
    text = "\n".join(messages(check_hosted("nas", [
        organisation("a.yml", "atable", "atb-", extra_user=device, extra=backup),
        organisation("b.yml", "habitat", "hab-", extra_user=device, extra=backup)])))
    assert "b.yml:16:24: users[1].devices[0].id: Syncthing device 55LGC2K… is another " \
        "organisation's too: it would receive that organisation's folders; also at a.yml:16" \
        in text, text
    assert "restic repository /mnt/backup-usb/restic is another organisation's too" in text


def test_quotas_that_together_exceed_the_volume_are_a_warning() -> None:
    problems = check_hosted("nas", [organisation("a.yml", "atable", "atb-"),
                                    organisation("b.yml", "habitat", "hab-")])
    [warning] = problems  # once for the NAS, at the first spec that states a size
    assert warning.severity == "warning" and warning.file == "a.yml"
    assert "the quotas of the 2 organisations of NAS nas add up to more than the volume's 1T" \
        in warning.message


def test_one_repository_written_two_ways_or_inside_another_is_still_one_place() -> None:
    from nasops.spec.hosting import repository_location  # noqa: PLC0415

    assert repository_location("sftp:u1@Backup.Example:/r/") == \
        repository_location("sftp:u2@backup.example:/r")
    assert repository_location("rest:https://H.example:443/r") == \
        repository_location("rest:https://h.example/r/")
    assert repository_location("rest:https://h.example:8000/r") != \
        repository_location("rest:https://h.example/r")
    assert repository_location("rest:https://h.example:port/r") == "rest:https://h.example:port/r"
    outer = "backup:\n  repositories:\n    - {name: usb, url: /mnt/usb/r}\n"
    inner = "backup:\n  repositories:\n    - {name: usb, url: /mnt/usb/r/atable}\n"
    text = "\n".join(messages(check_hosted("nas", [
        organisation("a.yml", "atable", "atb-", extra=outer),
        organisation("b.yml", "habitat", "hab-", extra=inner)])))
    assert "b.yml:19:19: backup.repositories[0].url: restic repository /mnt/usb/r/atable is " \
        "inside another organisation's (/mnt/usb/r, at a.yml:19)" in text, text


def test_the_same_volume_written_differently_is_one_and_the_drift_check_is_the_nas_s() -> None:
    problems = [problem for problem in check_hosted("nas", [
        organisation("a.yml", "atable", "atb-", volume="/srv/nas/"),
        organisation("b.yml", "habitat", "hab-",
                     extra="monitoring:\n  drift_check: daily\n")])
        if problem.severity == "error"]
    assert [problem.path for problem in problems] == ["monitoring.drift_check"], problems


def test_backups_are_each_organisation_s_with_names_that_fit_and_one_check_schedule() -> None:
    backup = ("backup:\n  repositories:\n    - {{name: {name}, url: /srv/backup/{where}}}\n"
              "  check: {{schedule: {check}}}\n")
    fits = backup.format(name="disque", where="a", check="weekly")
    assert [problem for problem in check_hosted("nas", [
        organisation("a.yml", "atable", "atb-", extra=fits),
        organisation("b.yml", "habitat", "hab-")]) if problem.severity == "error"] == []
    # 4 + 31 characters: too long once prefixed, said to the organisation's own admin.
    long_name = "offsite-" + "x" * 23
    with pytest.raises(SpecError) as raised:
        organisation("b.yml", "habitat", "hab-", extra=backup.format(
            name=long_name, where="b", check="weekly"))
    assert [problem.format() for problem in raised.value.problems] == [
        f"b.yml:19:8: backup.repositories[0].name: with the account prefix 'hab-' this "
        f"repository is named 'hab-{long_name}' on a shared NAS, longer than 31 characters; "
        "shorten the name"]
    text = "\n".join(messages(check_hosted("nas", [
        organisation("a.yml", "atable", "atb-", extra=fits),
        organisation("b.yml", "habitat", "hab-", extra=backup.format(
            name="disque", where="b", check="daily"))])))
    assert "b.yml:20:11: backup.check.schedule: 'daily' here but 'weekly' in a.yml:20: the " \
        "organisations of NAS nas share one check timer" in text, text
