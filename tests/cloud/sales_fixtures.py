"""Terminals placed in the two merchants' stores of `tenancy`, enrolled, and uploads to make."""
import copy
import datetime


def place_terminal(client, admin, store_id, name):
    reg = client.post("/api/v1/terminals", json={"serial": name, "controller_id": name, "store_id": store_id},
                      headers=admin)
    assert reg.status_code == 201, reg.text
    ident = client.post("/api/v1/enroll", json={"activation_code": reg.json()["activation_code"], "serial": name})
    assert ident.status_code == 200, ident.text
    return {"id": reg.json()["terminal"]["id"], "url": "/default/controller/v1/%s/sales" % name,
            "dev": {"Authorization": "TargetToken " + ident.json()["target_token"]}}


def when(hours_ago=1.0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours_ago)
    return t.isoformat()


CARD = {"masked_pan": "476173******0119", "scheme": "visa", "entry_mode": "chip", "acquirer": "Demo Acquirer",
        "auth_code": "A1B2C3", "rrn": "000000123456", "stan": "000042", "response_code": "00",
        "emv": {"aid": "A0000000031010", "label": "VISA CREDIT", "tvr": "0000008000", "tsi": "E800",
                "cvm_results": "1F0302", "cid": "40", "cryptogram": "1122334455667788", "atc": "001C"}}


def sale(invoice, **kw):
    """Coffee 2 x 3.50 at 10 %, a sandwich 8.40 at 20 %: 15.40 EUR paid by card."""
    body = {"invoice": invoice, "currency": "EUR", "terminal_time": when(), "cashier": "ANNA",
            "lines": [{"sku": "COF", "name": "Coffee", "qty": 2, "unit_price": 350, "amount": 700, "tax_rate_bp": 1000},
                      {"sku": "SAN", "name": "Sandwich", "qty": 1, "unit_price": 840, "amount": 840,
                       "tax_rate_bp": 2000}],
            "tenders": [{"type": "card", "amount": 1540, "card": copy.deepcopy(CARD)}]}
    body.update(kw)
    return body
