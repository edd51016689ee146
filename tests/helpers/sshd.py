#!/usr/bin/env python3
"""Run a real OpenSSH server (/usr/sbin/sshd) on 127.0.0.1 for tests.

    priv, pub = make_keypair(tmpdir)                 # ssh-keygen, no passphrase
    with Sshd(authorized_keys=[pub]) as sshd:
        sshd.port               -> free port on 127.0.0.1
        sshd.user               -> the account to log in as (default: ours)
        sshd.url(path)          -> "ssh://USER@127.0.0.1:PORT/path"
        sshd.host_key_line()    -> "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
        sshd.known_hosts_file   -> a known_hosts file holding that line
        sshd.log()              -> what sshd wrote (it runs with -D -e)
        sshd.ssh_command(priv)  -> argv for `ssh` with this server's options

`authorized_keys` takes public key files or public key lines. Only public
key authentication is enabled (no passwords, no PAM, no keyboard-interactive),
so a wrong key is refused. Each instance has its own temporary directory
(host key, sshd_config, authorized_keys, pid file, log) and its own port;
everything is stopped and removed by `stop()`, by leaving the `with` block or
at interpreter exit.

Works as root (PermitRootLogin prohibit-password: keys only). sshd refuses to
start as root without its privilege separation directory (/run/sshd), which
exists only once the system service ran; it is created if missing.

Standard library only; needs /usr/sbin/sshd and ssh-keygen (Debian
openssh-server, openssh-client).
"""

import getpass
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from lifecycle import Stoppable, end_process, read_log, remove_dir, spawn_on_free_port

SSHD_BIN = os.environ.get("REWIND_SSHD_BIN", "/usr/sbin/sshd")
START_TIMEOUT = 10.0   # seconds to wait for the port to accept and greet
STOP_TIMEOUT = 5.0     # seconds to wait after SIGTERM before SIGKILL
PORT_ATTEMPTS = 3      # another process may grab our free port between probe and bind
PRIVSEP_DIR = "/run/sshd"

def free_port():
    """A port on 127.0.0.1 that was free a moment ago (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd, timeout=30):
    res = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            " ".join(cmd), res.returncode, res.stderr.decode(errors="replace")))
    return res.stdout


def _die_with_parent():
    """Command prefix so sshd gets SIGTERM if this Python process is killed
    (atexit does not run on SIGKILL). Linux sends the parent-death signal when
    the forking *thread* exits, so only use it from the main thread."""
    if threading.current_thread() is threading.main_thread() and shutil.which("setpriv"):
        return ["setpriv", "--pdeathsig", "TERM", "--"]
    return []


def make_keypair(directory, kind="ed25519", name=None, comment="rewind-test"):
    """Create a key pair without passphrase in directory with ssh-keygen.

    kind: "ed25519", "rsa", "ecdsa". Returns (private_path, public_path).
    The private key file is mode 0600 (ssh and libssh2 insist).
    """
    os.makedirs(directory, exist_ok=True)
    private = os.path.join(directory, name or ("id_" + kind))
    for p in (private, private + ".pub"):
        if os.path.exists(p):
            os.unlink(p)
    cmd = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", private]
    if kind == "rsa":
        cmd[3:3] = ["-b", "3072"]
    _run(cmd)
    os.chmod(private, 0o600)
    return private, private + ".pub"


def _key_text(key):
    """A public key line from a file path or the line itself."""
    if "\n" not in key.strip() and os.path.isfile(key):
        with open(key) as f:
            key = f.read()
    key = key.strip()
    if not key or "\n" in key:
        raise ValueError("expected one public key line, got %r" % key[:60])
    return key


class Sshd(Stoppable):
    """A running sshd on 127.0.0.1:<free port>. See module docstring."""

    def __init__(self, authorized_keys=(), user=None, host_key_kind="ed25519",
                 extra_config=None, start=True):
        self.user = user or getpass.getuser()
        self.host_key_kind = host_key_kind
        self.extra_config = dict(extra_config or {})
        self.dir = tempfile.mkdtemp(prefix="rewind-sshd-")
        self.config_file = os.path.join(self.dir, "sshd_config")
        self.authorized_keys_file = os.path.join(self.dir, "authorized_keys")
        self.known_hosts_file = os.path.join(self.dir, "known_hosts")
        self.pid_file = os.path.join(self.dir, "sshd.pid")
        self.log_file = os.path.join(self.dir, "sshd.log")
        self.host_key_file = None
        self.port = None
        self.proc = None
        self._log_fh = None
        with self._starting():
            self.host_key_file, _ = make_keypair(self.dir, host_key_kind, name="host_key",
                                                 comment="")
            self.set_authorized_keys(authorized_keys)
            if start:
                self.start()

    # --- public --------------------------------------------------------------

    def set_authorized_keys(self, keys):
        """Replace the authorized keys (sshd rereads the file on each login)."""
        with open(self.authorized_keys_file, "w") as f:
            for k in keys:
                f.write(_key_text(k) + "\n")
        os.chmod(self.authorized_keys_file, 0o600)

    def host_key_line(self):
        """The known_hosts line for this server: "[127.0.0.1]:PORT <type> <base64>"."""
        with open(self.host_key_file + ".pub") as f:
            kind, blob = f.read().split()[:2]
        return "[127.0.0.1]:%d %s %s" % (self.port, kind, blob)

    def url(self, path):
        """An ssh:// URL for an absolute path on this server."""
        return "ssh://%s@127.0.0.1:%d/%s" % (self.user, self.port, path.lstrip("/"))

    def ssh_command(self, identity):
        """argv prefix running the OpenSSH client against this server only."""
        return ["ssh", "-i", identity, "-p", str(self.port),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "UserKnownHostsFile=" + self.known_hosts_file,
                "-o", "StrictHostKeyChecking=yes", "-l", self.user, "127.0.0.1"]

    def log(self):
        """sshd's output so far (for failure messages)."""
        return read_log(self.log_file)

    def start(self):
        if self.proc:
            return
        _ensure_privsep_dir()
        spawn_on_free_port(self, free_port, PORT_ATTEMPTS, "Address already in use")
        with open(self.known_hosts_file, "w") as f:
            f.write(self.host_key_line() + "\n")

    def _stop(self):
        """Stop sshd (and its session children) and remove the directory (idempotent)."""
        self._kill()
        remove_dir(self.dir)

    def __repr__(self):
        return "<Sshd 127.0.0.1:%s>" % (self.port or "(not started)")

    # --- internals -----------------------------------------------------------

    def _config(self):
        cfg = [
            ("ListenAddress", "127.0.0.1:%d" % self.port),
            ("HostKey", self.host_key_file),
            ("PidFile", self.pid_file),
            ("AuthorizedKeysFile", self.authorized_keys_file),
            # The temp dir and the caller's files are not root-owned 0755 chains.
            ("StrictModes", "no"),
            ("PubkeyAuthentication", "yes"),
            ("PasswordAuthentication", "no"),
            ("KbdInteractiveAuthentication", "no"),
            ("PermitRootLogin", "prohibit-password"),
            ("UsePAM", "no"),
            ("AllowUsers", self.user),
            ("PermitUserEnvironment", "no"),
            ("X11Forwarding", "no"),
            ("AllowTcpForwarding", "no"),
            ("PrintMotd", "no"),
            ("PrintLastLog", "no"),
            ("UseDNS", "no"),
            ("LogLevel", "VERBOSE"),
            ("MaxStartups", "100"),
            ("LoginGraceTime", "30"),
        ]
        cfg += list(self.extra_config.items())
        return "".join("%s %s\n" % kv for kv in cfg)

    def _write_config(self):
        with open(self.config_file, "w") as f:
            f.write(self._config())

    def _spawn(self):
        self._log_fh = open(self.log_file, "ab")
        # -D: stay in the foreground (we own the process); -e: log to stderr.
        self.proc = subprocess.Popen(
            _die_with_parent() + [SSHD_BIN, "-D", "-e", "-f", self.config_file],
            stdin=subprocess.DEVNULL, stdout=self._log_fh, stderr=subprocess.STDOUT,
            cwd=self.dir, start_new_session=True)

    def _wait_ready(self):
        """Wait for the "SSH-2.0-" banner; raise with the log if not within START_TIMEOUT."""
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited with %s on port %d:\n%s"
                                   % (self.proc.returncode, self.port, self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(8).startswith(b"SSH-"):
                        return
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError("sshd on port %d not ready after %.0fs (%s):\n%s"
                           % (self.port, START_TIMEOUT, last, self.log()))

    def _kill(self):
        proc, self.proc = self.proc, None
        # sshd runs in its own session (start_new_session): signal the group
        # so the per-connection children go too.
        end_process(proc, STOP_TIMEOUT, term_group=True, kill_group=True)
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None


def _ensure_privsep_dir():
    """sshd (as root) exits with "Missing privilege separation directory"."""
    if os.geteuid() == 0 and not os.path.isdir(PRIVSEP_DIR):
        os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)


if __name__ == "__main__":
    # Smoke test: log in with the right key, fail with a wrong one.
    tmp = tempfile.mkdtemp(prefix="rewind-sshd-test-")
    try:
        good, good_pub = make_keypair(tmp, "ed25519", name="good")
        bad, _ = make_keypair(tmp, "ed25519", name="bad")
        with Sshd(authorized_keys=[good_pub]) as sshd:
            out = _run(sshd.ssh_command(good) + ["echo", "hello"])
            assert out == b"hello\n", out
            res = subprocess.run(sshd.ssh_command(bad) + ["true"], capture_output=True,
                                 timeout=30, stdin=subprocess.DEVNULL)
            assert res.returncode == 255, res
            print(sshd, "ok:", sshd.host_key_line())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0)
