"""`nasops forget`: which paths it accepts before anything reaches the NAS."""

from __future__ import annotations

import pytest

from nasops.cli.forget import resolve_paths
from nasops.errors import BadInputError

ROOT = "/srv/nas/wsm"
ONE = {"volume": "/srv/nas", "organizations": [{"root": ROOT}], "shared_root": None}
SHARED = {"volume": "/srv/nas", "organizations": [{"root": "/srv/nas/atable"},
                                                  {"root": "/srv/nas/relais"}],
          "shared_root": "/srv/nas/commun"}


def test_share_relative_and_absolute_paths_resolve_under_the_organisation() -> None:
    assert resolve_paths(("Afrique/Partenaires/Burundi", f"{ROOT}/Ancien partage/"), ONE) == [
        f"{ROOT}/Afrique/Partenaires/Burundi", f"{ROOT}/Ancien partage"]


def test_a_path_typed_in_nfd_names_the_nfc_folder() -> None:
    assert resolve_paths(("E\u0301ducation/Ancien",), ONE) == [f"{ROOT}/\u00c9ducation/Ancien"]


@pytest.mark.parametrize("path", ["/etc", "../../etc", "Afrique/../../..", ROOT, ".",
                                  "/srv/nas/wsm-other/x", "Afrique/\nx"])
def test_paths_outside_the_organisation_are_refused_all_at_once(path: str) -> None:
    with pytest.raises(BadInputError) as raised:
        resolve_paths(("Afrique/Ok", path), ONE)
    assert "not a folder under /srv/nas/wsm" in str(raised.value)
    assert "nothing was changed" in str(raised.value)


def test_on_a_shared_nas_relative_paths_start_with_the_organisation() -> None:
    assert resolve_paths(("atable/Cuisine/Ancien", "commun/Commun/Vieux",
                          "/srv/nas/relais/Pôle/Ancien"), SHARED) == [
        "/srv/nas/atable/Cuisine/Ancien", "/srv/nas/commun/Commun/Vieux",
        "/srv/nas/relais/Pôle/Ancien"]


@pytest.mark.parametrize("path", ["atable", "Cuisine/Ancien", "/srv/nas/habitat/x",
                                  "/srv/nas", "commun"])
def test_on_a_shared_nas_paths_outside_every_organisation_are_refused(path: str) -> None:
    with pytest.raises(BadInputError) as raised:
        resolve_paths((path,), SHARED)
    assert "not a folder under /srv/nas/atable or /srv/nas/relais or /srv/nas/commun" in \
        str(raised.value)
