# The platform for installed apps: the runtime and sandbox (runtime.py), the payment an app
# asks for (payment.py).  The SDK apps import is pos.sdk.  docs/sdk.md.
