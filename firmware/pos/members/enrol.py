# Enrolment at the counter: the customer's phone (and the new membership card tapped, if any)
# sent to the cloud's device API, POST {tenant}/controller/v1/{controller}/members with the
# terminal's TargetToken (docs/members.md); the new member, masked as the cloud answers it, is
# added to the terminal's copy at once.  Enrolment needs the cloud: offline it is refused with
# that reason, nothing is stored.
#
#     m = await enrol.enrol("13800001234", "04A1B2C3D4E5F6", programme)   # book.Member or MemberError
import json

from pos.members import MemberError, book

_REFUSED = {401: "terminal not enrolled in the cloud", 404: "cloud has no members service",
            409: "phone or card is a member's already", 422: "phone number not accepted"}


async def enrol(phone, card_uid, programme):
    from pos.net import http
    from pos.tms import service
    try:
        with open(service.CONFIG) as f:
            cfg = json.load(f)
        url = "%s/%s/controller/v1/%s/members" % (cfg["url"].rstrip("/"), cfg["tenant"], cfg["controller_id"])
    except (OSError, ValueError, KeyError):
        raise MemberError("terminal not enrolled in the cloud")
    token = service.target_token()
    if not token:
        raise MemberError("terminal not enrolled in the cloud")
    pin = None
    if url.startswith("https://"):
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    body = {"name": "", "phone": phone}
    if card_uid:
        body["card_uid"] = card_uid
    try:
        st, _, data = await http.request("POST", url, {"Authorization": "TargetToken %s" % token,
                                                       "Content-Type": "application/json"},
                                         json.dumps(body).encode(), timeout_ms=15000, ssl_context=pin)
    except http.HttpError:
        raise MemberError("enrolment needs the cloud: offline")
    token = None
    if st != 201:
        raise MemberError(_REFUSED.get(st) or "cloud answered %d" % st)
    try:
        d = json.loads(data)
        line = {"n": d["number"], "nm": d["name"], "ph": d["phone"],
                "pd": book.phone_digest(programme.merchant_id, phone), "t": d["tier"], "p": d["points"],
                "sv": d["stored_value"], "c": d["cards"]}
    except (ValueError, KeyError, TypeError):
        raise MemberError("cloud's answer is not a member")
    book.add(line)
    return book.Member(line, 0)
