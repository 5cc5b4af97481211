"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, pg_ctl start on a
free port (socket in the same folder), stopped and removed at the end.  As root it runs the
server as the `postgres` system user, as the Debian package sets it up.

SMARTPOS_TEST_PG_URL=postgresql+psycopg://user:pw@host:port/db uses an existing server instead.
"""
import glob
import os
import shutil
import subprocess
import tempfile

from ports import free_port


def find_bin(name):
    for d in [os.path.dirname(shutil.which(name) or "")] + sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                                                   reverse=True):
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


class PgServer:
    def __init__(self):
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        self.root = None
        self.port = None

    @property
    def available(self):
        return bool(self.initdb and self.pg_ctl)

    def _run(self, argv):
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)

    def start(self):
        self.root = tempfile.mkdtemp(prefix="smartpos-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = os.path.join(self.root, "data")
        self._run([self.initdb, "-D", data, "-U", "pos", "--auth=trust", "-E", "UTF8", "--no-sync"])
        self.port = free_port()
        self._run([self.pg_ctl, "-D", data, "-w", "-t", "60", "-l", os.path.join(self.root, "log"),
                   "-o", "-F -p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 "
                         "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" % (self.port, self.root),
                   "start"])
        return self

    def url(self, dbname="postgres"):
        return "postgresql+psycopg://pos@127.0.0.1:%d/%s" % (self.port, dbname)

    def create_database(self, name):
        import psycopg
        with psycopg.connect("host=127.0.0.1 port=%d user=pos dbname=postgres" % self.port,
                             autocommit=True) as c:
            c.execute('CREATE DATABASE "%s"' % name)
        return self.url(name)

    def stop(self):
        if self.root is None:
            return
        try:
            self._run([self.pg_ctl, "-D", os.path.join(self.root, "data"), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
