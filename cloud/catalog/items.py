"""The merchant's items and categories, and the catalog version every change takes
(docs/stock.md, "Catalog").

    summary = items.upsert(db, merchant, [row, ...], by)     # one version for the whole change
    summary = items.import_csv(db, merchant, text, by)       # CatalogInputError: nothing stored

A row is checked whole before anything is written: every problem of every row is reported
(row number, column, what is wrong) and nothing of a refused change is stored.  Only a change
the terminal would see (key, SKU, names, price, tax, unit, category, PLU, active) takes a new
version; a price list imported twice changes nothing the second time.
"""
import csv
import decimal
import io

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cloud.catalog import barcode
from cloud.catalog.models import CatalogHead, CatalogTombstone, Category, Item
from cloud.db import utcnow

UNITS = ("piece", "kg")
COLUMNS = ("sku", "barcode", "name", "name_zh", "price", "tax", "unit", "category", "plu", "reorder_level")
REQUIRED = ("sku", "barcode", "name", "price")
SEEN_BY_TERMINAL = ("key", "sku", "name", "name_zh", "price", "tax", "unit", "category_id", "plu", "active")
MAX_ROWS = 50_000
PRICE_MAX = 2**31 - 1               # the terminal's record holds an i32


class CatalogInputError(ValueError):
    """A change refused whole; `problems` is [(row or None, column, message)]."""

    def __init__(self, problems):
        self.problems = problems
        first = problems[0]
        super().__init__("%d problem%s; first: %s%s: %s" % (
            len(problems), "" if len(problems) == 1 else "s",
            "row %d, " % first[0] if first[0] is not None else "", first[1], first[2]))

    def detail(self):
        return [{"row": r, "column": c, "msg": m} for r, c, m in self.problems]


def head(db, merchant_id):
    """The merchant's catalog head, its row locked until the commit (catalog writes of one
    merchant go one at a time)."""
    locked = select(CatalogHead).where(CatalogHead.merchant_id == merchant_id).with_for_update()
    h = db.scalar(locked)
    if h is None:
        try:
            with db.begin_nested():         # the merchant's first change: made once, whoever comes second waits
                db.add(CatalogHead(merchant_id=merchant_id, version=0, floor=0))
        except IntegrityError:
            pass
        h = db.scalar(locked)
    return h


def current_version(db, merchant_id):
    h = db.get(CatalogHead, merchant_id)
    return (h.version, h.floor) if h is not None else (0, 0)


def _text(raw, col, n, problems, row, required=False):
    v = (raw.get(col) or "").strip()
    if required and not v:
        problems.append((row, col, "required"))
    elif len(v) > n:
        problems.append((row, col, "longer than %d characters" % n))
    return v


def _int(raw, col, lo, hi, problems, row, default=0):
    v = raw.get(col)
    if v is None or str(v).strip() == "":
        return default
    try:
        n = int(str(v).strip())
    except ValueError:
        problems.append((row, col, "%r is not a whole number" % str(v)[:20]))
        return default
    if not lo <= n <= hi:
        problems.append((row, col, "%d is outside %d-%d" % (n, lo, hi)))
    return n


def price_minor(text, exponent):
    """'12.50' in a 2-decimal currency -> 1250; ValueError with the reason."""
    try:
        d = decimal.Decimal(str(text).strip())
    except decimal.InvalidOperation:
        raise ValueError("%r is not an amount" % str(text)[:20])
    if not d.is_finite() or d < 0:
        raise ValueError("%r is not an amount of 0 or more" % str(text)[:20])
    minor = d.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError("%s has more than %d decimals" % (text, exponent))
    if minor > PRICE_MAX:
        raise ValueError("%s is more than a terminal can price" % text)
    return int(minor)


def check_row(raw, row, exponent, price_is_minor=False):
    """The fields of one item row (text values, as a CSV gives them), and its problems."""
    problems = []
    f = {"sku": _text(raw, "sku", 12, problems, row, True),
         "name": _text(raw, "name", 60, problems, row, True),
         "name_zh": _text(raw, "name_zh", 60, problems, row),
         "barcode": (raw.get("barcode") or "").strip()}
    if f["sku"] and not f["sku"].isascii():
        problems.append((row, "sku", "letters, digits and ASCII signs only"))
    try:
        f["key"] = barcode.key(f["barcode"])
    except barcode.BarcodeError as e:
        problems.append((row, "barcode", str(e)))
    p = raw.get("price")
    if p is None or str(p).strip() == "":
        problems.append((row, "price", "required"))
    elif price_is_minor:
        f["price"] = _int(raw, "price", 0, PRICE_MAX, problems, row)
    else:
        try:
            f["price"] = price_minor(p, exponent)
        except ValueError as e:
            problems.append((row, "price", str(e)))
    f["tax"] = _int(raw, "tax", 0, 255, problems, row)
    f["plu"] = _int(raw, "plu", 0, 65535, problems, row)
    f["reorder_level"] = _int(raw, "reorder_level", 0, 10**12, problems, row)
    f["unit"] = (raw.get("unit") or "piece").strip() or "piece"
    if f["unit"] not in UNITS:
        problems.append((row, "unit", "%r is not piece or kg" % f["unit"][:10]))
    f["category"] = _text(raw, "category", 40, problems, row)
    return f, problems


def _category_codes(db, merchant_id, names, by_name):
    """Categories named in a change and not known yet, made with the next free codes."""
    used = {c.code for c in by_name.values()}
    out = []
    for name in names:
        if name and name not in by_name:
            code = next((c for c in range(1, 256) if c not in used), None)
            if code is None:
                raise CatalogInputError([(None, "category", "a merchant has at most 255 categories")])
            c = Category(merchant_id=merchant_id, code=code, name=name)
            db.add(c)
            used.add(code)
            by_name[name] = c
            out.append(c)
    if out:
        db.flush()
    return out


def upsert(db, merchant, rows, row_numbers=None):
    """Create or change items by SKU from checked rows (check_row's fields); refused whole with
    CatalogInputError when the result would hold a barcode key or PLU key twice.  Flushed, not
    committed.  Returns {version, created, changed, unchanged}."""
    h = head(db, merchant.id)
    numbers = row_numbers or list(range(1, len(rows) + 1))
    existing = {i.sku: i for i in db.scalars(select(Item).where(Item.merchant_id == merchant.id))}
    by_name = {c.name: c for c in db.scalars(select(Category).where(Category.merchant_id == merchant.id))}
    problems = []
    seen_sku = {}
    for n, r in zip(numbers, rows):
        if r["sku"] in seen_sku:
            problems.append((n, "sku", "%s also on row %d" % (r["sku"], seen_sku[r["sku"]])))
        seen_sku[r["sku"]] = n
    # the catalog after the change: every key and PLU once among the active items
    final = {sku: (i.key, i.plu, None) for sku, i in existing.items() if i.active}
    for n, r in zip(numbers, rows):
        final[r["sku"]] = (r["key"], r["plu"], n)
    for what, pos in (("barcode", 0), ("plu", 1)):
        owner = {}
        for sku, vals in sorted(final.items(), key=lambda kv: (kv[1][2] is not None, kv[1][2] or 0)):
            v = vals[pos]
            if pos == 1 and not v:
                continue
            if v in owner:
                problems.append((vals[2], what, "%s %s is also item %s's" % (
                    "barcode key" if pos == 0 else "PLU key", v, owner[v])))
            else:
                owner[v] = sku
    if problems:
        raise CatalogInputError(problems)
    _category_codes(db, merchant.id, [r["category"] for r in rows], by_name)
    version = h.version + 1
    created = changed = unchanged = 0
    now = utcnow()
    for r in rows:
        cat = by_name.get(r["category"]) if r["category"] else None
        values = {"key": r["key"], "sku": r["sku"], "barcode": r["barcode"], "name": r["name"],
                  "name_zh": r["name_zh"], "price": r["price"], "tax": r["tax"], "unit": r["unit"],
                  "category_id": cat.id if cat else None, "plu": r["plu"], "active": True,
                  "reorder_level": r["reorder_level"]}
        item = existing.get(r["sku"])
        if item is None:
            db.add(Item(merchant_id=merchant.id, version=version, updated_at=now, **values))
            created += 1
            continue
        seen = any(getattr(item, k) != values[k] for k in SEEN_BY_TERMINAL)
        if seen and item.active and item.key != values["key"]:
            db.add(CatalogTombstone(merchant_id=merchant.id, key=item.key, version=version))
        if seen or item.barcode != values["barcode"] or item.reorder_level != values["reorder_level"]:
            for k, v in values.items():
                setattr(item, k, v)
            item.updated_at = now
        if seen:
            item.version = version
            changed += 1
        else:
            unchanged += 1
    if created or changed:
        h.version = version
    db.flush()
    return {"version": h.version, "created": created, "changed": changed, "unchanged": unchanged}


def import_csv(db, merchant, text, exponent):
    """A price list (CSV with a header row naming COLUMNS; price in the currency's decimal
    units, e.g. 12.50) imported whole or not at all: CatalogInputError lists every problem."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise CatalogInputError([(1, c, "column missing") for c in missing]
                                + [(1, c, "unknown column (known: %s)" % ", ".join(COLUMNS)) for c in unknown])
    reader.fieldnames = header
    rows, numbers, problems = [], [], []
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            raise CatalogInputError([(n, "", "more than %d rows: split the list" % MAX_ROWS)])
        if None in raw:
            problems.append((n, "", "more values than columns"))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue
        f, p = check_row(raw, n, exponent)
        problems.extend(p)
        rows.append(f)
        numbers.append(n)
    if problems:
        raise CatalogInputError(problems)
    if not rows:
        raise CatalogInputError([(None, "", "no item rows in the file")])
    return upsert(db, merchant, rows, numbers)


def deactivate(db, merchant, item):
    """Take an item out of the catalog (its stock history stays): a new version, a tombstone."""
    h = head(db, merchant.id)
    if not item.active:
        return h.version
    h.version += 1
    db.add(CatalogTombstone(merchant_id=merchant.id, key=item.key, version=h.version))
    item.active = False
    item.version = h.version
    item.updated_at = utcnow()
    db.flush()
    return h.version


def forget_before(db, merchant_id, version):
    """Let go of tombstones older than `version`: a terminal below it gets a full snapshot."""
    h = head(db, merchant_id)
    version = min(version, h.version)
    db.execute(CatalogTombstone.__table__.delete().where(CatalogTombstone.merchant_id == merchant_id,
                                                         CatalogTombstone.version <= version))
    h.floor = max(h.floor, version)
    db.flush()
    return h.floor


def add_category(db, merchant, name, name_zh=""):
    by_name = {c.name: c for c in db.scalars(select(Category).where(Category.merchant_id == merchant.id))}
    if name in by_name:
        raise CatalogInputError([(None, "name", "category %r exists" % name)])
    c = _category_codes(db, merchant.id, [name], by_name)[0]
    c.name_zh = name_zh
    db.flush()
    return c


