"""A malformed secrets file is refused with its line and column, never its text (issue 19).

The parser's own message quotes the offending line, and a secrets file's lines are
passwords: `nasops plan` used to print a ruamel traceback with the password in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasops.errors import EXIT_BAD_INPUT, BadInputError
from nasops.provision.secrets import load_secrets_file

SPECS = Path(__file__).parent / "fixtures" / "ansible" / "specs"
SECRET = "Sesame-Open-4242"
# (file content with the secret in it, expected `line:column` and words)
MALFORMED = {
    "unclosed-quote": (f'nasops_user_passwords:\n  alice: "{SECRET}\n  bob: x\n',
                       "2:10", "a quote is not closed"),
    "duplicate-key": (f"nasops_user_passwords:\n  alice: {SECRET}\n  alice: {SECRET}2\n",
                      "3:3", "a key is set twice"),
    "colon-in-value": (f"nasops_user_passwords:\n  alice: {SECRET}: more\n", "2:26",
                       "a ':' is missing or unexpected"),
    "bad-indentation": (f"nasops_user_passwords:\n  alice: {SECRET}\n bob: {SECRET}\n", "3:2",
                        "bad indentation"),
    "starts-with-backtick": (f"nasops_user_passwords:\n  alice: `{SECRET}\n", "2:10",
                             "does not accept there"),
    "starts-with-star": (f"nasops_user_passwords:\n  alice: *{SECRET}\n", "2:10",
                         "starts with '*' or '&'"),
    "tab-indentation": (f"nasops_user_passwords:\n\talice: {SECRET}\n", "2:1", "tab"),
    "control-character": (f"nasops_user_passwords:\n  alice: {SECRET}\x07\n", "2:", "control"),
    "flow-not-closed": (f"nasops_user_passwords: {{alice: {SECRET}\n", "", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_parse_error_names_the_place_and_the_kind_never_the_text(tmp_path: Path,
                                                                   case: str) -> None:
    content, where, words = MALFORMED[case]
    path = tmp_path / "secrets.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError) as caught:
        load_secrets_file(path)
    message = str(caught.value)
    assert SECRET not in message and SECRET[:6] not in message, message
    assert message.startswith(f"{path}:{where}"), message
    assert words in message, message
    assert "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_references_in_a_secrets_file_are_refused_without_walking_them(tmp_path: Path) -> None:
    """Nested references expand without end; nasops never writes one."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]"
              for level in range(1, 40)]
    path = tmp_path / "secrets.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="uses '\\*' references"):
        load_secrets_file(path)


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_secrets_file_must_be_a_regular_file(tmp_path: Path, special: str) -> None:
    os.mkfifo(tmp_path / "fifo")
    path = Path(special) if special.startswith("/") else tmp_path / special
    with pytest.raises(BadInputError, match="not a secrets file"):
        load_secrets_file(path)


def test_a_vault_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "vault.yml"
    path.write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n", encoding="utf-8")
    assert load_secrets_file(path) is None


@pytest.mark.parametrize("command", [["plan"], ["secrets", "init"]])
def test_plan_and_secrets_init_never_print_the_secrets_line(tmp_path: Path,
                                                            command: list[str]) -> None:
    (tmp_path / "secrets.yml").write_text(
        f'nasops_user_passwords:\n  alice: "{SECRET}\n  bob: {SECRET}-bob\n', encoding="utf-8")
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[nas]\n"
                         f"tiny-nas ansible_host=127.0.0.254 nasops_spec={SPECS / 'small.yml'} "
                         "nasops_secrets_file=secrets.yml\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "nasops", *command, "-i", str(inventory)],
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_BAD_INPUT, output
    assert "Traceback" not in output, output
    assert SECRET not in output, output
    assert f"{tmp_path / 'secrets.yml'}:2:10: secrets file: a quote is not closed" in output
