# The member programme's parameters, config/members.json on flash (delivered as a parameter
# set, docs/members.md): the merchant id, the points rule, the next-reward step and text, the
# stored value a member may spend while the cloud is unreachable, and the public key member
# QR codes are checked with (RSA modulus and exponent, hex).  No key is written in code.
import json

from pos.members import MemberError

PATH = "config/members.json"


class Programme:
    def __init__(self, d):
        try:
            self.merchant_id = int(d["merchant_id"])
            self.spend_unit = int(d["spend_unit"])
            self.points_per_unit = int(d["points_per_unit"])
            self.reward_points = max(1, int(d["reward_points"]))
            self.reward_text = str(d.get("reward_text", ""))[:20]
            self.offline_stored_value = int(d.get("offline_stored_value", 0))
            self.qr_key_n = d["qr_key_n"]
            self.qr_key_e = d["qr_key_e"]
        except (KeyError, ValueError, TypeError) as e:
            raise MemberError("member settings unreadable: %s" % e)


def load(path=PATH):
    try:
        with open(path) as f:
            return Programme(json.load(f))
    except OSError:
        raise MemberError("no member programme on this terminal")
    except ValueError:
        raise MemberError("member settings are not JSON")
