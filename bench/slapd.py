"""A throwaway OpenLDAP directory for the tests and the bench: Debian's ``slapd`` on a free port,
its configuration and database in a temporary folder, and a small hospital in it (an ED nurse,
an IT technician, an IT manager, a nurse whose account is disabled, and their groups).

Accounts carry Active Directory's ``userAccountControl`` (a small schema of our own adds it), so
a disabled account looks as it does in AD.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap
import ldap.modlist

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMAS = Path("/etc/ldap/schema")

BASE = "dc=lakeside,dc=example"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "directory-admin"
SERVICE_DN = f"cn=helpdesk,ou=services,{BASE}"
SERVICE_PASSWORD = "service-account-secret"

# ACCOUNTDISABLE (2) + NORMAL_ACCOUNT (512), as AD writes a disabled account.
DISABLED = 514
ENABLED = 512

AD_SCHEMA = """
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.1 NAME 'helpdeskTestAccount' AUXILIARY
  MAY userAccountControl )
"""


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    first_name: str
    last_name: str
    phone: str
    groups: tuple[str, ...]
    account_control: int = ENABLED

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"

    @property
    def email(self) -> str:
        return f"{self.uid}@lakeside.example"


CAST = (
    Person("erin.nurse", "badge-2041", "Erin", "Nurse", "x5512", ("GRP-ED-NURSING",)),
    Person("terry.tech", "tech-pass-77", "Terry", "Tech", "x4357", ("GRP-IT-SERVICEDESK",)),
    Person("morgan.mgr", "manager-pass-9", "Morgan", "Lead", "x4300", ("GRP-IT-MANAGERS",)),
    Person("dana.gone", "gone-pass-1", "Dana", "Gone", "x5599", ("GRP-ED-NURSING",), DISABLED),
)
GROUP_NAMES = ("GRP-ED-NURSING", "GRP-IT-SERVICEDESK", "GRP-IT-MANAGERS", "GRP-OR-NURSING")


def slapd_available() -> bool:
    return os.access(SLAPD, os.X_OK) and os.access(SLAPADD, os.X_OK)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_certificates(folder: Path) -> Path:
    """A CA, and a server certificate for 127.0.0.1 signed by it. Returns the CA's file."""

    def openssl(command: str, *args: str) -> None:
        run = ["openssl", *command.split(), *args]
        subprocess.run(run, check=True, capture_output=True, cwd=folder)

    new_key = "-newkey rsa:2048 -nodes -days 2"
    openssl(f"req -x509 {new_key} -keyout ca.key -out ca.pem", "-subj", "/CN=Test directory CA")
    openssl(f"req {new_key} -keyout server.key -out server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
        "-days 2 -extfile san.ext"
    )
    return folder / "ca.pem"


def _ldif(entries: list[tuple[str, dict[str, list[str]]]]) -> str:
    blocks = []
    for dn, attrs in entries:
        lines = [f"dn: {dn}"]
        lines += [f"{name}: {value}" for name, values in attrs.items() for value in values]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _person_entry(person: Person) -> dict[str, list[str]]:
    return {
        "objectClass": ["inetOrgPerson", "helpdeskTestAccount"],
        "uid": [person.uid],
        "cn": [f"{person.first_name} {person.last_name}"],
        "givenName": [person.first_name],
        "sn": [person.last_name],
        "mail": [person.email],
        "telephoneNumber": [person.phone],
        "userPassword": [person.password],
        "userAccountControl": [str(person.account_control)],
    }


def _tree(cast: tuple[Person, ...]) -> list[tuple[str, dict[str, list[str]]]]:
    entries: list[tuple[str, dict[str, list[str]]]] = [
        (BASE, {"objectClass": ["dcObject", "organization"], "dc": ["lakeside"], "o": ["LRMC"]}),
        (PEOPLE, {"objectClass": ["organizationalUnit"], "ou": ["people"]}),
        (GROUPS, {"objectClass": ["organizationalUnit"], "ou": ["groups"]}),
        (f"ou=services,{BASE}", {"objectClass": ["organizationalUnit"], "ou": ["services"]}),
        (
            SERVICE_DN,
            {
                "objectClass": ["organizationalRole", "simpleSecurityObject"],
                "cn": ["helpdesk"],
                "userPassword": [SERVICE_PASSWORD],
            },
        ),
    ]
    entries += [(person.dn, _person_entry(person)) for person in cast]
    for group in GROUP_NAMES:
        # groupOfNames needs a member: the service account stands in for an empty group.
        members = [person.dn for person in cast if group in person.groups] or [SERVICE_DN]
        entries.append(
            (
                f"cn={group},{GROUPS}",
                {"objectClass": ["groupOfNames"], "cn": [group], "member": members},
            )
        )
    return entries


class Directory:
    """A running slapd. ``env()`` gives the HELPDESK_LDAP_* variables that point at it."""

    def __init__(self, folder: Path, cast: tuple[Person, ...] = CAST, *, tls: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        # With TLS: StartTLS on ``uri``, LDAPS on ``ldaps_uri``, a certificate for 127.0.0.1
        # signed by a CA of its own (``ca_file``).
        self.ldaps_uri = f"ldaps://127.0.0.1:{free_port()}" if tls else ""
        self.ca_file = make_certificates(folder) if tls else None
        self.process: subprocess.Popen[bytes] | None = None
        (folder / "data").mkdir(parents=True)
        (folder / "ad.schema").write_text(AD_SCHEMA)
        self.config = folder / "slapd.conf"
        self.config.write_text(
            "\n".join(
                [
                    *(
                        f"include {SCHEMAS / name}.schema"
                        for name in ("core", "cosine", "inetorgperson")
                    ),
                    f"include {folder / 'ad.schema'}",
                    f"pidfile {folder / 'slapd.pid'}",
                    f"argsfile {folder / 'slapd.args'}",
                    "modulepath /usr/lib/ldap",
                    "moduleload back_mdb",
                    "database mdb",
                    "maxsize 10485760",
                    f'suffix "{BASE}"',
                    f'rootdn "{ADMIN_DN}"',
                    f"rootpw {ADMIN_PASSWORD}",
                    f"directory {folder / 'data'}",
                    *(
                        [
                            f"TLSCACertificateFile {self.ca_file}",
                            f"TLSCertificateFile {folder / 'server.pem'}",
                            f"TLSCertificateKeyFile {folder / 'server.key'}",
                        ]
                        if tls
                        else []
                    ),
                    "access to attrs=userPassword by anonymous auth by * none",
                    "access to * by users read by * none",
                    "",
                ]
            )
        )
        ldif = folder / "tree.ldif"
        ldif.write_text(_ldif(_tree(cast)))
        subprocess.run(
            [SLAPADD, "-q", "-f", str(self.config), "-l", str(ldif)],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(self.config), "-h", self.listeners],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.admin().unbind_s()
                return
            except ldap.SERVER_DOWN:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"slapd did not start on {self.uri}") from None
                time.sleep(0.05)

    @property
    def listeners(self) -> str:
        return " ".join(f"{uri}/" for uri in (self.uri, self.ldaps_uri) if uri)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def env(self) -> dict[str, str]:
        return {
            "HELPDESK_LDAP_SERVER_URI": self.uri,
            "HELPDESK_LDAP_BIND_DN": SERVICE_DN,
            "HELPDESK_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "HELPDESK_LDAP_USER_SEARCH_BASE": PEOPLE,
            "HELPDESK_LDAP_USER_FILTER": "(uid=%(user)s)",
            "HELPDESK_LDAP_GROUP_SEARCH_BASE": GROUPS,
            "HELPDESK_LDAP_GROUP_FILTER": "(objectClass=groupOfNames)",
            "HELPDESK_LDAP_GROUP_TYPE": "groupOfNames",
        }

    def admin(self) -> ldap.ldapobject.LDAPObject:
        connection = ldap.initialize(self.uri)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return connection

    def add(self, person: Person) -> None:
        connection = self.admin()
        try:
            entry = {
                name: [v.encode() for v in values] for name, values in _person_entry(person).items()
            }
            connection.add_s(person.dn, ldap.modlist.addModlist(entry))
            for group in person.groups:
                self.add_to_group(person.uid, group)
        finally:
            connection.unbind_s()

    def remove(self, uid: str) -> None:
        """The person leaves: her entry goes (AD deletes or moves it out of the search base)."""
        connection = self.admin()
        try:
            connection.delete_s(f"uid={uid},{PEOPLE}")
        finally:
            connection.unbind_s()

    def set_account_control(self, uid: str, value: int) -> None:
        self._modify(f"uid={uid},{PEOPLE}", ldap.MOD_REPLACE, "userAccountControl", str(value))

    def add_to_group(self, uid: str, group: str) -> None:
        self._modify(f"cn={group},{GROUPS}", ldap.MOD_ADD, "member", f"uid={uid},{PEOPLE}")

    def remove_from_group(self, uid: str, group: str) -> None:
        self._modify(f"cn={group},{GROUPS}", ldap.MOD_DELETE, "member", f"uid={uid},{PEOPLE}")

    def _modify(self, dn: str, operation: int, attribute: str, value: str) -> None:
        connection = self.admin()
        try:
            connection.modify_s(dn, [(operation, attribute, [value.encode()])])
        finally:
            connection.unbind_s()


@contextmanager
def running_directory(cast: tuple[Person, ...] = CAST, *, tls: bool = False) -> Iterator[Directory]:
    """A started directory, stopped and wiped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-slapd-"))
    directory = Directory(folder, cast, tls=tls)
    try:
        directory.start()
        yield directory
    finally:
        directory.stop()
        shutil.rmtree(folder, ignore_errors=True)
