"""/api/v1: the merchant's catalog (items, categories, price-list import) and each store's stock
(levels, movements, adjustments, purchase orders and receiving, stock takes, low stock).
docs/stock.md has the rules.

Merchant roles see their own merchant only, operator roles every merchant of their operator;
anything outside the caller's tenancy answers 404.  Quantities are base units (pieces; grams
for kg items); prices and costs minor units.
"""
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.audit.recorder import record
from cloud.catalog import barcode, feed, items as catalog, purchasing, stocktake
from cloud.catalog.ledger import Ledger, StockError
from cloud.catalog.models import (Category, Item, PurchaseOrder, StockAlert, StockLevel, StockMovement, StockTake)
from cloud.currency import currency
from cloud.deps import AUTHED, IdPath, Input, commit, not_found, principal, problems, require, session
from cloud.tenants.models import Merchant, Store, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["catalog and stock"])

QTY_MAX = 10**9


def merchant_of(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


def store_of(db, who, store_id):
    s = db.get(Store, store_id)
    if not who.sees_store(s):
        raise not_found("store %d" % store_id)
    return s


def exponent(merchant):
    c = currency(merchant.currency)
    return c.exponent if c else 2


def refused(e):
    return HTTPException(status_code=422, detail=e.detail())


def conflict(e):
    return HTTPException(status_code=409, detail=str(e))


def item_out(i, exp=2):
    return {"id": i.id, "sku": i.sku, "barcode": i.barcode, "key": i.key, "name": i.name, "name_zh": i.name_zh,
            "price": i.price, "tax": i.tax, "unit": i.unit, "category": i.category.name if i.category else "",
            "plu": i.plu, "reorder_level": i.reorder_level, "active": i.active, "version": i.version}


class ItemIn(Input):
    sku: str = Field(min_length=1, max_length=12, pattern=r"^[!-~]{1,12}$")
    barcode: str = Field(pattern=r"^([0-9]{8}|[0-9]{12,13})$", description="EAN-13, EAN-8 or UPC-A with its GS1 "
                         "check digit")
    name: str = Field(min_length=1, max_length=60)
    name_zh: str = Field("", max_length=60)
    price: int = Field(ge=0, le=catalog.PRICE_MAX, description="minor units; per kg for kg items")
    tax: int = Field(0, ge=0, le=255, description="tax category of the terminal's tax table")
    unit: Literal["piece", "kg"] = "piece"
    category: str = Field("", max_length=40)
    plu: int = Field(0, ge=0, le=65535)
    reorder_level: int = Field(0, ge=0, le=10**12, description="base units; at or below it: low stock")


class CategoryIn(Input):
    name: str = Field(min_length=1, max_length=40)
    name_zh: str = Field("", max_length=40)


@router.get("/merchants/{merchant_id}/catalog")
def catalog_state(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    """The catalog's version (what a terminal catches up to), the oldest a delta starts from, counts."""
    m = merchant_of(db, who, merchant_id)
    version, floor = catalog.current_version(db, m.id)
    n = db.query(Item).filter(Item.merchant_id == m.id, Item.active.is_(True)).count()
    return {"version": version, "floor": floor, "items": n}


@router.get("/merchants/{merchant_id}/catalog/items")
def list_items(merchant_id: IdPath, q: str = Query("", max_length=60), inactive: bool = False,
               limit: int = Query(500, ge=1, le=5000), db: Session = Depends(session),
               who: Principal = Depends(principal)) -> list[dict]:
    """Items by SKU; `q` matches SKU, barcode or name."""
    m = merchant_of(db, who, merchant_id)
    sel = select(Item).where(Item.merchant_id == m.id)
    if not inactive:
        sel = sel.where(Item.active.is_(True))
    if q:
        like = "%" + q.replace("%", "").replace("_", "") + "%"
        sel = sel.where(Item.sku.ilike(like) | Item.barcode.ilike(like) | Item.name.ilike(like))
    return [item_out(i) for i in db.scalars(sel.order_by(Item.sku).limit(limit))]


@router.post("/merchants/{merchant_id}/catalog/items", status_code=201,
             responses={409: {"description": "a barcode or PLU key another item has"},
                        422: {"description": "refused: a field (a barcode's check digit)"}})
def put_item(merchant_id: IdPath, body: ItemIn, db: Session = Depends(session),
             who: Principal = Depends(principal)) -> dict:
    """Create an item, or change the one with this SKU (it becomes active again if it was not)."""
    m = merchant_of(db, who, merchant_id)
    require(who, "catalog:write")
    raw = {k: str(v) for k, v in body.model_dump().items()}
    f, problems = catalog.check_row(raw, 1, exponent(m), price_is_minor=True)
    if problems:
        raise refused(catalog.CatalogInputError(problems))
    try:
        summary = catalog.upsert(db, m, [f])
    except catalog.CatalogInputError as e:      # a barcode or PLU key another item holds
        raise HTTPException(status_code=409, detail="; ".join(msg for _, _, msg in e.problems))
    item = db.scalar(select(Item).where(Item.merchant_id == m.id, Item.sku == body.sku))
    record(db, "catalog_item", "catalog_items", item.id, {"sku": item.sku, "version": summary["version"]})
    commit(db)
    return dict(item_out(item), catalog_version=summary["version"])


@router.delete("/merchants/{merchant_id}/catalog/items/{sku}")
def remove_item(merchant_id: IdPath, sku: str, db: Session = Depends(session),
                who: Principal = Depends(principal)) -> dict:
    """Take an item out of the catalog (terminals drop it at their next update; its stock
    history stays)."""
    m = merchant_of(db, who, merchant_id)
    require(who, "catalog:write")
    item = db.scalar(select(Item).where(Item.merchant_id == m.id, Item.sku == sku))
    if item is None:
        raise not_found("item %s" % sku[:12])
    v = catalog.deactivate(db, m, item)
    record(db, "catalog_item_removed", "catalog_items", item.id, {"sku": item.sku, "version": v})
    commit(db)
    return {"sku": item.sku, "active": False, "catalog_version": v}


@router.get("/merchants/{merchant_id}/catalog/categories")
def list_categories(merchant_id: IdPath, db: Session = Depends(session),
                    who: Principal = Depends(principal)) -> list[dict]:
    m = merchant_of(db, who, merchant_id)
    return [{"id": c.id, "code": c.code, "name": c.name, "name_zh": c.name_zh}
            for c in db.scalars(select(Category).where(Category.merchant_id == m.id).order_by(Category.code))]


@router.post("/merchants/{merchant_id}/catalog/categories", status_code=201)
def add_category(merchant_id: IdPath, body: CategoryIn, db: Session = Depends(session),
                 who: Principal = Depends(principal)) -> dict:
    """A category; its code (1-255) is the byte a terminal's item record carries."""
    m = merchant_of(db, who, merchant_id)
    require(who, "catalog:write")
    catalog.head(db, m.id)
    try:
        c = catalog.add_category(db, m, body.name, body.name_zh)
    except catalog.CatalogInputError as e:
        raise HTTPException(status_code=409, detail=e.problems[0][2])
    commit(db, "category %r exists" % body.name)
    return {"id": c.id, "code": c.code, "name": c.name, "name_zh": c.name_zh}


@router.post("/merchants/{merchant_id}/catalog/import",
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
             responses={422: {"description": "refused whole: every problem with its row and column"}})
async def import_price_list(merchant_id: IdPath, request: Request, db: Session = Depends(session),
                            who: Principal = Depends(principal)) -> dict:
    """A price list as CSV (header: sku, barcode, name, price required; name_zh, tax, unit,
    category, plu, reorder_level optional; price in the currency's decimal units): created or
    changed by SKU, all in one catalog version, or nothing at all when any row is wrong."""
    raw = await request.body()
    return _import(db, who, merchant_id, raw)


def _import(db, who, merchant_id, raw):
    m = merchant_of(db, who, merchant_id)
    require(who, "catalog:write")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(status_code=422, detail=[{"row": None, "column": "", "msg": "the file is not UTF-8 text"}])
    if "\x00" in text:
        raise HTTPException(status_code=422, detail=[{"row": None, "column": "", "msg": "the file holds NUL bytes"}])
    try:
        summary = catalog.import_csv(db, m, text, exponent(m))
    except catalog.CatalogInputError as e:
        db.rollback()
        raise refused(e)
    record(db, "catalog_import", "merchants", m.id, summary)
    commit(db)
    return summary


# ---- stock ----

SKU = r"^[!-~]{1,12}$"


class StockRef(Input):
    sku: str = Field("", max_length=12, pattern=r"^[!-~]{0,12}$")
    barcode: str = Field("", pattern=r"^([0-9]{8}|[0-9]{12,13})?$",
                         description="a scanned EAN-13, EAN-8 or UPC-A instead of the SKU")
    qty: int = Field(ge=-QTY_MAX, le=QTY_MAX, description="base units")


def resolve(db, merchant_id, ref):
    """The item a line names by SKU or by a scanned barcode; StockError otherwise."""
    if ref.sku:
        item = db.scalar(select(Item).where(Item.merchant_id == merchant_id, Item.sku == ref.sku))
        if item is None:
            raise StockError("no item with SKU %s" % ref.sku)
        return item
    if not ref.barcode:
        raise StockError("a line names its item by sku or barcode")
    try:
        key = barcode.key(ref.barcode)
    except barcode.BarcodeError as e:
        raise StockError(str(e))
    item = db.scalar(select(Item).where(Item.merchant_id == merchant_id, Item.key == key, Item.active.is_(True)))
    if item is None:
        raise StockError("barcode %s is no item of this merchant" % ref.barcode)
    return item


def resolve_all(db, merchant_id, lines):
    """[(item, qty)] of lines naming items by SKU or barcode; 404 naming every line whose item
    is not the merchant's (a barcode with a wrong check digit names none)."""
    out, missing = [], []
    for i, ln in enumerate(lines):
        try:
            out.append((resolve(db, merchant_id, ln), ln.qty))
        except StockError as e:
            missing.append("line %d: %s" % (i + 1, e))
    if missing:
        raise HTTPException(status_code=404, detail="; ".join(missing[:20]))
    return out


def level_out(lv, item):
    low = item.reorder_level > 0 and lv.on_hand <= item.reorder_level
    return {"sku": item.sku, "name": item.name, "unit": item.unit, "on_hand": lv.on_hand,
            "reorder_level": item.reorder_level, "low": low, "active": item.active}


@router.get("/stores/{store_id}/stock")
def stock_levels(store_id: IdPath, low: bool = False, db: Session = Depends(session),
                 who: Principal = Depends(principal)) -> list[dict]:
    """Every item's level in the store (items never moved show 0), or only the low ones."""
    s = store_of(db, who, store_id)
    levels = {lv.item_id: lv for lv in db.scalars(select(StockLevel).where(StockLevel.store_id == s.id))}
    out = []
    for item in db.scalars(select(Item).where(Item.merchant_id == s.merchant_id).order_by(Item.sku)):
        lv = levels.get(item.id) or StockLevel(on_hand=0)
        if not item.active and not lv.on_hand:
            continue
        row = level_out(lv, item)
        if not low or row["low"]:
            out.append(row)
    return out


@router.get("/stores/{store_id}/stock/movements")
def stock_movements(store_id: IdPath, sku: str = Query("", max_length=12), limit: int = Query(100, ge=1, le=1000),
                    db: Session = Depends(session), who: Principal = Depends(principal)) -> list[dict]:
    s = store_of(db, who, store_id)
    sel = select(StockMovement).where(StockMovement.store_id == s.id)
    if sku:
        sel = sel.join(Item, Item.id == StockMovement.item_id).where(Item.sku == sku)
    return [{"id": mv.id, "at": mv.at.isoformat() + "Z", "sku": mv.item.sku, "kind": mv.kind, "qty": mv.qty,
             "on_hand_after": mv.on_hand_after, "ref": mv.ref, "note": mv.note, "by": mv.by}
            for mv in db.scalars(sel.order_by(StockMovement.id.desc()).limit(limit))]


@router.get("/stores/{store_id}/stock/alerts")
def stock_alerts(store_id: IdPath, open_only: bool = True, db: Session = Depends(session),
                 who: Principal = Depends(principal)) -> list[dict]:
    """Low-stock alerts: raised when a level fell to its item's reorder level, cleared when it
    rose above."""
    s = store_of(db, who, store_id)
    sel = select(StockAlert).where(StockAlert.store_id == s.id)
    if open_only:
        sel = sel.where(StockAlert.cleared_at.is_(None))
    return [{"id": a.id, "sku": a.item.sku, "name": a.item.name, "on_hand": a.on_hand,
             "reorder_level": a.reorder_level, "raised_at": a.raised_at.isoformat() + "Z",
             "cleared_at": a.cleared_at.isoformat() + "Z" if a.cleared_at else None}
            for a in db.scalars(sel.order_by(StockAlert.id.desc()).limit(500))]


class AdjustmentIn(StockRef):
    note: str = Field(min_length=1, max_length=120, description="why: breakage, theft, found")


@router.post("/stores/{store_id}/stock/adjustments", status_code=201)
def adjust(store_id: IdPath, body: AdjustmentIn, db: Session = Depends(session),
           who: Principal = Depends(principal)) -> dict:
    s = store_of(db, who, store_id)
    require(who, "stock:adjust")
    if body.qty == 0:
        raise HTTPException(status_code=409, detail="an adjustment of 0 changes nothing: nothing booked")
    (item, qty), = resolve_all(db, s.merchant_id, [body])
    mv = Ledger(db, s).move(item, "adjustment", qty, note=body.note, by=who.label)
    commit(db)
    return {"sku": item.sku, "qty": mv.qty, "on_hand": mv.on_hand_after}


class OrderLineIn(Input):
    sku: str = Field(min_length=1, max_length=12, pattern=SKU)
    qty: int = Field(ge=1, le=QTY_MAX)
    unit_cost: int = Field(0, ge=0, le=10**12)


class OrderIn(Input):
    supplier: str = Field(min_length=1, max_length=120)
    note: str = Field("", max_length=200)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)


class ReceiptIn(Input):
    ref: str = Field(min_length=1, max_length=40, description="the receiver's reference: a re-sent one counts once")
    lines: list[StockRef] = Field(min_length=1, max_length=1000)


def order_out(po):
    return {"id": po.id, "store_id": po.store_id, "supplier": po.supplier, "state": po.state, "note": po.note,
            "created_at": po.created_at.isoformat() + "Z", "created_by": po.created_by,
            "lines": [{"sku": ln.item.sku, "name": ln.item.name, "qty_ordered": ln.qty_ordered,
                       "qty_received": ln.qty_received, "unit_cost": ln.unit_cost} for ln in po.lines]}


def order_of(db, who, order_id):
    po = db.get(PurchaseOrder, order_id)
    if po is None or not who.sees_store(db.get(Store, po.store_id)):
        raise not_found("purchase order %d" % order_id)
    return po


@router.post("/stores/{store_id}/purchase-orders", status_code=201)
def create_order(store_id: IdPath, body: OrderIn, db: Session = Depends(session),
                 who: Principal = Depends(principal)) -> dict:
    s = store_of(db, who, store_id)
    require(who, "stock:adjust")
    items = resolve_all(db, s.merchant_id, [StockRef(sku=ln.sku, qty=ln.qty) for ln in body.lines])
    try:
        po = purchasing.order(db, s, body.supplier, [(it, ln.qty, ln.unit_cost) for (it, _), ln
                                                     in zip(items, body.lines)], who.label, body.note)
    except StockError as e:
        raise conflict(e)
    commit(db)
    db.refresh(po)
    return order_out(po)


@router.get("/stores/{store_id}/purchase-orders")
def list_orders(store_id: IdPath, state: Optional[Literal["open", "received", "cancelled"]] = None,
                db: Session = Depends(session), who: Principal = Depends(principal)) -> list[dict]:
    s = store_of(db, who, store_id)
    sel = select(PurchaseOrder).where(PurchaseOrder.store_id == s.id)
    if state:
        sel = sel.where(PurchaseOrder.state == state)
    return [order_out(po) for po in db.scalars(sel.order_by(PurchaseOrder.id.desc()).limit(200))]


@router.get("/purchase-orders/{order_id}")
def get_order(order_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    return order_out(order_of(db, who, order_id))


@router.post("/purchase-orders/{order_id}/receipts", status_code=201,
             responses={200: {"description": "this ref was booked before: nothing booked again"}})
def receive(order_id: IdPath, body: ReceiptIn, db: Session = Depends(session),
            who: Principal = Depends(principal)):
    """Book a delivery against the order (by SKU or scanned barcode); all of it or nothing."""
    po = order_of(db, who, order_id)
    require(who, "stock:write")
    lines = resolve_all(db, po.merchant_id, body.lines)
    try:
        receipt, repeated = purchasing.receive(db, po, body.ref, lines, who.label)
    except StockError as e:
        db.rollback()
        raise conflict(e)
    commit(db, "this delivery met another booked at the same time: send it again")
    db.refresh(po)
    out = dict(order_out(po), receipt={"id": receipt.id, "ref": receipt.ref, "repeated": repeated})
    return JSONResponse(out, status_code=200 if repeated else 201)


@router.post("/purchase-orders/{order_id}/cancel")
def cancel_order(order_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    po = order_of(db, who, order_id)
    require(who, "stock:adjust")
    try:
        purchasing.cancel(db, po)
    except StockError as e:
        raise conflict(e)
    commit(db)
    return order_out(po)


class CountIn(Input):
    mode: Literal["add", "set"] = Field("add", description="add: each scan adds; set: the count replaces")
    lines: list[StockRef] = Field(min_length=1, max_length=1000)


def take_out(t):
    return {"id": t.id, "store_id": t.store_id, "state": t.state, "note": t.note,
            "created_at": t.created_at.isoformat() + "Z", "closed_at": t.closed_at.isoformat() + "Z"
            if t.closed_at else None,
            "lines": [{"sku": ln.item.sku, "name": ln.item.name, "counted": ln.counted, "expected": ln.expected,
                       "variance": ln.variance} for ln in t.lines]}


def take_of(db, who, take_id):
    t = db.get(StockTake, take_id)
    if t is None or not who.sees_store(db.get(Store, t.store_id)):
        raise not_found("stock take %d" % take_id)
    return t


class TakeIn(Input):
    note: str = Field("", max_length=200)


@router.post("/stores/{store_id}/stock-takes", status_code=201)
def start_take(store_id: IdPath, body: TakeIn, db: Session = Depends(session),
               who: Principal = Depends(principal)) -> dict:
    s = store_of(db, who, store_id)
    require(who, "stock:write")
    try:
        t = stocktake.open_take(db, s, who.label, body.note)
    except StockError as e:
        raise conflict(e)
    commit(db)
    return take_out(t)


@router.get("/stores/{store_id}/stock-takes")
def list_takes(store_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> list[dict]:
    s = store_of(db, who, store_id)
    return [take_out(t) for t in db.scalars(select(StockTake).where(StockTake.store_id == s.id)
                                            .order_by(StockTake.id.desc()).limit(100))]


@router.get("/stock-takes/{take_id}")
def get_take(take_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    return take_out(take_of(db, who, take_id))


@router.post("/stock-takes/{take_id}/counts")
def add_counts(take_id: IdPath, body: CountIn, db: Session = Depends(session),
               who: Principal = Depends(principal)) -> dict:
    t = take_of(db, who, take_id)
    require(who, "stock:write")
    lines = resolve_all(db, t.merchant_id, body.lines)
    try:
        stocktake.count(db, t, lines, body.mode)
    except StockError as e:
        db.rollback()
        raise conflict(e)
    commit(db)
    return take_out(t)


@router.post("/stock-takes/{take_id}/close")
def close_take(take_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    """Set each counted item's stock to its count; the variance is counted - on hand at close."""
    t = take_of(db, who, take_id)
    require(who, "stock:adjust")
    try:
        stocktake.close(db, t, who.label)
    except StockError as e:
        raise conflict(e)
    commit(db)
    return take_out(t)


@router.post("/stock-takes/{take_id}/cancel")
def cancel_take(take_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    t = take_of(db, who, take_id)
    require(who, "stock:write")
    try:
        stocktake.cancel(db, t)
    except StockError as e:
        raise conflict(e)
    commit(db)
    return take_out(t)


# ---- the terminal's catalog feed (device API) ----

device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["catalog sync (device API)"],
                   responses=problems(401, 409))


@device.get("/catalog", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                 "format": "binary"}}},
                             "description": "a delta or a snapshot (header X-Catalog)"},
                       204: {"description": "the terminal's catalog is the newest"}},
            summary="The catalog changes since the terminal's version (delta or whole snapshot)")
def catalog_feed(since: int = Query(0, ge=0, le=2**32 - 1), db: Session = Depends(session),
                 terminal: Terminal = Depends(controller)):
    if terminal.store_id is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: it has no merchant "
                            "catalog yet")
    store = db.get(Store, terminal.store_id)
    kind, version, data = feed.feed(db, store.merchant_id, since)
    headers = {"X-Catalog": kind, "X-Catalog-Version": str(version), "Cache-Control": "no-store"}
    if kind == "none":
        return Response(status_code=204, headers=headers)
    return Response(data, media_type="application/octet-stream", headers=headers)


def _placed(db, terminal):
    if terminal.store_id is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store")
    return db.get(Store, terminal.store_id)


class DeviceReceiptIn(Input):
    order_id: int = Field(ge=1, le=2**31 - 1)
    ref: str = Field(min_length=1, max_length=40, pattern=r"^[!-~]+$",
                     description="the terminal's own reference of this delivery: a re-sent one counts once")
    lines: list[StockRef] = Field(min_length=1, max_length=500)


class DeviceCountIn(Input):
    ref: str = Field(min_length=1, max_length=40, pattern=r"^[!-~]+$",
                     description="the terminal's own reference of this batch: a re-sent one counts once")
    lines: list[StockRef] = Field(min_length=1, max_length=500)
    start: bool = Field(False, description="open a stock take for the store when none is open (a count "
                        "started at the terminal); false: 409 when none is open")


@device.get("/stock/orders", summary="The purchase orders of the terminal's store still to receive, oldest first")
def device_orders(db: Session = Depends(session), terminal: Terminal = Depends(controller)) -> list:
    store = _placed(db, terminal)
    orders = db.scalars(select(PurchaseOrder).where(PurchaseOrder.store_id == store.id,
                                                    PurchaseOrder.state == "open")
                        .order_by(PurchaseOrder.id).limit(20))
    return [{"id": po.id, "supplier": po.supplier,
             "lines": [[ln.item.sku, ln.qty_ordered - ln.qty_received] for ln in po.lines
                       if ln.qty_ordered > ln.qty_received]} for po in orders]


@device.get("/stock/orders/{order_id}", summary="A purchase order of the terminal's store, to receive against")
def device_order(order_id: IdPath, db: Session = Depends(session), terminal: Terminal = Depends(controller)) -> dict:
    store = _placed(db, terminal)
    po = db.get(PurchaseOrder, order_id)
    if po is None or po.store_id != store.id:
        raise not_found("purchase order %d" % order_id)
    return order_out(po)


@device.post("/stock/receipts", status_code=201, summary="Goods scanned in against a purchase order",
             responses={200: {"description": "this ref was booked before: nothing booked again"}})
def device_receive(body: DeviceReceiptIn, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    store = _placed(db, terminal)
    po = db.get(PurchaseOrder, body.order_id)
    if po is None or po.store_id != store.id:
        raise not_found("purchase order %d" % body.order_id)
    lines = resolve_all(db, store.merchant_id, body.lines)
    try:
        receipt, repeated = purchasing.receive(db, po, body.ref, lines, "terminal:%s" % terminal.controller_id)
    except StockError as e:
        db.rollback()
        raise conflict(e)
    commit(db, "this delivery met another booked at the same time: send it again")
    db.refresh(po)
    return JSONResponse(dict(order_out(po), repeated=repeated), status_code=200 if repeated else 201)


@device.post("/stock/counts", summary="Counts scanned for the store's open stock take; the variance so far")
def device_count(body: DeviceCountIn, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    """Adds the batch to the store's open take (once per ref) and answers, for each item of the
    batch, its count so far, the stock on hand now and the variance (count - on hand)."""
    store = _placed(db, terminal)
    lines = resolve_all(db, store.merchant_id, body.lines)
    Ledger(db, store)                       # the store's lock: the take cannot close meanwhile
    take = stocktake.open_take_of(db, store.id)
    if take is None and body.start:
        take = stocktake.open_take(db, store, "terminal:%s" % terminal.controller_id, "counted at the terminal")
    if take is None:
        raise HTTPException(status_code=409, detail="no stock take is open in this store: start one in the "
                            "back office")
    try:
        _, repeated = stocktake.count_batch(db, take, body.ref, lines)
    except StockError as e:
        db.rollback()
        raise conflict(e)
    ids = {item.id for item, _ in lines}
    counted = {ln.item_id: ln.counted for ln in take.lines}
    levels = {lv.item_id: lv.on_hand for lv in db.scalars(select(StockLevel).where(
        StockLevel.store_id == store.id, StockLevel.item_id.in_(ids)))}
    out = []
    for item, _ in lines:
        if item.id in ids:
            ids.discard(item.id)
            c, on_hand = counted.get(item.id, 0), levels.get(item.id, 0)
            out.append({"sku": item.sku, "counted": c, "on_hand": on_hand, "variance": c - on_hand})
    commit(db, "this batch met another at the same time: send it again")
    return {"take_id": take.id, "repeated": repeated, "lines": out}
