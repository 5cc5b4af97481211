"""The app store (docs/app-store.md).

Developers (no account of the service: a name, a public key and an upload token):

    POST /api/v1/appstore/developers             {"name", "email", "public_key"} -> {"id", "name", "token"}
    POST /api/v1/appstore/packages               X-Developer-Token; {"package": b64, "signature": b64}

Operators (terminal:write to review, publish and push):

    GET  /api/v1/appstore/review                 packages waiting for review
    POST /api/v1/appstore/packages/{id}/publish  {"permissions": [...]}: countersigned, a software module
    POST /api/v1/appstore/packages/{id}/reject   {"reason"}
    POST /api/v1/appstore/apps/{app}/push        {"group_id", "stages", "forced"}: a rollout (cloud/tms/rollouts)
    GET  /api/v1/appstore/crashes                crash reports from terminals

Merchants and operators:

    GET  /api/v1/appstore/apps                   published apps (latest version), install counts
    GET  /api/v1/appstore/apps/{app}             one app: versions, permissions, installs, crashes
    POST /api/v1/appstore/apps/{app}/install     {"terminal_id"}: an action for one of its terminals
    GET  /store                                  the store page

Terminals (DDI TargetToken):

    GET  /{tenant}/controller/v1/{controller}/apps                    the store for the Apps menu
    POST /{tenant}/controller/v1/{controller}/apps/{app}/install      install or update from the terminal
    POST /{tenant}/controller/v1/{controller}/apps/crashes   [{"app", "version", "why", "at"}]
"""
import base64
import binascii
import hashlib
import json
import secrets
from typing import Optional

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.appstore import package
from cloud.appstore.models import AppCrash, AppPackage, Developer
from cloud.audit.recorder import act_as
from cloud.db import utcnow
from cloud.deps import AUTHED, commit, IdPath, Input, not_found, principal, problems, require, session
from cloud.tenants.models import Terminal
from cloud.tms import rollouts
from cloud.tms.ddi import controller
from cloud.tms.manage import assign
from cloud.tms.models import Action, Artifact, SoftwareModule
from cloud.tms.parameters import signers

router = APIRouter(prefix="/api/v1/appstore", responses=AUTHED, tags=["app store"])
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["app store (device API)"],
                   responses=problems(400, 401, 404, 409, 413))
page = APIRouter(tags=["app store"])

APP_ID = r"^[a-z0-9_][a-z0-9_.-]{0,31}$"
# how long the store's signature over a published version holds: terminals refuse it after
# that (TUF expiry), so a version still pushed then is published again as a new version
PUBLISHED_DAYS = 365


def refused(field, msg):
    """A well-formed request the store cannot take (a key it cannot use, a signature that does
    not hold): 409 with what is wrong with which field."""
    return HTTPException(status_code=409, detail="%s: %s" % (field, msg))


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


class DeveloperIn(Input):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_][a-z0-9_.-]{0,31}$")
    # printable ASCII around one @: explicit ranges, which every regex engine (the schema's
    # readers, the validator) reads alike; \s is Unicode whitespace in some and not in others
    email: str = Field(min_length=3, max_length=120, pattern=r"^[!-?A-~]+@[!-?A-~]+$")
    public_key: str = Field(min_length=100, max_length=4000)


class DeveloperOut(BaseModel):
    id: int
    name: str
    role: str
    token: str = ""


@router.post("/developers", response_model=DeveloperOut, status_code=201)
def register_developer(body: DeveloperIn, db: Session = Depends(session)):
    """A developer registers its public key; the token it gets back authorises its uploads
    (shown once)."""
    try:
        package.public_key(body.public_key)
    except package.PackageError as exc:
        raise refused("public_key", str(exc))
    act_as(db, "developer:%s" % body.name)
    token = secrets.token_hex(24)
    d = Developer(name=body.name, email=body.email, public_key=body.public_key, token_hash=_digest(token))
    db.add(d)
    commit(db, "developer %r exists" % body.name)
    return DeveloperOut(id=d.id, name=d.name, role=package.role_name(d.name), token=token)


def _developer(db, token):
    d = db.scalar(select(Developer).where(Developer.token_hash == _digest(token or "")))
    if d is None:
        raise HTTPException(status_code=401, detail="X-Developer-Token missing or unknown: register first")
    act_as(db, "developer:%s" % d.name)
    return d


class UploadIn(Input):
    model_config = ConfigDict(extra="forbid")
    package: str = Field(min_length=4, max_length=4 * package.MAX_PACKAGE // 3 + 8, description="the .app, base64")
    signature: str = Field(min_length=4, max_length=16000, description="the developer's metadata, base64")


class PackageOut(BaseModel):
    id: int
    app_id: str
    version: str
    developer: str
    name: dict
    permissions: list[str]
    granted: list[str]
    state: str
    reason: str
    size: int
    sha256: str
    module_id: Optional[int]


def package_out(db, p):
    m = json.loads(p.manifest)
    return PackageOut(id=p.id, app_id=p.app_id, version=p.version, developer=db.get(Developer, p.developer_id).name,
                      name=m["name"], permissions=m.get("permissions", []), granted=json.loads(p.granted),
                      state=p.state, reason=p.reason, size=len(p.package), sha256=p.sha256, module_id=p.module_id)


@router.post("/packages", response_model=PackageOut, status_code=201)
def upload(body: UploadIn, db: Session = Depends(session),
           x_developer_token: str = Header(default="")):
    """A signed package for review: refused unless the developer's registered key signed these
    bytes, and unless its version is newer than the app's published ones."""
    d = _developer(db, x_developer_token)
    try:
        raw = base64.b64decode(body.package, validate=True)
        md = base64.b64decode(body.signature, validate=True)
    except (ValueError, binascii.Error):
        raise refused("package", "package and signature must be base64")
    try:
        m = package.check_developer(raw, md, d.public_key)
    except package.PackageError as exc:
        raise refused("signature", str(exc))
    other = db.scalar(select(AppPackage).where(AppPackage.app_id == m["id"]).limit(1))
    if other is not None and other.developer_id != d.id:
        raise HTTPException(status_code=409, detail="app id %r belongs to another developer" % m["id"])
    for v in db.scalars(select(AppPackage.version).where(AppPackage.app_id == m["id"],
                                                         AppPackage.state == "published")):
        if package.version_tuple(v) >= package.version_tuple(m["version"]):
            raise HTTPException(status_code=409, detail="version %s is not newer than the published %s"
                                % (m["version"], v))
    p = AppPackage(developer_id=d.id, app_id=m["id"], version=m["version"], name_en=m["name"]["en"],
                   name_zh=m["name"].get("zh", ""), manifest=json.dumps(m, ensure_ascii=False), package=raw,
                   sha256=hashlib.sha256(raw).hexdigest(), developer_metadata=md)
    db.add(p)
    commit(db, "%s %s was uploaded already" % (m["id"], m["version"]))
    return package_out(db, p)


def _operator(who):
    require(who, "terminal:write")
    if not who.is_operator:
        raise HTTPException(status_code=403, detail="only the operator reviews and pushes apps")


@router.get("/review", response_model=list[PackageOut])
def review_queue(db: Session = Depends(session), who: Principal = Depends(principal)):
    _operator(who)
    return [package_out(db, p) for p in db.scalars(select(AppPackage).where(AppPackage.state == "submitted")
                                                   .order_by(AppPackage.id))]


class PublishIn(Input):
    model_config = ConfigDict(extra="forbid")
    permissions: list[str] = Field(default_factory=list, max_length=len(package.PERMISSIONS))


def _package(db, package_id):
    p = db.get(AppPackage, package_id)
    if p is None:
        raise not_found("package %d" % package_id)
    return p


@router.post("/packages/{package_id}/publish", response_model=PackageOut)
def publish(package_id: IdPath, body: PublishIn, request: Request, db: Session = Depends(session),
            who: Principal = Depends(principal)):
    """The review's outcome: the store countersigns the package with the permissions granted
    (refused when the package asks for more) and makes it a software module of kind "app"
    whose artifact is what terminals download."""
    _operator(who)
    p = _package(db, package_id)
    if p.state != "submitted":
        raise HTTPException(status_code=409, detail="package %d is %s" % (p.id, p.state))
    dev = db.get(Developer, p.developer_id)
    n = (db.scalar(select(func.max(AppPackage.meta_version)).where(AppPackage.app_id == p.app_id)) or 0) + 1
    try:
        files = package.countersign(p.package, dev.name, dev.public_key, p.developer_metadata, body.permissions, n,
                                    signers(request.app.state.settings), expires_days=PUBLISHED_DAYS)
    except package.PackageError as exc:
        raise HTTPException(status_code=409, detail=str(exc))
    data = package.delivery(p.package, files)
    m = SoftwareModule(operator_id=who.operator_id, kind="app", name=p.app_id, version=p.version,
                       description=("%s by %s" % (p.name_en, dev.name))[:240])
    db.add(m)
    db.flush()
    size, sha256, sha1, md5 = request.app.state.artifacts.put(data)
    db.add(Artifact(module_id=m.id, filename="%s.swu" % p.app_id, size=size, sha256=sha256, sha1=sha1, md5=md5))
    p.state, p.granted, p.module_id, p.meta_version = "published", json.dumps(sorted(body.permissions)), m.id, n
    p.operator_id, p.published_at = who.operator_id, utcnow()
    commit(db, "%s %s is a software module already" % (p.app_id, p.version))
    return package_out(db, p)


class RejectIn(Input):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=240)


@router.post("/packages/{package_id}/reject", response_model=PackageOut)
def reject(package_id: IdPath, body: RejectIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    _operator(who)
    p = _package(db, package_id)
    if p.state != "submitted":
        raise HTTPException(status_code=409, detail="package %d is %s" % (p.id, p.state))
    p.state, p.reason = "rejected", body.reason
    commit(db)
    return package_out(db, p)


class AppOut(BaseModel):
    app_id: str
    name: dict
    version: str
    developer: str
    permissions: list[str]
    size: int
    module_id: int
    installs: int
    crashes: int
    versions: list[str] = []


def _installs(db, app_id, operator_id=None):
    """Terminals on which a version of the app was installed (their actions closed in success)."""
    q = select(func.count(func.distinct(Action.terminal_id))).join(SoftwareModule, Action.module_id == SoftwareModule.id) \
        .where(SoftwareModule.kind == "app", SoftwareModule.name == app_id, Action.state == "success")
    if operator_id is not None:
        q = q.where(SoftwareModule.operator_id == operator_id)
    return db.scalar(q) or 0


def _published(db, operator_id):
    """{app id: its latest published package} of the operator's store."""
    q = select(AppPackage).where(AppPackage.state == "published", AppPackage.operator_id == operator_id)
    latest = {}
    for p in db.scalars(q.order_by(AppPackage.id)):
        if p.app_id not in latest or package.version_tuple(p.version) > package.version_tuple(latest[p.app_id].version):
            latest[p.app_id] = p
    return latest


def app_out(db, p, who, versions=()):
    m = json.loads(p.manifest)
    crashes = db.scalar(select(func.count(AppCrash.id)).join(Terminal, AppCrash.terminal_id == Terminal.id)
                        .where(AppCrash.app_id == p.app_id, Terminal.operator_id == who.operator_id)) or 0
    return AppOut(app_id=p.app_id, name=m["name"], version=p.version, developer=db.get(Developer, p.developer_id).name,
                  permissions=json.loads(p.granted), size=len(p.package), module_id=p.module_id,
                  installs=_installs(db, p.app_id, who.operator_id), crashes=crashes, versions=list(versions))


@router.get("/apps", response_model=list[AppOut])
def list_apps(db: Session = Depends(session), who: Principal = Depends(principal)):
    return [app_out(db, p, who) for _, p in sorted(_published(db, who.operator_id).items())]


def _app(db, who, app_id):
    p = _published(db, who.operator_id).get(app_id)
    if p is None:
        raise not_found("app %r" % app_id)
    return p


@router.get("/apps/{app_id}", response_model=AppOut)
def get_app(app_id: str, db: Session = Depends(session), who: Principal = Depends(principal)):
    p = _app(db, who, app_id)
    versions = db.scalars(select(AppPackage.version).where(AppPackage.app_id == app_id,
                                                           AppPackage.state == "published").order_by(AppPackage.id))
    return app_out(db, p, who, versions)


class InstallIn(Input):
    model_config = ConfigDict(extra="forbid")
    terminal_id: int = Field(ge=1, le=2**31 - 1)


class InstallOut(BaseModel):
    app_id: str
    version: str
    terminal_id: int
    action_id: int


@router.post("/apps/{app_id}/install", response_model=InstallOut, status_code=201)
def install(app_id: str, body: InstallIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    """A merchant (or the operator) installs the app's latest version on one terminal."""
    p = _app(db, who, app_id)
    t = db.get(Terminal, body.terminal_id)
    if t is None or not who.sees_terminal(t):
        raise not_found("terminal %d" % body.terminal_id)
    if t.state != "enrolled":
        raise HTTPException(status_code=409, detail="terminal %d is %s, not enrolled" % (t.id, t.state))
    a = assign(db, t, db.get(SoftwareModule, p.module_id))
    commit(db)
    return InstallOut(app_id=app_id, version=p.version, terminal_id=t.id, action_id=a.id)


class PushIn(Input):
    model_config = ConfigDict(extra="forbid")
    group_id: int = Field(ge=1, le=2**31 - 1)
    stages: list[int] = Field(default_factory=lambda: [100], min_length=1, max_length=10)
    error_threshold: int = Field(20, ge=0, le=100)
    forced: bool = False


@router.post("/apps/{app_id}/push", response_model=rollouts.RolloutOut, status_code=201)
def push(app_id: str, body: PushIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    """The operator pushes the app's latest version to a group: a rollout like a firmware's
    (stages, error threshold, deferral while a terminal is busy, force)."""
    _operator(who)
    p = _app(db, who, app_id)
    return rollouts.create_rollout(rollouts.RolloutIn(
        name="app %s %s" % (app_id, p.version), module_id=p.module_id, group_id=body.group_id, stages=body.stages,
        error_threshold=body.error_threshold, forced=body.forced), db, who)


class CrashOut(BaseModel):
    terminal_id: int
    app_id: str
    version: str
    why: str
    at: int


@router.get("/crashes", response_model=list[CrashOut])
def crashes(app_id: Optional[str] = None, db: Session = Depends(session), who: Principal = Depends(principal)):
    _operator(who)
    q = select(AppCrash).join(Terminal, AppCrash.terminal_id == Terminal.id).where(
        Terminal.operator_id == who.operator_id)
    if app_id:
        q = q.where(AppCrash.app_id == app_id)
    return [CrashOut(terminal_id=c.terminal_id, app_id=c.app_id, version=c.version, why=c.why, at=c.at)
            for c in db.scalars(q.order_by(AppCrash.id))]


class CrashIn(Input):
    model_config = ConfigDict(extra="forbid")
    app: str = Field(pattern=APP_ID)
    version: str = Field(max_length=32)
    why: str = Field(max_length=80)
    at: int = Field(ge=0, le=2**31 - 1)


@device.post("/apps/crashes", status_code=201)
def report_crashes(body: list[CrashIn], db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    """Apps the terminal's runtime stopped (raised, out of memory, held the counter)."""
    if len(body) > 64:
        raise HTTPException(status_code=413, detail="at most 64 reports at once")
    for c in body:
        db.add(AppCrash(terminal_id=terminal.id, app_id=c.app, version=c.version, why=c.why, at=c.at))
    db.commit()
    return {"stored": len(body)}


class CatalogOut(BaseModel):
    id: str
    name: dict
    version: str
    developer: str
    permissions: list[str]
    size: int


@device.get("/apps", response_model=list[CatalogOut])
def catalog(db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    """The store as the terminal's Apps menu lists it: each app's latest published version."""
    return [CatalogOut(id=p.app_id, name=json.loads(p.manifest)["name"], version=p.version,
                       developer=db.get(Developer, p.developer_id).name, permissions=json.loads(p.granted),
                       size=len(p.package)) for _, p in sorted(_published(db, terminal.operator_id).items())]


@device.post("/apps/{app_id}/install", response_model=InstallOut, status_code=201)
def install_from_terminal(app_id: str, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    """The merchant chose install (or update) in the terminal's Apps menu: an action for this
    terminal, delivered at its next poll like any other."""
    p = _published(db, terminal.operator_id).get(app_id)
    if p is None:
        raise not_found("app %r" % app_id)
    a = assign(db, terminal, db.get(SoftwareModule, p.module_id))
    db.commit()
    return InstallOut(app_id=app_id, version=p.version, terminal_id=terminal.id, action_id=a.id)


@page.get("/store", response_class=HTMLResponse, include_in_schema=False)
def store_page():
    """The store page: the published apps (read with the signed-in account's token)."""
    return HTMLResponse(STORE_PAGE)


STORE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>smartpos app store</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em}</style></head>
<body><h1>App store</h1>
<p><label>Token <input id="token" size="50"></label>
<label>Terminal id <input id="terminal" size="6"></label> <button id="load">Show apps</button></p>
<table><thead><tr><th>App</th><th>Version</th><th>Developer</th><th>Permissions</th><th>Installs</th>
<th>Crashes</th><th></th></tr></thead><tbody id="apps"></tbody></table>
<p id="status"></p>
<script>
function api(method, path, body) {
  return fetch(path, {method: method, headers: {"Authorization": "Bearer " + document.getElementById("token").value,
    "Content-Type": "application/json"}, body: body ? JSON.stringify(body) : undefined})
    .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.detail); return j; }); });
}
function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
function load() {
  api("GET", "/api/v1/appstore/apps").then(function (apps) {
    var body = document.getElementById("apps"); body.textContent = "";
    apps.forEach(function (a) {
      var tr = document.createElement("tr");
      cell(tr, a.name.en + (a.name.zh ? " / " + a.name.zh : "")); cell(tr, a.version); cell(tr, a.developer);
      cell(tr, a.permissions.join(", ")); cell(tr, a.installs); cell(tr, a.crashes);
      var b = document.createElement("button"); b.textContent = "Install"; cell(tr, "").appendChild(b);
      b.onclick = function () {
        api("POST", "/api/v1/appstore/apps/" + a.app_id + "/install",
            {terminal_id: parseInt(document.getElementById("terminal").value, 10)})
          .then(function (r) { document.getElementById("status").textContent =
            a.app_id + " " + r.version + ": action " + r.action_id + " for terminal " + r.terminal_id; })
          .catch(function (e) { document.getElementById("status").textContent = e.message; });
      };
      body.appendChild(tr);
    });
  }).catch(function (e) { document.getElementById("status").textContent = e.message; });
}
document.getElementById("load").onclick = load;
</script></body></html>
"""
