"""Processing restrictions (Book 3 10.4) and terminal risk management (10.6)."""
import bits as B
from cardkit import HostStub, MiniCard


def test_expired_application_declined_offline(pki, run):
    r = run(MiniCard(pki, expiry="251031"), 1000, pins=["1234"], with_authorizer=False)
    assert B.tvr(r, B.EXPIRED)
    assert r.first_cryptogram_type in ("AAC", "ARQC")


def test_not_yet_effective(pki, run):
    r = run(MiniCard(pki, effective="270101"), 1000, pins=["1234"], authorizer=HostStub())
    assert B.tvr(r, B.NOT_EFFECTIVE)


def test_version_differs(pki, run):
    card = MiniCard(pki, extra_record=b"")
    card.records[(1, 1)] = card.records[(1, 1)].replace(b"\x9f\x08\x02\x00\x8c", b"\x9f\x08\x02\x00\x96")
    card.oda = None
    r = run(card, 1000, pins=["1234"], authorizer=HostStub())
    assert B.tvr(r, B.VERSIONS_DIFFER)


def test_auc_international_cash_not_allowed(pki, run):
    # AUC: domestic goods/services only, valid at non-ATM terminals; issuer country 0840 vs...
    card = MiniCard(pki, auc=bytes([0x20 | 0x08 | 0x01, 0x00]))
    r = run(card, {"amount": 1000, "kind": "cash"}, pins=["1234"], authorizer=HostStub())
    assert B.tvr(r, B.SERVICE_NOT_ALLOWED)
    ok = run(MiniCard(pki, auc=bytes([0x20 | 0x08 | 0x01, 0x00])), 1000, pins=["1234"])
    assert not B.tvr(ok, B.SERVICE_NOT_ALLOWED)


def test_floor_limit_exceeded_goes_online(pki, run):
    host = HostStub()
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=host)
    assert B.tvr(r, B.FLOOR_LIMIT) and B.tsi(r, B.TSI_TRM)
    assert r.first_cryptogram_type == "ARQC" and r.online and r.result == "approved"


def test_split_sale_uses_transaction_log(pki, run):
    card = MiniCard(pki)
    r1, r2 = run(card, {"amount": 3000}, {"amount": 3000}, pins=["1234", "1234"], authorizer=HostStub())
    assert not B.tvr(r1, B.FLOOR_LIMIT) and r1.result == "approved" and not r1.online
    assert B.tvr(r2, B.FLOOR_LIMIT) and r2.online        # 3000 + 3000 >= 5000 floor limit


def test_random_selection(pki, run):
    # below the threshold (1250) the target percentage 10 applies: draw 5 selects, draw 50 does not
    r = run(MiniCard(pki), 1000, pins=["1234"], draws=[5], authorizer=HostStub())
    assert B.tvr(r, B.RANDOM_ONLINE) and r.first_cryptogram_type == "ARQC"
    r = run(MiniCard(pki), 1000, pins=["1234"], draws=[50], authorizer=HostStub())
    assert not B.tvr(r, B.RANDOM_ONLINE)
    # between threshold and floor limit the percentage rises toward 50: 4000 -> 10 + 40*2750/3750 = 39
    r = run(MiniCard(pki), 4000, pins=["1234"], draws=[39], authorizer=HostStub())
    assert B.tvr(r, B.RANDOM_ONLINE)


def test_velocity_limits(pki, run):
    card = MiniCard(pki, velocity=(2, 5), atc=9, last_online_atc=3)
    r = run(card, 1000, pins=["1234"], authorizer=HostStub())
    gd = [c for c, _ in r.apdus if c[1] == 0xCA]
    assert bytes.fromhex("80CA9F3600") in gd and bytes.fromhex("80CA9F1300") in gd
    assert B.tvr(r, B.LOWER_LIMIT) and B.tvr(r, B.UPPER_LIMIT) and not B.tvr(r, B.NEW_CARD)


def test_velocity_new_card(pki, run):
    card = MiniCard(pki, velocity=(2, 5), atc=1, last_online_atc=0)
    r = run(card, 1000, pins=["1234"], authorizer=HostStub())
    assert B.tvr(r, B.NEW_CARD) and not B.tvr(r, B.LOWER_LIMIT)


def test_velocity_counters_unavailable(pki, run):
    card = MiniCard(pki, velocity=(2, 5))
    real = card._ins_ca
    card._ins_ca = lambda c: b"\x6a\x88" if c[2:4] == b"\x9f\x13" else real(c)
    r = run(card, 1000, pins=["1234"], authorizer=HostStub())
    assert B.tvr(r, B.LOWER_LIMIT) and B.tvr(r, B.UPPER_LIMIT)


def test_no_trm_when_aip_says_not(pki, run):
    card = MiniCard(pki, aip=bytes([0x01 | 0x20 | 0x10 | 0x04, 0]))
    r = run(card, 9000, pins=["1234"], authorizer=HostStub())
    assert not B.tsi(r, B.TSI_TRM) and not B.tvr(r, B.FLOOR_LIMIT)


def test_merchant_forced_online(pki, run):
    r = run(MiniCard(pki), {"amount": 100, "force_online": True}, pins=["1234"], authorizer=HostStub())
    assert B.tvr(r, B.FORCED_ONLINE) and r.first_cryptogram_type == "ARQC"


def test_transaction_log_keeps_the_newest_per_card_in_a_fixed_ring():
    # Book 3 10.6.1 split sales: the last approved amount of the same card; the log's buffers
    # are made once, so the oldest entries give way (run on MicroPython; 96K: the modules are
    # compiled from source here, pos.crypto.des's round code needing 72K for that on x64, where
    # a board loads them compiled)
    from host_sim import mpy
    out = mpy.run(
        "from pos.emv.risk import TransactionLog\n"
        "t = TransactionLog(3)\n"
        "t.record('4761739001010119', 100); t.record('5413330089010434', 200); t.record('4761739001010119', 300)\n"
        "print(t.last_amount('4761739001010119'), t.last_amount('5413330089010434'), t.last_amount('6250941006528599'))\n"
        "t.record('6250941006528599', 5); t.record('6250941006528599', 6)\n"
        "print(t.last_amount('5413330089010434'), t.last_amount('4761739001010119'), t.last_amount('6250941006528599'))\n"
        "print(TransactionLog(0).last_amount('4761739001010119'))\n", heap="96K")
    assert out.split() == ["300", "200", "0", "0", "300", "6", "0"]
