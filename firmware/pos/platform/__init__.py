# The platform for installed apps: the runtime and sandbox (runtime.py), the payment an app
# asks for (payment.py).  The SDK apps import is pos.sdk.  docs/sdk.md.


class AppError(Exception):
    """An app could not be installed or started: the message says why."""
