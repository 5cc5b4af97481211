"""Settings of one cloud service instance.

Every value has a default that needs nothing installed: the database is SQLite in
the data folder.  ``database_url`` takes any SQLAlchemy URL; PostgreSQL is
``postgresql+psycopg://user:password@host:port/dbname``.
"""
import os
from dataclasses import dataclass, field, fields

DEFAULT_PORT = 8700


class SettingsError(ValueError):
    """A setting the service cannot start with; the message names it."""


@dataclass
class Settings:
    data_dir: str = "cloud-data"
    database_url: str = ""                  # empty: SQLite in data_dir/cloud.db
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token_ttl_s: int = 12 * 3600            # bearer tokens of people
    activation_ttl_s: int = 24 * 3600       # terminal activation codes
    login_max_failures: int = 5             # then the account is locked ...
    login_lockout_s: int = 15 * 60          # ... for this long
    max_body_bytes: int = 1 << 20           # larger requests are refused with 413 ...
    max_artifact_bytes: int = 32 << 20      # ... except artifact uploads, up to this
    ddi_poll_s: int = 300                   # DDI polling interval given to terminals
    # overload (cloud.overload): a request waits at most db_wait_s for a database connection, at
    # admission (db_pool_size + db_pool_overflow requests at a time per worker) or at the pool;
    # then, like a database that is unreachable or refuses for the moment, it is answered 503
    # with Retry-After: retry_after_s .. 2 x retry_after_s seconds (spread so retries do not bunch)
    db_pool_size: int = 20
    db_pool_overflow: int = 30
    db_wait_s: int = 5
    retry_after_s: int = 10
    mqtt_url: str = ""                      # broker for wake messages (mqtt://host:port); empty: none
    signing_keys: str = ""                  # TUF role keys folder (release.load_keys); empty: the TEST keys
    tls_cert: str = ""                      # server certificate chain (PEM): HTTPS when given ...
    tls_key: str = ""                       # ... with its private key (cloud/tls.py)
    # first start with an empty database: the operator and its admin account
    bootstrap_operator: str = "default"
    bootstrap_operator_name: str = "Default operator"
    bootstrap_admin: str = "admin"
    bootstrap_admin_password: str = ""      # empty: generated, written to data_dir once
    extra: dict = field(default_factory=dict)

    ENV = {"data_dir": "SMARTPOS_CLOUD_DATA", "database_url": "SMARTPOS_CLOUD_DB",
           "ddi_poll_s": "SMARTPOS_CLOUD_POLL_S", "bootstrap_admin_password": "SMARTPOS_CLOUD_ADMIN_PASSWORD",
           "mqtt_url": "SMARTPOS_CLOUD_MQTT", "signing_keys": "SMARTPOS_CLOUD_SIGNING_KEYS",
           "tls_cert": "SMARTPOS_CLOUD_TLS_CERT", "tls_key": "SMARTPOS_CLOUD_TLS_KEY",
           "db_pool_size": "SMARTPOS_CLOUD_DB_POOL", "db_pool_overflow": "SMARTPOS_CLOUD_DB_OVERFLOW",
           "db_wait_s": "SMARTPOS_CLOUD_DB_WAIT_S", "retry_after_s": "SMARTPOS_CLOUD_RETRY_AFTER_S"}

    @classmethod
    def from_env(cls, **given):
        """Settings from the environment (SMARTPOS_CLOUD_*), as each worker process reads them."""
        kw = {}
        whole = {f.name for f in fields(cls) if f.type is int}
        for field_name, var in cls.ENV.items():
            if var in os.environ:
                kw[field_name] = int(os.environ[var]) if field_name in whole else os.environ[var]
        kw.update({k: v for k, v in given.items() if v not in (None, "")})
        return cls(**kw)

    def to_env(self):
        return {var: str(getattr(self, f)) for f, var in self.ENV.items()}

    def resolved_database_url(self):
        if self.database_url:
            return self.database_url
        return "sqlite:///" + os.path.abspath(os.path.join(self.data_dir, "cloud.db"))

    def check(self):
        if not (0 <= int(self.port) <= 65535):
            raise SettingsError("port %r is not a TCP port" % self.port)
        url = self.resolved_database_url()
        if not (url.startswith("sqlite") or url.startswith("postgresql")):
            raise SettingsError("database URL %r: only sqlite:/// and postgresql+psycopg:// are supported"
                                % url.split("@")[-1])
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SettingsError("HTTPS needs both the certificate (--tls-cert) and its key (--tls-key)")
        if self.tls_cert:
            from cloud.tls import TlsSetupError, check_server_files
            try:
                check_server_files(self.tls_cert, self.tls_key)
            except TlsSetupError as exc:
                raise SettingsError(str(exc))
        if self.db_pool_size < 1 or self.db_pool_overflow < 0 or self.db_wait_s < 1 or self.retry_after_s < 1:
            raise SettingsError("the database pool needs a size of 1 or more, an overflow of 0 or more, and a "
                                "wait and a Retry-After of 1 s or more")
        if self.token_ttl_s <= 0 or self.activation_ttl_s <= 0:
            raise SettingsError("token and activation lifetimes must be positive")
        return self
