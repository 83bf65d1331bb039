"""Simulated QTS (our reading), rendered into a real lab host: what the simulated web API
holds becomes that host's accounts, share folders and Samba, as QTS keeps its own.

Our reading of QTS (design notes §2.3–2.5), not QTS: accounts in the system's database with
Samba passwords, primary group `everyone` (Debian's `users`, gid 100, stands in for it), a
new share's folder open (0777) until folder rights close it, and Samba's share lists from
each person's effective right (QTS's merge: No access > Read/Write > Read only), new files
keeping group write (MASKS). QTS's own
accounts and groups (admin, guest, administrators, everyone) are not rendered.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable

from simulated_service import SimulatedNas, effective

QTS_OWN_USERS = frozenset({"admin", "guest"})
QTS_OWN_GROUPS = frozenset({"administrators", "everyone"})

GLOBAL = """[global]
   server role = standalone server
   security = user
   passdb backend = tdbsam
   interfaces = {address}
   bind interfaces only = yes
   disable netbios = yes
   smb ports = 445
   server min protocol = SMB2_10
   map to guest = never
   restrict anonymous = 2
   inherit acls = yes
   map acl inherit = yes
   nt acl support = yes
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   log level = 1
"""

# Our reading, not verified on a QNAP: QTS's Samba keeps group write on what people save
# (as nasops' own Samba does on Debian); with 0744, Samba's default, every file saved would
# grant its folder's writers read only, and nasops would report each one as drift.
MASKS = ("   create mask = 0660", "   force create mode = 0660", "   directory mask = 0770",
         "   force directory mode = 0770")


def smb_conf(nas: SimulatedNas, volume: str, address: str) -> str:
    """Given the simulated NAS, return its smb.conf: one section per share, its lists from
    each person's effective right, its two flags from the share's properties."""
    sections = [GLOBAL.format(address=address)]
    people = [login for login in nas.users if login not in QTS_OWN_USERS]
    for share in nas.shares:
        rights = {login: effective(nas, login, share) for login in people}
        readers = sorted(login for login, right in rights.items() if right == "RO")
        writers = sorted(login for login, right in rights.items() if right == "RW")
        denied = sorted(login for login, right in rights.items() if right == "Deny")
        flags = nas.share_flags.get(share, {})
        lines = [f"[{share}]", f"   path = {posixpath.join(volume, share)}",
                 "   read only = no", *MASKS,
                 f"   hide unreadable = {'yes' if flags.get('hide_unreadable') else 'no'}",
                 "   access based share enum = "
                 f"{'yes' if flags.get('share_enumeration') else 'no'}"]
        if readers or writers:
            lines += [f"   valid users = {' '.join(readers + writers)}",
                      f"   read list = {' '.join(readers)}",
                      f"   write list = {' '.join(writers)}"]
        else:  # an empty "valid users" lets everyone in: a share nobody has is closed
            lines.append("   available = no")
        if denied:
            lines.append(f"   invalid users = {' '.join(denied)}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def rendering_script(nas: SimulatedNas, volume: str, address: str) -> str:
    """Given the simulated NAS, return the root shell script making the host match it
    (idempotent: run at every logout)."""
    lines = ["set -e"]
    for group, gid in nas.groups.items():
        if group not in QTS_OWN_GROUPS:
            lines.append(f"getent group {shlex.quote(group)} >/dev/null || "
                         f"groupadd -g {int(gid)} {shlex.quote(group)}")
    for login, (uid, enabled) in nas.users.items():
        if login in QTS_OWN_USERS:
            continue
        quoted = shlex.quote(login)
        lines.append(f"id -u {quoted} >/dev/null 2>&1 || useradd -M -N -u {int(uid)} "
                     f"-s /usr/sbin/nologin {quoted}")
        password = nas.passwords.get(login)
        if password is not None:  # printf is the shell's own: the password is in no argv
            secret = shlex.quote(password)
            lines.append(f"printf '%s\\n%s\\n' {secret} {secret} | smbpasswd -a -s {quoted} "
                         ">/dev/null")
            lines.append(f"smbpasswd {'-e' if enabled else '-d'} {quoted} >/dev/null")
    for group, members in nas.members.items():
        if group not in QTS_OWN_GROUPS:
            known = [login for login in members if login in nas.users]
            lines.append(f"gpasswd -M {shlex.quote(','.join(known))} {shlex.quote(group)} "
                         ">/dev/null")
    for share in nas.shares:
        folder = shlex.quote(posixpath.join(volume, share))
        lines.append(f"[ -d {folder} ] || {{ mkdir -p {folder}; chmod 0777 {folder}; }}")
    lines.append("cat > /etc/samba/smb.conf <<'NASOPS_SMB_CONF'\n"
                 + smb_conf(nas, volume, address) + "NASOPS_SMB_CONF")
    lines.append("systemctl restart smbd")
    return "\n".join(lines) + "\n"


def renderer(run_script: Callable[[str], None], volume: str, address: str,
             ) -> Callable[[SimulatedNas], None]:
    """Given how to run a root script on the lab host, return the simulated NAS's logout
    hook rendering it there."""
    def render(nas: SimulatedNas) -> None:
        run_script(rendering_script(nas, volume, address))
    return render
