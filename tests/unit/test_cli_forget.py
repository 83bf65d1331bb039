"""`nasops forget`: which paths it accepts before anything reaches the NAS."""

from __future__ import annotations

import pytest

from nasops.cli.forget import resolve_paths
from nasops.errors import BadInputError

ROOT = "/srv/nas/wsm"


def test_share_relative_and_absolute_paths_resolve_under_the_organisation() -> None:
    assert resolve_paths(("Afrique/Partenaires/Burundi", f"{ROOT}/Ancien partage/"), ROOT) == [
        f"{ROOT}/Afrique/Partenaires/Burundi", f"{ROOT}/Ancien partage"]


def test_a_path_typed_in_nfd_names_the_nfc_folder() -> None:
    assert resolve_paths(("E\u0301ducation/Ancien",), ROOT) == [f"{ROOT}/\u00c9ducation/Ancien"]


@pytest.mark.parametrize("path", ["/etc", "../../etc", "Afrique/../../..", ROOT, ".",
                                  "/srv/nas/wsm-other/x", "Afrique/\nx"])
def test_paths_outside_the_organisation_are_refused_all_at_once(path: str) -> None:
    with pytest.raises(BadInputError) as raised:
        resolve_paths(("Afrique/Ok", path), ROOT)
    assert "not a folder under /srv/nas/wsm" in str(raised.value)
    assert "nothing was changed" in str(raised.value)
