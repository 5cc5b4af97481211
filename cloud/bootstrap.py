"""First start: an empty database gets its operator and that operator's admin account.

The admin's password is the configured one, or a generated one written once to
``DATA/initial-admin-password`` (mode 0600) for the person who started the
service; it should be changed at the first sign-in.
"""
import os
import secrets

from sqlalchemy import func, select

from cloud.accounts import passwords
from cloud.accounts.models import Account, OPERATOR_ADMIN
from cloud.audit.recorder import acting_as
from cloud.tenants.models import Operator

PASSWORD_FILE = "initial-admin-password"


def ensure_operator(sessionmaker, settings):
    """Returns (operator slug, admin username, password or None when the database already had accounts)."""
    with sessionmaker() as db, acting_as("system:bootstrap"):
        if db.scalar(select(func.count()).select_from(Account)):
            return None
        op = db.scalar(select(Operator).where(Operator.slug == settings.bootstrap_operator))
        if op is None:
            op = Operator(slug=settings.bootstrap_operator, name=settings.bootstrap_operator_name)
            db.add(op)
            db.flush()
        password = settings.bootstrap_admin_password or secrets.token_urlsafe(12)
        db.add(Account(username=settings.bootstrap_admin, display_name="Operator administrator",
                       role=OPERATOR_ADMIN, operator_id=op.id, password_hash=passwords.hash_password(password)))
        db.commit()
    if not settings.bootstrap_admin_password:
        os.makedirs(settings.data_dir, exist_ok=True)
        path = os.path.join(settings.data_dir, PASSWORD_FILE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
    return op.slug, settings.bootstrap_admin, password
