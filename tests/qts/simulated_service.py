"""Simulated QTS (our reading): a loopback HTTPS service answering the subset of the QTS web
API nasops calls, reads and writes (issue 15, docs/qts.md).

It implements what nasops' reading of QTS says (design notes §1.2), not QTS: the answers'
shapes follow what others published from real QTS 5.1.9 units, written here in our own
words. A test that passes against it proves nasops' client logic (pinning, one login,
session handling, parsing, redaction, refusals), never that a real QNAP answers the same:
that is the recorded and live tiers' job.
"""

from __future__ import annotations

import base64
import datetime
import secrets
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SIMULATED_MODEL = "nasops-simulated"


@dataclass
class SimulatedNas:
    """What the simulated NAS holds and what it was asked."""

    password: str
    user: str = "admin"
    users: dict[str, tuple[int, bool]] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    shares: dict[str, bool] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    rights: dict[tuple[str, str], str] = field(default_factory=dict)
    """(login, share) -> the person's own entry: RO, RW or Deny."""
    group_rights: dict[tuple[str, str], str] = field(default_factory=dict)
    """(group, share) -> the group's entry: RO, RW or Deny."""
    advanced_folder_permissions: bool = False
    windows_acl: bool = False
    firmware: tuple[str, str, str] = ("5.1.9", "2954", "20241120")
    hostname: str = "wsm-nas"
    usage: dict[str, int] = field(default_factory=dict)
    """share -> bytes used (QTS's disk usage chart)."""
    volume: tuple[int, int] = (4_000_000_000_000, 3_000_000_000_000)
    """The data volume's size and free bytes."""
    health: str = "good"
    model: str = SIMULATED_MODEL
    # Misbehaviours a test may ask for: "doctype", "paged" (says more than it lists), "html",
    # "ignores-pages" (always the whole list), "no-count" (lists without their count),
    # "encoding" (an encoding Python lacks), "deep" (nested thousands of levels),
    # "opens-new-shares" (a new share gets everyone read/write whatever was asked),
    # "password-refused" (user_password_edit answers passwordCheck 1),
    # "closes-connections" (every answer says Connection: close, as HTTP/1.0 servers do).
    misbehave: str | None = None
    ignored_writes: set[str] = field(default_factory=set)
    """wiz_func values whose writes answer authPassed and change nothing (QTS does that)."""
    passwords: dict[str, str] = field(default_factory=dict)
    """login -> the password QTS was given (created here or changed)."""
    share_volumes: dict[str, str] = field(default_factory=dict)
    """share -> the volume number it was created on."""
    share_flags: dict[str, dict[str, bool]] = field(default_factory=dict)
    """share -> qsync, hide_unreadable, share_enumeration (all off when not listed)."""
    sessions: set[str] = field(default_factory=set)
    requests: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    """Each request: its CGI path and the names (never the values) of its form fields."""
    logins: int = 0
    connections: int = 0
    """TLS connections accepted (a client keeping one open makes one per run)."""
    on_logout: Callable[[SimulatedNas], None] | None = None
    """Called at each logout with the whole state: renders it into a lab host's accounts,
    folders and Samba (simulated_rendering.py), as QTS would have all along."""

    def header(self) -> str:
        version, number, build = self.firmware
        return ("<authPassed>1</authPassed><model><modelName>SIM</modelName>"
                f"<displayModelName>{escape(self.model)}</displayModelName><storage_v2>1"
                "</storage_v2><is_zfs>0</is_zfs></model><firmware><name>QTS</name>"
                f"<version>{version}</version><number>{number}</number><build>{build}"
                f"</build></firmware><hostname>{escape(self.hostname)}</hostname>")


def _document(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<QDocRoot version="1.0">{body}'
            "</QDocRoot>").encode()


def _page(items: list[str], form: dict[str, str], nas: SimulatedNas | None = None) -> str:
    """The rows between lower and upper, as the web UI pages a list."""
    if nas is not None and nas.misbehave == "ignores-pages":
        return "".join(items)
    lower, upper = int(form.get("lower", "0")), int(form.get("upper", str(len(items))))
    return "".join(items[lower:upper])


def _user_list(nas: SimulatedNas, form: dict[str, str]) -> str:
    rows = _page([f"<user><username>{escape(name)}</username><userid>{uid}</userid>"
                   f"<fullname>{escape(name.title())}</fullname>"
                  f"<user_enable>{int(enabled)}</user_enable></user>"
                  for name, (uid, enabled) in nas.users.items()], form, nas)
    count = len(nas.users) + (5 if nas.misbehave in ("paged", "ignores-pages") else 0)
    counted = "" if nas.misbehave == "no-count" else f"<count>{count}</count>"
    return f"<userroot>{counted}<data>{rows}</data><ret>0</ret></userroot>"


def _group_list(nas: SimulatedNas, form: dict[str, str]) -> str:
    rows = _page([f"<group><groupname>{escape(name)}</groupname><groupid>{gid}</groupid>"
                  "</group>" for name, gid in nas.groups.items()], form)
    return f"<grouproot><count>{len(nas.groups)}</count><data>{rows}</data><ret>0</ret></grouproot>"


def _share_list(nas: SimulatedNas, form: dict[str, str]) -> str:
    rows = _page([f"<share><shareName>{escape(name)}</shareName><hidden>{int(hidden)}</hidden>"
                  "</share>" for name, hidden in nas.shares.items()], form)
    return ("<func><ownContent><shareInfo>"
            f"<ACLEnabled>{int(nas.advanced_folder_permissions)}</ACLEnabled>"
            f"<WinACLEnabled>{int(nas.windows_acl)}</WinACLEnabled><ABEEnabled>0</ABEEnabled>"
            f"<shareCount>{len(nas.shares)}</shareCount><data>{rows}</data><ret>0</ret>"
            "</shareInfo></ownContent></func>")


CODES = {"RO": "R", "RW": "W", "Deny": "I", None: ""}


def effective(nas: SimulatedNas, login: str, share: str) -> str | None:
    """QTS's merge as its guide states it: No access > Read/Write > Read only, the person's
    own entry and their groups' alike (everyone holds every local user)."""
    groups = {group for group, members in nas.members.items() if login in members}
    found = {nas.rights.get((login, share))} | {
        right for (group, shared), right in nas.group_rights.items()
        if shared == share and (group in groups or group == "everyone")}
    return next((right for right in ("Deny", "RW", "RO") if right in found), None)


def _user_rights(nas: SimulatedNas, form: dict[str, str]) -> str:
    if "groupName" in form:  # type=2: a group's entries (its preview is its own here)
        group = form["groupName"]
        rights = {share: nas.group_rights.get((group, share)) for share in nas.shares}
        previews = rights
    else:
        login = form.get("userName", "")
        rights = {share: nas.rights.get((login, share)) for share in nas.shares}
        previews = {share: effective(nas, login, share) for share in nas.shares}
    rows = _page([f"<share><sharename>{escape(share)}</sharename>"
                  f"<type>{CODES[rights[share]]}</type>"
                  f"<preview>{CODES[previews[share]] or 'N'}</preview></share>"
                  for share in nas.shares], form)
    return (f"<func><ownContent><shareroot><data><count>{len(nas.shares)}</count>{rows}"
            "</data></shareroot></ownContent></func>")


def _in_session(nas: SimulatedNas, path: str, form: dict[str, str]) -> str:
    if path == "/cgi-bin/authLogout.cgi":
        nas.sessions.discard(form["sid"])
        if nas.on_logout is not None:
            nas.on_logout(nas)
        return "<authPassed>1</authPassed>"
    lists = {"user": _user_list, "group": _group_list, "share": _share_list}
    if path == "/cgi-bin/priv/privRequest.cgi" and form.get("subfunc") in lists:
        # apply=1: a delete (only the live check's clean-up sends one), answered bare.
        return (_delete(nas, form) if form.get("apply") == "1"
                else nas.header() + lists[form["subfunc"]](nas, form))
    if path in ("/cgi-bin/priv/privWizard.cgi", "/cgi-bin/wizReq.cgi"):
        answer = _wizard if path.endswith("privWizard.cgi") else _create
        return nas.header() + answer(nas, form)
    if path == "/cgi-bin/management/chartReq.cgi" and form.get("chart_func") == "disk_usage":
        return nas.header() + _disk_usage(nas)
    if path == "/cgi-bin/management/manaRequest.cgi" and form.get("subfunc") == "sysinfo":
        return (f"{nas.header()}<func><ownContent><sysHealth><status>{escape(nas.health)}"
                "</status></sysHealth></ownContent></func>")
    return "<authPassed>1</authPassed>"  # what QTS says to much it ignores


def _disk_usage(nas: SimulatedNas) -> str:
    size, free = nas.volume
    folders = "".join(f"<folder_element><sharename>{escape(share)}</sharename>"
                      f"<used_size>{used}</used_size></folder_element>"
                      for share, used in nas.usage.items())
    # Volume 2 is QTS's own (not in volumeList): left out by nasops.
    return ("<volumeList><volume><volumeValue>1</volumeValue><volumeLabel>DataVol1"
            "</volumeLabel></volume></volumeList><volumeUseList><volumeUse><volumeValue>1"
            f"</volumeValue><total_size>{size}</total_size><free_size>{free}</free_size>"
            f"{folders}</volumeUse><volumeUse><volumeValue>2</volumeValue><total_size>1"
            "</total_size><free_size>1</free_size></volumeUse></volumeUseList>")


def _listed(form: dict[str, str], name: str) -> list[str]:
    """QTS's list fields name0 … name{len-1}."""
    return [form[f"{name}{index}"] for index in range(int(form.get(f"{name}_len", "0")))]


def _create(nas: SimulatedNas, form: dict[str, str]) -> str:
    kind = form.get("wiz_func", "")
    if kind in nas.ignored_writes:
        return "<authPassed>1</authPassed>"
    if kind == "user_create" and form.get("action") == "add_user":
        login = form["a_username"]
        # From 1000, as QTS numbers people (guest's 65534 aside).
        nas.users[login] = (max([999, *(uid for uid, _ in nas.users.values() if uid < 65534)])
                            + 1, True)
        nas.passwords[login] = base64.b64decode(form["a_passwd"]).decode()
    elif kind == "user_group_create" and form.get("action") == "add_group":
        nas.groups[form["new_groupname"]] = max([999, *nas.groups.values()]) + 1
    elif kind == "share_create" and form.get("action") == "add_share":
        nas.shares[form["share_name"]] = False
        nas.share_volumes[form["share_name"]] = form["vol_no"]
        if form.get("access_r") != "admin_only" or nas.misbehave == "opens-new-shares":
            nas.group_rights[("everyone", form["share_name"])] = "RW"  # QTS's default
    return "<authPassed>1</authPassed>"  # QTS's answer to a create: nothing more


def _edit(nas: SimulatedNas, form: dict[str, str]) -> str:
    """The privWizard.cgi writes (a form with an action)."""
    kind = form.get("wiz_func", "")
    if kind in nas.ignored_writes:
        return "<authPassed>1</authPassed>"
    if kind == "user_edit":
        login = form["username"]
        uid, _ = nas.users[login]
        if form.get("a_uid") == str(uid) and form.get("a_expire") == "0":
            nas.users[login] = (uid, form["a_enable"] == "1")
    elif kind == "user_password_edit":
        return _password(nas, form)
    elif kind == "group_user_edit":
        members = nas.members.setdefault(form["groupname"], [])
        members += [user for user in _listed(form, "select_user") if user not in members]
        for user in _listed(form, "unselect_user"):
            members.remove(user)
    elif kind == "share_property":
        old, new = form["old_sname"], form["new_sname"]
        nas.shares = {(new if name == old else name): hidden
                      for name, hidden in nas.shares.items()}
        nas.rights = {(login, new if share == old else share): right
                      for (login, share), right in nas.rights.items()}
        nas.share_flags.pop(old, None)
        nas.share_flags[new] = {name: form[name] == "1" for name in
                                ("qsync", "hide_unreadable", "share_enumeration")}
    elif kind == "user_share_edit":
        _set_rights(nas, form)
    return "<authPassed>1</authPassed>"


def _delete(nas: SimulatedNas, form: dict[str, str]) -> str:
    """privRequest.cgi's deletes: a user (home kept), a group, a share (its data kept)."""
    kind = form.get("subfunc")
    if kind == "user" and form.get("delete_userhome") == "0":
        nas.users.pop(form["user_list"], None)
        for members in nas.members.values():
            if form["user_list"] in members:
                members.remove(form["user_list"])
        nas.rights = {key: right for key, right in nas.rights.items()
                      if key[0] != form["user_list"]}
    elif kind == "group":
        nas.groups.pop(form["group_list"], None)
        nas.members.pop(form["group_list"], None)
    elif kind == "share" and form.get("delsymboliconly") == "1":
        nas.shares.pop(form["share_list"], None)
    return "<authPassed>1</authPassed>"


def _password(nas: SimulatedNas, form: dict[str, str]) -> str:
    if nas.misbehave == "password-refused":  # e.g. QTS's password policy
        return ("<func><userPasswordEdit><passwordCheck>1</passwordCheck><passwordChange>"
                "0</passwordChange></userPasswordEdit></func>")
    nas.passwords[form["username"]] = base64.b64decode(form["password"]).decode()
    return ("<func><userPasswordEdit><passwordCheck>0</passwordCheck><passwordChange>0"
            "</passwordChange></userPasswordEdit></func>")


def _set_rights(nas: SimulatedNas, form: dict[str, str]) -> None:
    login = form["userName"]
    for name, right in (("rd_share", "RO"), ("rw_share", "RW"), ("no_share", "Deny"),
                        ("empty_share", None)):
        for share in _listed(form, name):
            if right is None:
                nas.rights.pop((login, share), None)
            else:
                nas.rights[(login, share)] = right


def _wizard(nas: SimulatedNas, form: dict[str, str]) -> str:
    if "action" in form:
        return _edit(nas, form)
    if form.get("wiz_func") == "user_edit":
        login = form.get("username", "")
        uid, enabled = nas.users[login]
        return (f"<userInfo><username>{escape(login)}</username><uid>{uid}</uid>"
                "<description></description><email></email><tel></tel><tel_country_code>"
                "</tel_country_code><year>2026</year><month>1</month><day>1</day>"
                f"<chk_disable>{int(not enabled)}</chk_disable></userInfo>")
    if form.get("wiz_func") == "share_property":
        flags = nas.share_flags.get(form["sharename"], {})
        yes = {True: "yes", False: "no"}
        return (f"<shareProperty><comment></comment><path>/{escape(form['sharename'])}</path>"
                "<selectedVol>1</selectedVol><hidden>0</hidden><oplocks>1</oplocks>"
                f"<recyclePerShare>1</recyclePerShare><qsync>{int(flags.get('qsync', False))}"
                f"</qsync><hide_unreadable>{yes[flags.get('hide_unreadable', False)]}"
                "</hide_unreadable><share_enumeration>"
                f"{yes[flags.get('share_enumeration', False)]}</share_enumeration>"
                "</shareProperty>")
    if form.get("wiz_func") == "group_user_edit":
        members = ", ".join(nas.members.get(form.get("groupname", ""), []))
        return f"<func><ownContent><ownUser>{escape(members)}</ownUser></ownContent></func>"
    if form.get("wiz_func") == "user_share_edit":
        return _user_rights(nas, form)
    return "<authPassed>1</authPassed>"  # what QTS says to much it ignores


def _login(nas: SimulatedNas, form: dict[str, str]) -> bytes:
    nas.logins += 1
    password = base64.b64decode(form.get("pwd", "")).decode(errors="replace")
    if form.get("user") != nas.user or password != nas.password:
        return _document("<authPassed>0</authPassed><errorValue>-1</errorValue>")
    sid = secrets.token_hex(8)
    nas.sessions.add(sid)
    return _document(f"{nas.header()}<authSid>{sid}</authSid>")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Connections stay open between requests, as QTS's web server keeps them.
    protocol_version = "HTTP/1.1"
    # An answer's headers and body leave in two writes: without this, on a kept connection
    # the body waits for the client's delayed acknowledgement (40 ms per answer).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.nas.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test asserts on SimulatedNas.requests instead."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        nas = self.server.nas
        path = urllib.parse.urlparse(self.path).path
        nas.requests.append((path, tuple(sorted(form))))
        self._answer(self._body(nas, path, form))

    def _body(self, nas: SimulatedNas, path: str, form: dict[str, str]) -> bytes:
        misbehaving = {"html": b"<html><body>Login</body></html>",
                       "doctype": b'<!DOCTYPE x [<!ENTITY a "aaaa">]><QDocRoot>&a;</QDocRoot>',
                       "encoding": b'<?xml version="1.0" encoding="bogus"?><QDocRoot/>',
                       "deep": b"<QDocRoot>" + b"<a>" * 5000 + b"</a>" * 5000
                               + b"</QDocRoot>"}
        if nas.misbehave in misbehaving:
            return misbehaving[nas.misbehave]
        if path == "/cgi-bin/authLogin.cgi":
            return _login(nas, form)
        if form.get("sid") not in nas.sessions:
            return _document("<authPassed>0</authPassed>")
        return _document(_in_session(nas, path, form))

    def _answer(self, content: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(content)))
        if self.server.nas.misbehave == "closes-connections":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(content)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, nas: SimulatedNas, address: str) -> None:
        super().__init__((address, 0), _Handler)
        self.nas = nas


def self_signed(directory: Path) -> tuple[Path, Path, bytes]:
    """Given a directory, write a self-signed certificate and key for 127.0.0.1 as QTS has
    one; return their paths and the certificate's DER bytes."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "QNAP NAS")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .sign(key, hashes.SHA256()))
    certificate_path, key_path = directory / "qts.crt", directory / "qts.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_path, key_path, certificate.public_bytes(serialization.Encoding.DER)


@contextmanager
def serving(nas: SimulatedNas, directory: Path, address: str = "127.0.0.1",
            ) -> Iterator[tuple[int, bytes]]:
    """Serve the simulated NAS over TLS on a loopback address; yield its port and certificate
    (DER). The server thread is stopped and its socket closed on exit, even on failure."""
    certificate_path, key_path, der = self_signed(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate_path, key_path)
    server = _Server(nas, address)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], der
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
