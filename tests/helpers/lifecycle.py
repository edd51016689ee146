"""The lifecycle the test servers in this directory share.

    class Server(Stoppable):
        def __init__(self):
            self.dir = tempfile.mkdtemp()
            with self._starting():      # now live; stop() and re-raise if this fails
                self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
                self._thread = serve_in_thread(self._httpd, "name")

        def _stop(self):                # idempotent: stop() may be called again
            shutdown_server(self._httpd, self._thread)
            self._httpd = self._thread = None
            remove_dir(self.dir)

Every live instance (from `_starting()` until `stop()`) is stopped at
interpreter exit, most recent first; leaving a `with` block calls `stop()`.
`end_process` stops a child process (SIGTERM, then SIGKILL after a timeout);
`spawn_on_free_port` starts one on a free port, retrying when the port was taken;
`read_log` reads its log.

Standard library only.
"""

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import threading

_live = {}        # instance -> None; a dict keeps the order instances went live
_live_lock = threading.Lock()


@atexit.register
def _stop_all():
    with _live_lock:
        live = list(_live)
    for obj in reversed(live):
        obj.stop()


class Stoppable:
    """Base of the helpers' servers: live-instance registry, `with`, stop()."""

    @contextlib.contextmanager
    def _starting(self):
        """Mark the instance live (stopped at exit); stop() it if the block raises."""
        with _live_lock:
            _live[self] = None
        try:
            yield
        except BaseException:
            self.stop()
            raise

    def _stop(self):
        """Release what the instance holds; must be idempotent."""
        raise NotImplementedError

    def stop(self):
        self._stop()
        with _live_lock:
            _live.pop(self, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def serve_in_thread(httpd, name):
    """Run httpd.serve_forever in a daemon thread (handlers in daemon threads too)."""
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name=name, daemon=True)
    thread.start()
    return thread


def shutdown_server(httpd, thread, timeout=5):
    """Undo serve_in_thread: stop serving, close the socket, join the thread (None: skip)."""
    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()
    if thread is not None:
        thread.join(timeout=timeout)


def remove_dir(path):
    """Remove a temporary directory tree if it is there (errors ignored)."""
    if path and os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)


def _signal(proc, sig, group):
    if group:
        try:
            os.killpg(proc.pid, sig)
            return
        except OSError:
            pass
    proc.send_signal(sig)


def end_process(proc, timeout, term_group=False, kill_group=False):
    """SIGTERM proc, SIGKILL it if it has not exited within timeout, and reap it.

    term_group / kill_group: send that signal to proc's process group instead
    (proc must lead its own session; falls back to proc alone). No-op when proc
    is None or has exited.
    """
    if proc is None or proc.poll() is not None:
        return
    _signal(proc, signal.SIGTERM, term_group)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL, kill_group)
        proc.wait(timeout=timeout)


def read_log(path):
    """A server's log file as text so far ("" when there is none): for failure messages."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def spawn_on_free_port(server, free_port, attempts, in_use):
    """Start a server process on a free port, retrying when another process took it.

    Each attempt sets server.port = free_port(), then calls server._write_config(),
    server._spawn() and server._wait_ready() (which raises RuntimeError on a failed
    start). A failed attempt is undone with server._kill(); it is retried, up to
    `attempts` in all, only when server.log() contains `in_use`. Raises the last error.
    """
    last_error = None
    for _ in range(attempts):
        server.port = free_port()
        server._write_config()
        server._spawn()
        try:
            server._wait_ready()
            return
        except RuntimeError as e:
            last_error = e
            server._kill()
            if in_use not in server.log():
                break
    raise last_error
