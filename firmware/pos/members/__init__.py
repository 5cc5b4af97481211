# Members at the counter (docs/members.md): the member programme's parameters
# (config/members.json), the member QR check (qr.py), the points rule (points.py) and the
# terminal's masked copy of the merchant's members with the points it gave while the cloud
# had not yet booked them (book.py).  Loaded with the basket, let go with it.


class MemberError(Exception):
    """A member not identified or not enrolled: the message says why, the sale stays as it was."""
