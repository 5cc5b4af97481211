"""The member files on a terminal's flash (docs/members.md), written on the PC from what the
cloud's device API answers:

    members.write_programme(flash_dir, programme)     # GET .../members/programme -> config/members.json
    members.write_copy(flash_dir, copy)               # GET .../members/copy -> members.jsonl

``copy`` is the answer {"version", "terminal_invoice", "members": [...]}; its terminal_invoice
(the highest invoice of this terminal the cloud had stored when it answered) becomes the
file's "inv": the terminal's provisional points of later invoices still count on top.
"""
import json
import os

PROGRAMME_FIELDS = ("merchant_id", "spend_unit", "points_per_unit", "reward_points", "reward_text",
                    "offline_stored_value", "qr_key_n", "qr_key_e", "version")


def write_programme(flash_dir, programme):
    os.makedirs(os.path.join(flash_dir, "config"), exist_ok=True)
    with open(os.path.join(flash_dir, "config", "members.json"), "w") as f:
        json.dump({k: programme[k] for k in PROGRAMME_FIELDS}, f)


def write_copy(flash_dir, copy):
    path = os.path.join(flash_dir, "members.jsonl")
    with open(path + ".new", "w") as f:
        f.write(json.dumps({"v": copy["version"], "inv": copy.get("terminal_invoice", 0)}) + "\n")
        for m in copy["members"]:
            f.write(json.dumps(m, separators=(",", ":")) + "\n")
    os.replace(path + ".new", path)
