"""A private PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temporary folder, listening
on a unix socket only (``listen_addresses = ''``: no TCP port), trust authentication for its own
superuser ``gaitmon``, durability off (``fsync``, ``synchronous_commit``, ``full_page_writes``: a
crashed test server is thrown away anyway).

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user the Debian
package creates (:data:`SERVER_USER`), through ``runuser``. Needs the server binaries (Debian package
``postgresql``: ``/usr/lib/postgresql/<version>/bin``, or ``initdb`` on PATH) and the ``psycopg``
driver; :func:`missing` says what is absent.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
from pathlib import Path

SERVER_USER = "postgres"
SUPERUSER = "gaitmon"


def binaries() -> Path | None:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres`` (the newest Debian version), or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why a server cannot be started here, or None."""
    if binaries() is None:
        return "PostgreSQL server binaries not installed (Debian package 'postgresql': initdb, pg_ctl)"
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run the PostgreSQL server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is not installed to run the PostgreSQL server as another user"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg not installed (pip install 'gaitmon[postgres]')"
    return None


class Server:
    """A running private server in ``folder`` (data in ``folder/data``, socket in ``folder``)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self._bin = binaries()
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            shutil.chown(folder, SERVER_USER)
        self._run("initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C")
        options = (f"-c listen_addresses='' -k {folder} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=40")
        self._run("pg_ctl", "-D", self.data, "-l", folder / "server.log", "-o", options, "-w", "start")

    def uri(self, database: str = "postgres") -> str:
        """libpq URI of ``database`` on this server."""
        return f"postgresql:///{database}?host={self.folder}&user={SUPERUSER}"

    def new_database(self) -> str:
        """A fresh empty database; its URI."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.uri(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.uri(name)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def _run(self, program: str, *args) -> None:
        command = [str(self._bin / program), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}"
                               + (f"\n{log.read_text()}" if log.exists() else ""))
