"""A real Dovecot IMAP server for tests: started in a temp dir on a free 127.0.0.1 port.

Dovecot comes from Debian (`dovecot-imapd`; .ci/run installs it). Mail is stored as Maildir
under the temp dir, owned by `nobody`, with one user from a passwd-file. Given a
certificate, it speaks TLS as a production server does: STARTTLS on the IMAP port and
implicit TLS on a second (IMAPS) port.
"""

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "support", "test-password"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_plugins =
}}
"""

# As on a production server: plain-text passwords only over TLS (but see `Dovecot.logins`).
TLS_SETTINGS = """
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
"""


@dataclass(frozen=True)
class Certificate:
    """A self-signed server certificate and its key, as a mail server's admin makes one."""

    cert: Path
    key: Path

    @property
    def pem(self) -> str:
        return self.cert.read_text()


def self_signed_certificate(directory: Path, *names: str) -> Certificate:
    """A certificate for `names` (IP addresses or host names; 127.0.0.1 when none)."""
    names = names or ("127.0.0.1",)
    alt_names = ",".join(
        ("IP:%s" if name.replace(".", "").isdigit() else "DNS:%s") % name for name in names
    )
    cert, key = directory / ("%s.crt" % names[0]), directory / ("%s.key" % names[0])
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=%s" % names[0],
            "-addext", "subjectAltName=%s" % alt_names, "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert=cert, key=key)


@dataclass
class Dovecot:
    root: Path
    port: int
    # Implicit TLS (IMAPS); 0 when the server has no certificate.
    imaps_port: int = 0
    certificate: Certificate | None = None

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        if self.certificate is not None:
            client.starttls(ssl.create_default_context(cafile=self.certificate.cert))
        client.login(USER, PASSWORD)
        return client

    def logins(self) -> list[str]:
        """Dovecot's log line for each sign-in; a sign-in over TLS ends with "TLS".

        Dovecot lets a client on its own address sign in without TLS (it counts as
        secure), so the log is where a test sees that a sign-in went over TLS.
        """
        lines = (self.root / "dovecot.log").read_text().splitlines()
        return [
            line.rsplit(", session=", 1)[0] for line in lines if "imap-login: Info: Login:" in line
        ]

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            client.create(folder)
            client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
        finally:
            client.logout()

    def folder(self, folder: str = "INBOX") -> list[tuple[str, bytes]]:
        """(flags, raw) of every message in a folder."""
        client = self.client()
        try:
            client.select(folder)
            _status, data = client.search(None, "ALL")
            found = []
            for number in data[0].split():
                _status, parts = client.fetch(number.decode(), "(FLAGS BODY.PEEK[])")
                head, raw = parts[0]  # type: ignore[index,misc]
                found.append((head.decode(), raw))
            return found
        finally:
            client.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int) -> None:
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)


@contextlib.contextmanager
def running_dovecot(certificate: Certificate | None = None) -> Iterator[Dovecot]:
    nobody = pwd.getpwnam("nobody")
    # Not pytest's tmp_path: its parents are private to root, and Dovecot's processes run
    # as other users.
    root = Path(tempfile.mkdtemp(prefix="sl-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True)
    for sub in ("mail", "home"):
        os.chown(root / sub, nobody.pw_uid, nobody.pw_gid)
    (root / "passwd").write_text("%s:{PLAIN}%s\n" % (USER, PASSWORD))
    port = _free_port()
    imaps_port = _free_port() if certificate is not None else 0
    tls = (
        TLS_SETTINGS.format(cert=certificate.cert, key=certificate.key)
        if certificate is not None
        else "ssl = no"
    )
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            imaps_port=imaps_port,
            ssl=tls,
            uid=nobody.pw_uid,
            gid=nobody.pw_gid,
        )
    )
    subprocess.run([DOVECOT, "-c", str(config)], check=True)
    try:
        for listening in (port, imaps_port) if imaps_port else (port,):
            _wait_for(listening)
        yield Dovecot(root=root, port=port, imaps_port=imaps_port, certificate=certificate)
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)
