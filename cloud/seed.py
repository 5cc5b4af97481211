"""SYNTHETIC trading data at scale: merchants with stores, enrolled terminals, owner accounts, and
a year of sales in the terminals' own upload contract (docs/sales-sync.md), booked through the
sales ingest (``cloud.sales.ingest.book_batch``: the same checks, rows and postings as an upload).

    plan = Plan(seed=1, merchants=20, days=90)
    for doc in merchant_sales(plan, 0):        # deterministic: same plan, same documents
        ...
    report = load(sessionmaker, operator_id, plan, progress=print)

Everything is drawn from ``random.Random`` seeded per merchant, so a merchant's data does not
depend on how many others are generated.  Patterns: a trade per merchant (cafe, bakery, grocery,
kiosk, pharmacy) with its catalog and tax rates, busier Saturdays and quiet Sundays, morning,
lunch and evening peaks, members on part of the sales, tenders cash / card by scheme / QR wallet /
gift card, tips at cafes, shop and campaign discounts, refunds a few days later and voids (a
refund of the whole sale within minutes, as terminals upload a void).
"""
import concurrent.futures
import dataclasses
import datetime
import hashlib
import multiprocessing
import random
import time
import zoneinfo

from sqlalchemy import func, orm, select

from cloud.accounts import passwords
from cloud.accounts.models import MERCHANT_OWNER, Account
from cloud.audit.recorder import acting_as
from cloud.db import make_engine
from cloud.sales.contract import SaleIn
from cloud.sales.ingest import book_batch
from cloud.tenants.activation import digest
from cloud.tenants.models import Merchant, Store, Terminal

PREFIX = "Seed "                     # every seeded merchant's name starts so
TERMINAL_PREFIX = "SEED-"
BATCH = 2000                         # sales booked per statement group and commit

TRADES = {
    # trade: (items [(sku, name, price minor units, tax bp)], mean lines, tips)
    "Cafe": ([("ESP", "Espresso", 190, 1000), ("CAP", "Cappuccino", 320, 1000), ("LAT", "Latte", 350, 1000),
              ("TEA", "Tea", 260, 1000), ("CRO", "Croissant", 180, 550), ("MUF", "Muffin", 290, 550),
              ("SAN", "Sandwich", 650, 1000), ("JUI", "Orange juice", 380, 550), ("CAK", "Cake slice", 420, 1000),
              ("WAT", "Water", 150, 550)], 2.2, True),
    "Bakery": ([("BAG", "Baguette", 120, 550), ("PAI", "Country loaf", 390, 550), ("CRO", "Croissant", 130, 550),
                ("PCH", "Pain au chocolat", 150, 550), ("ECL", "Eclair", 320, 550), ("TAR", "Fruit tart", 450, 550),
                ("QUI", "Quiche", 520, 1000), ("COF", "Coffee", 180, 1000)], 2.0, False),
    "Grocery": ([("MLK", "Milk 1l", 115, 550), ("EGG", "Eggs x6", 265, 550), ("BRD", "Bread", 210, 550),
                 ("APL", "Apples 1kg", 299, 550), ("PAS", "Pasta", 149, 550), ("RIC", "Rice", 189, 550),
                 ("CHE", "Cheese", 459, 550), ("WIN", "Wine", 899, 2000), ("SOA", "Soap", 249, 2000),
                 ("DET", "Detergent", 699, 2000), ("TOM", "Tomatoes", 349, 550), ("COL", "Cola 1.5l", 199, 550)],
                4.5, False),
    "Kiosk": ([("NEW", "Newspaper", 250, 210), ("MAG", "Magazine", 590, 210), ("GUM", "Chewing gum", 150, 2000),
               ("CHO", "Chocolate", 210, 550), ("WAT", "Water", 120, 550), ("TKT", "Transit ticket", 210, 1000),
               ("PHC", "Phone credit", 1000, 2000)], 1.4, False),
    "Pharmacy": ([("PAR", "Paracetamol", 215, 210), ("IBU", "Ibuprofen", 389, 210), ("VIT", "Vitamin C", 799, 550),
                  ("CRM", "Hand cream", 650, 2000), ("SUN", "Sun cream", 1490, 2000), ("PLA", "Plasters", 420, 2000),
                  ("SYR", "Cough syrup", 690, 1000), ("TOO", "Toothpaste", 349, 2000)], 1.8, False),
}
ZONES = ("Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Dublin")
WEEKDAY = (0.9, 0.95, 1.0, 1.05, 1.2, 1.45, 0.6)         # Monday .. Sunday
HOURS = {7: 4, 8: 9, 9: 7, 10: 5, 11: 7, 12: 11, 13: 10, 14: 5, 15: 4, 16: 5, 17: 8, 18: 9, 19: 6, 20: 3}
SCHEMES = (("visa", "476173", "A0000000031010", "VISA CREDIT", 50), ("mastercard", "540500", "A0000000041010",
           "MASTERCARD", 38), ("amex", "374245", "A00000002501", "AMERICAN EXPRESS", 7),
           ("maestro", "675964", "A0000000043060", "MAESTRO", 5))
TENDERS = (("cash", 30), ("card", 55), ("wallet", 10), ("gift_card", 5))
ACQUIRER = "Demo Acquirer"
WALLET = "Demo Wallet"
CAMPAIGN = "Visa Offers"
CASHIERS = ("Alex", "Sam", "Kim", "Noor", "Luca", "Ines", "Tom", "Mia")


class SeedError(ValueError):
    """A seeding request that cannot be done (bounds, a database that already holds seeded data)."""


@dataclasses.dataclass(frozen=True)
class Plan:
    seed: int = 1
    merchants: int = 20
    terminals_per_merchant: int = 3
    days: int = 90
    per_terminal_day: float = 9.0      # mean transactions of a terminal on an average day
    end: datetime.date = None          # the last day of trading (default: yesterday, UTC)

    def check(self):
        if not 1 <= self.merchants <= 100_000:
            raise SeedError("--merchants must be 1..100000")
        if not 1 <= self.terminals_per_merchant <= 100:
            raise SeedError("--terminals-per-merchant must be 1..100")
        if not 1 <= self.days <= 3660:
            raise SeedError("--days must be 1..3660")
        if not 0 < self.per_terminal_day <= 10_000:
            raise SeedError("--per-terminal-day must be above 0 and at most 10000")
        return self

    @property
    def last_day(self):
        return self.end or datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)

    @property
    def first_day(self):
        return self.last_day - datetime.timedelta(days=self.days - 1)

    def expected_sales(self):
        return int(self.merchants * self.terminals_per_merchant * self.days * self.per_terminal_day)


def owner_password(seed):
    """Every seeded owner account's password (printed at the end of a run: the data is synthetic)."""
    return "synthetic-%d" % seed


def terminal_token(seed, controller_id):
    """A seeded terminal's TargetToken (the load bench uploads with it)."""
    return hashlib.sha256(b"smartpos seed %d %s" % (seed, controller_id.encode())).hexdigest()[:32]


@dataclasses.dataclass
class MerchantShape:
    index: int
    name: str
    trade: str
    owner: str
    stores: list              # [(name, zone)]
    terminals: list           # [(controller id, store index)]


def merchant_shape(plan, index):
    rng = random.Random("%d/merchant/%d" % (plan.seed, index))
    trade = rng.choice(sorted(TRADES))
    n_stores = max(1, min(plan.terminals_per_merchant, rng.choice((1, 1, 1, 2, 2, 3))))
    stores = [("Store %d" % (k + 1), rng.choice(ZONES)) for k in range(n_stores)]
    terminals = [("%s%d-%05d-%02d" % (TERMINAL_PREFIX, plan.seed, index + 1, k + 1), k % n_stores)
                 for k in range(plan.terminals_per_merchant)]
    return MerchantShape(index=index, name="%s%05d %s" % (PREFIX, index + 1, trade), trade=trade,
                         owner="owner-%05d" % (index + 1), stores=stores, terminals=terminals)


def _weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[-1] for p in pairs])[0]


def _card(rng, amount_tag):
    scheme, bin6, aid, label, _ = rng.choices(SCHEMES, weights=[s[-1] for s in SCHEMES])[0]
    return {"masked_pan": "%s******%04d" % (bin6, rng.randrange(10000)), "scheme": scheme,
            "entry_mode": rng.choices(("contactless", "chip", "swipe"), weights=(70, 28, 2))[0],
            "acquirer": ACQUIRER, "auth_code": "%06d" % rng.randrange(10**6), "rrn": "%012d" % amount_tag,
            "stan": "%06d" % (amount_tag % 10**6), "response_code": "00",
            "emv": {"aid": aid, "label": label[:16], "tvr": "0000000000", "tsi": "E800", "cid": "40",
                    "cryptogram": "%016X" % rng.getrandbits(64), "atc": "%04X" % rng.randrange(65536)}}


def _tender(rng, kind, amount, tag):
    if kind == "card":
        return {"type": "card", "amount": amount, "card": _card(rng, tag)}
    if kind == "wallet":
        return {"type": "wallet", "amount": amount, "wallet": {"name": WALLET, "order_ref": "W%d" % tag}}
    return {"type": kind, "amount": amount}


def _utc_text(zone, day, seconds):
    local = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(seconds=seconds)
    return local.replace(tzinfo=zone).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merchant_sales(plan, index, shape=None):
    """Yield (controller id, upload document) of merchant `index`, terminal by terminal, each
    terminal's invoices in time order."""
    shape = shape or merchant_shape(plan, index)
    items, mean_lines, tips = TRADES[shape.trade]
    popularity = [1.0 / (k + 1) for k in range(len(items))]         # a few best sellers
    for controller_id, store_k in shape.terminals:
        rng = random.Random("%d/terminal/%s" % (plan.seed, controller_id))
        zone = zoneinfo.ZoneInfo(shape.stores[store_k][1])
        scale = rng.uniform(0.6, 1.4) * plan.per_terminal_day
        members = ["M%05d%04d" % (index + 1, k) for k in range(rng.randrange(20, 200))]
        invoice = 0
        later = []                      # refunds due: (day, seconds, sale document)
        for d in range(plan.days):
            day = plan.first_day + datetime.timedelta(days=d)
            n = max(0, int(rng.gauss(scale * WEEKDAY[day.weekday()], scale * 0.25) + 0.5))
            hours = rng.choices(list(HOURS), weights=list(HOURS.values()), k=n)
            moments = sorted(h * 3600 + rng.randrange(3600) for h in hours)
            due = [x for x in later if x[0] == day]
            later = [x for x in later if x[0] != day]
            events = [(s, None) for s in moments] + [(s, doc) for _, s, doc in due]
            events.sort(key=lambda e: e[0])
            for seconds, refunded in events:
                invoice += 1
                if refunded is not None:
                    doc = dict(refunded, invoice=invoice, kind="refund", original_invoice=refunded["invoice"],
                               terminal_time=_utc_text(zone, day, seconds), tip=0)
                    paid = sum(ln["amount"] for ln in doc["lines"]) - sum(x["amount"] for x in doc["discounts"])
                    doc["tenders"] = [dict(refunded["tenders"][0], amount=paid)]
                    yield controller_id, doc
                    continue
                lines = []
                for _ in range(max(1, min(12, int(rng.expovariate(1.0 / mean_lines)) + 1))):
                    sku, name, price, bp = rng.choices(items, weights=popularity)[0]
                    qty = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
                    lines.append({"sku": sku, "name": name, "qty": qty, "unit_price": price, "amount": qty * price,
                                  "tax_rate_bp": bp})
                discounts = []
                roll = rng.random()
                if roll < 0.05:                                       # a shop discount on the first line
                    off = max(1, lines[0]["amount"] // 10)
                    discounts.append({"label": "10% off", "amount": off, "tax_rate_bp": lines[0]["tax_rate_bp"],
                                      "funder": "shop"})
                kind = _weighted(rng, TENDERS)
                if kind == "card" and roll > 0.985:                   # a card scheme's campaign
                    off = max(1, lines[-1]["amount"] // 5)
                    if off + sum(x["amount"] for x in discounts if x["tax_rate_bp"] == lines[-1]["tax_rate_bp"]) \
                            <= sum(ln["amount"] for ln in lines if ln["tax_rate_bp"] == lines[-1]["tax_rate_bp"]):
                        discounts.append({"label": "Scheme offer", "amount": off,
                                          "tax_rate_bp": lines[-1]["tax_rate_bp"], "funder": "campaign",
                                          "campaign": CAMPAIGN})
                total = sum(ln["amount"] for ln in lines) - sum(x["amount"] for x in discounts)
                if total <= 0:
                    discounts, total = [], sum(ln["amount"] for ln in lines)
                tip = rng.choice((50, 100, 150, 200)) if tips and kind == "card" and rng.random() < 0.2 else 0
                doc = {"invoice": invoice, "kind": "sale", "currency": "EUR",
                       "terminal_time": _utc_text(zone, day, seconds), "cashier": rng.choice(CASHIERS),
                       "member_id": rng.choice(members) if rng.random() < 0.3 else "", "lines": lines,
                       "discounts": discounts, "tip": tip,
                       "tenders": [_tender(rng, kind, total + tip, index * 10**7 + invoice)]}
                yield controller_id, doc
                fate = rng.random()
                if fate < 0.004:                                      # voided at the till minutes later
                    s = min(seconds + rng.randrange(30, 600), 86399)
                    if s > seconds:
                        later.append((day, s, doc))
                elif fate < 0.02:                                     # brought back within a week
                    back = day + datetime.timedelta(days=rng.randrange(1, 8))
                    if back <= plan.last_day:
                        later.append((back, rng.choice(list(HOURS)) * 3600 + rng.randrange(3600), doc))


@dataclasses.dataclass
class Totals:
    """What a generation holds, minor units, tax included, tips apart."""
    sales: int = 0
    refunds: int = 0
    sales_total: int = 0
    refunds_total: int = 0
    tips: int = 0
    sales_lines: int = 0      # the sales' lines before discounts (what the tax report's net + tax adds up to)

    def add(self, doc):
        total = sum(ln["amount"] for ln in doc["lines"]) - sum(x["amount"] for x in doc["discounts"])
        if doc["kind"] == "refund":
            self.refunds += 1
            self.refunds_total += total
        else:
            self.sales += 1
            self.sales_total += total
            self.tips += doc["tip"]
            self.sales_lines += sum(ln["amount"] for ln in doc["lines"])

    @property
    def net(self):
        return self.sales_total - self.refunds_total


def totals(plan, merchants=None):
    """Totals of the whole plan (or of the merchant indexes given) without touching a database."""
    t = Totals()
    for i in (range(plan.merchants) if merchants is None else merchants):
        for _, doc in merchant_sales(plan, i):
            t.add(doc)
    return t


def seeded_merchants(db, operator_id):
    return db.scalar(select(func.count(Merchant.id)).where(Merchant.operator_id == operator_id,
                                                           Merchant.name.like(PREFIX + "%")))


@dataclasses.dataclass
class Report:
    merchants: int
    stores: int
    terminals: int
    totals: Totals
    seconds: float
    owners: list            # usernames, first to last

    @property
    def rate(self):
        return (self.totals.sales + self.totals.refunds) / self.seconds if self.seconds else 0.0


def load(sessionmaker, operator_id, plan, progress=None, jobs=1):
    """Write the plan into the database under the operator; refuses a database that already holds
    seeded merchants.  `progress(done, expected, per_second)` is called as merchants are done.
    `jobs` > 1 books the merchants in that many processes at once (each its own connection; a
    merchant's data does not depend on the others, so the result is the same but for the order
    of the merchants' ids)."""
    plan = dataclasses.replace(plan.check(), end=plan.last_day)    # one last day for every process
    if not 1 <= jobs <= 64:
        raise SeedError("--jobs must be 1..64")
    if jobs > 1 and sessionmaker.kw["bind"].dialect.name != "postgresql":
        raise SeedError("--jobs above 1 is for PostgreSQL: SQLite takes one writer at a time")
    with sessionmaker() as db:
        already = seeded_merchants(db, operator_id)
    if already:
        raise SeedError("this database already holds %d seeded merchants (named %r...): seed into an empty data "
                        "folder or database, or give --database-url / --data for another" % (already, PREFIX))
    owner_hash = passwords.hash_password(owner_password(plan.seed))
    expected = plan.expected_sales()
    t0 = time.monotonic()
    grand = Totals()
    made = [0, 0, 0]                    # transactions, stores, terminals
    every = max(1, plan.merchants // 20)

    def took(part):
        for k, v in enumerate(part[1:]):
            made[k] += v
        for f in dataclasses.fields(Totals):
            setattr(grand, f.name, getattr(grand, f.name) + getattr(part[0], f.name))

    if jobs == 1:
        with acting_as("system:seed", operator_id):
            for index in range(plan.merchants):
                took(_load_merchant(sessionmaker, operator_id, plan, index, owner_hash))
                if progress and (index + 1 == plan.merchants or (index + 1) % every == 0):
                    progress(made[0], expected, made[0] / (time.monotonic() - t0))
    else:
        url = sessionmaker.kw["bind"].url.render_as_string(hide_password=False)
        chunks = [list(range(k, min(k + every, plan.merchants))) for k in range(0, plan.merchants, every)]
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for part in pool.map(_load_part, [(url, operator_id, plan, c, owner_hash) for c in chunks]):
                took(part)
                if progress:
                    progress(made[0], expected, made[0] / (time.monotonic() - t0))
    return Report(merchants=plan.merchants, stores=made[1], terminals=made[2], totals=grand,
                  seconds=time.monotonic() - t0, owners=[merchant_shape(plan, i).owner for i in range(plan.merchants)])


def _load_part(task):
    """A worker process's share of load(jobs > 1): merchants `indexes`, on its own connection."""
    url, operator_id, plan, indexes, owner_hash = task
    engine = make_engine(url)
    try:
        sessionmaker = orm.sessionmaker(engine, expire_on_commit=False)
        out = [Totals(), 0, 0, 0]
        with acting_as("system:seed", operator_id):
            for index in indexes:
                part = _load_merchant(sessionmaker, operator_id, plan, index, owner_hash)
                for f in dataclasses.fields(Totals):
                    setattr(out[0], f.name, getattr(out[0], f.name) + getattr(part[0], f.name))
                for k in (1, 2, 3):
                    out[k] += part[k]
        return tuple(out)
    finally:
        engine.dispose()


def _load_merchant(sessionmaker, operator_id, plan, index, owner_hash):
    """Book merchant `index` of the plan, a commit every BATCH sales: (Totals, transactions,
    stores, terminals)."""
    shape = merchant_shape(plan, index)
    grand = Totals()
    done = 0
    with sessionmaker() as db:
        m = Merchant(operator_id=operator_id, name=shape.name, mid="%015d" % (index + 1), currency="978")
        db.add(m)
        db.flush()
        stores = []
        for name, zone in shape.stores:
            s = Store(merchant_id=m.id, name=name, timezone=zone, address="%s, %s" % (name, zone))
            db.add(s)
            stores.append(s)
        db.flush()
        terminals = {}
        for cid, k in shape.terminals:
            t = Terminal(operator_id=operator_id, store_id=stores[k].id, controller_id=cid, serial=cid,
                         model="smartpos-seed", tid=("%08d" % (index * 100 + len(terminals) + 1))[-8:],
                         state="enrolled", target_token_hash=digest(terminal_token(plan.seed, cid)),
                         enrolled_at=datetime.datetime.combine(plan.first_day, datetime.time()),
                         attributes_requested=False)
            db.add(t)
            terminals[cid] = t
        db.add(Account(username=shape.owner, display_name="Owner of %s" % shape.name, role=MERCHANT_OWNER,
                       operator_id=operator_id, merchant_id=m.id, password_hash=owner_hash))
        db.flush()
        by_store = {}
        for cid, doc in merchant_sales(plan, index, shape):
            t = terminals[cid]
            sale_in = SaleIn.model_validate(doc)
            received = sale_in.terminal_time.astimezone(datetime.timezone.utc).replace(tzinfo=None) \
                + datetime.timedelta(seconds=2)
            batch = by_store.setdefault(t.store_id, [])
            batch.append((t, sale_in, received))
            grand.add(doc)
            if len(batch) >= BATCH:
                done += book_batch(db, stores[[s.id for s in stores].index(t.store_id)], m, batch)
                batch.clear()
                db.commit()
        for sid, batch in by_store.items():
            done += book_batch(db, next(s for s in stores if s.id == sid), m, batch)
        db.commit()
    return grand, done, len(stores), len(terminals)
