"""Application selection (Book 1 section 12) on real MicroPython against MiniCard."""
from cardkit import AID, MiniCard

SELECT = (0x00, 0xA4, 0x04, 0x00)
SELECT_NEXT = (0x00, 0xA4, 0x04, 0x02)
PSE = b"1PAY.SYS.DDF01"
DEBIT = bytes.fromhex("A0000000032010")
CREDIT2 = bytes.fromhex("A000000003101002")


def selects(r):
    return [c[5:5 + c[4]] for c, _ in r.apdus if c[1] == 0xA4]


def test_pse_directory_used_and_app_selected(pki, run):
    r = run(MiniCard(pki), 1000, pins=["1234"])
    assert r.result == "approved"
    assert selects(r) == [PSE, AID]
    assert r.apdus[1][0] == bytes.fromhex("00B2010C00")        # directory SFI 1, record 1
    assert r.aid == AID.hex().upper() and r.label == "VISA CREDIT" and r.scheme == "visa"


def test_list_of_aids_when_no_pse(pki, run):
    r = run(MiniCard(pki, pse=False), 1000, pins=["1234"])
    assert r.result == "approved"
    got = selects(r)
    assert got[0] == PSE
    # every configured AID is tried (11 in emv.json), the Visa one matches, then final selection
    assert AID in got[1:-1] and bytes.fromhex("A0000000041010") in got[1:-1]
    # 11 configured AIDs, plus one SELECT next occurrence after the Visa match (partial allowed)
    assert len(got[1:-1]) == 12
    assert r.commands().count(SELECT_NEXT) == 1
    assert got[-1] == AID


def test_partial_match_finds_both_apps_and_cardholder_chooses(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 2},
            {"aid": CREDIT2, "label": "VISA BUSINESS", "priority": 1}]
    card = MiniCard(pki, pse=False, apps=apps)
    r = run(card, 1000, pins=["1234"], choose=1)
    # partial selection: SELECT first then next occurrence until 6A82
    assert SELECT_NEXT in r.commands()
    assert r.choices == [["VISA BUSINESS", "VISA CREDIT"]]    # priority order
    assert r.label == "VISA CREDIT" and r.aid == AID.hex().upper()


def test_priority_without_cardholder_choice(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 2},
            {"aid": DEBIT, "label": "VISA ELECTRON", "priority": 1}]
    r = run(MiniCard(pki, apps=apps), 1000, pins=["1234"], choose=lambda labels: 0)
    assert r.label == "VISA ELECTRON"
    assert selects(r)[-1] == DEBIT


def test_confirmation_required_and_refused(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 0x81}]
    r = run(MiniCard(pki, apps=apps), 1000, confirm=False)
    assert r.confirms == ["VISA CREDIT"]
    assert r.result == "terminated"
    assert "no application" in r.message
    assert 0xA8 not in r.ins()             # never reached GPO


def test_blocked_application_skipped_in_list_of_aids(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 1, "blocked": True},
            {"aid": DEBIT, "label": "VISA ELECTRON", "priority": 2}]
    r = run(MiniCard(pki, pse=False, apps=apps), 1000, pins=["1234"])
    assert r.result == "approved" and r.label == "VISA ELECTRON"
    assert any("blocked (6283)" in t for t in r.trace)


def test_only_application_blocked_is_not_accepted(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 1, "blocked": True}]
    r = run(MiniCard(pki, pse=False, apps=apps), 1000)
    assert r.result == "not_accepted"
    assert 0xA8 not in r.ins()


def test_blocked_app_found_through_pse_fails_final_select(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 1, "blocked": True}]
    r = run(MiniCard(pki, apps=apps), 1000)
    assert r.result == "terminated"
    assert "TRY AGAIN" in r.messages


def test_card_blocked_6a81_terminates(pki, run):
    card = MiniCard(pki)
    card._ins_a4 = lambda c: b"\x6a\x81"
    r = run(card, 1000)
    assert r.result == "terminated" and "blocked" in r.message
    assert len(r.apdus) == 1


def test_gpo_conditions_not_satisfied_selects_next(pki, run):
    apps = [{"aid": AID, "label": "VISA CREDIT", "priority": 1},
            {"aid": DEBIT, "label": "VISA ELECTRON", "priority": 2}]
    card = MiniCard(pki, apps=apps)
    card.gpo_sw[AID] = 0x6985
    r = run(card, 1000, pins=["1234"], choose=0)
    assert r.result == "approved" and r.label == "VISA ELECTRON"
    assert r.ins().count(0xA8) == 2
    assert "NOT ACCEPTED" in r.messages


def test_no_common_application(pki, run):
    apps = [{"aid": bytes.fromhex("A0000009991010"), "label": "OTHER", "priority": 1}]
    r = run(MiniCard(pki, apps=apps), 1000)
    assert r.result == "not_accepted"


def test_pse_directory_names_a_ddf(pki, run):
    ddf = b"VISA.DDF01"
    r = run(MiniCard(pki, ddf=ddf), 1000, pins=["1234"])
    assert selects(r) == [PSE, ddf, AID]
    assert bytes.fromhex("00B2011C00") in [c for c, _ in r.apdus]     # DDF directory SFI 3
    assert r.result == "approved"
