"""A real IMAP server for the tests: Debian's Dovecot, with its own configuration in a temporary
directory, on a free port of 127.0.0.1, one passwd-file user and a maildir in that directory.

Dovecot refuses to run its login process as root; under root (a CI container) the login and
internal processes run as the package's ``dovenull`` and ``dovecot`` users and the mail as
``dovecot``; otherwise all of it runs as the user running the tests.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER = "notices"
PASSWORD = "reply-box-pass-4471"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DovecotServer:
    def __init__(self) -> None:
        if not Path(DOVECOT).exists():
            raise RuntimeError("Dovecot is not installed: apt-get install dovecot-imapd (Makefile)")
        self.root = Path(tempfile.mkdtemp(prefix="tipline-imap-"))
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def _users(self) -> tuple[str, str, pwd.struct_passwd]:
        if os.geteuid() == 0:
            return "dovenull", "dovecot", pwd.getpwnam("dovecot")
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me

    def start(self) -> DovecotServer:
        login, internal, mail = self._users()
        self.root.chmod(0o755)
        home = self.root / "home"
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        os.chown(home, mail.pw_uid, mail.pw_gid)
        passwd = self.root / "passwd"
        passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        passwd.chmod(0o600)
        internal_user = pwd.getpwnam(internal)
        os.chown(passwd, internal_user.pw_uid, internal_user.pw_gid)  # read by the auth process
        (self.root / "dovecot.conf").write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""
        )
        # In the foreground (-F): this process is the master, so stopping it stops them all.
        with (self.root / "stderr.log").open("wb") as errors:
            self._process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=errors,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                client = self.client()
                client.logout()
                return self
            except (OSError, imaplib.IMAP4.error):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    log = self.log()
                    self.stop()
                    raise RuntimeError(log) from None
                time.sleep(0.2)

    def log(self) -> str:
        return "".join(
            path.read_text(errors="replace")
            for path in (self.root / "stderr.log", self.root / "dovecot.log")
            if path.exists()
        )

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, message: bytes) -> None:
        """Put one message in the INBOX (IMAP APPEND), unseen."""
        client = self.client()
        try:
            status, data = client.append("INBOX", None, None, message)
            assert status == "OK", data
        finally:
            client.logout()

    def unseen(self) -> int:
        client = self.client()
        try:
            client.select("INBOX")
            _status, data = client.uid("SEARCH", None, "UNSEEN")
            return len((data[0] or b"").split())
        finally:
            client.logout()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)
