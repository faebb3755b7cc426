"""A real Dovecot IMAP server for tests: started in a temp dir on a free 127.0.0.1 port.

Dovecot comes from Debian (`dovecot-imapd`; .ci/run installs it). Mail is stored as Maildir
under the temp dir, owned by `nobody`, with one user from a passwd-file.
"""

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
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
ssl = no
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
    port = 0
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


@dataclass
class Dovecot:
    root: Path
    port: int

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

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


@contextlib.contextmanager
def running_dovecot() -> Iterator[Dovecot]:
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
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, uid=nobody.pw_uid, gid=nobody.pw_gid))
    subprocess.run([DOVECOT, "-c", str(config)], check=True)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield Dovecot(root=root, port=port)
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)
