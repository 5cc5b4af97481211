"""The development index: what developers uploaded, in the package-index layout MicroPython's
``mip`` and ``mpremote mip install --index URL`` read (docs/app-store.md, "Developer mode").

    GET /mip/package/{mpy}/{app}/latest.json     {"v": 1, "version", "hashes": [[dest, short hash]]}
    GET /mip/package/{mpy}/{app}/{version}.json
    GET /mip/file/{h2}/{short hash}              one file's bytes

Files are the package's (app.json and the .mpy modules), each under ``<app>/``, so with mip's
default target the app lands in ``lib/<app>/`` -- where a terminal in developer mode (set only
by the operator) lists unsigned apps.  Nothing here is signed: a terminal outside developer
mode never starts what this index serves.
"""
import hashlib
import re

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.appstore import package
from cloud.appstore.models import AppPackage
from cloud.deps import problems, session

router = APIRouter(prefix="/mip", tags=["app store (development index)"], responses=problems(404))
APP_ID = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,31}$")


def short_hash(data):
    return hashlib.sha256(data).hexdigest()[:8]


def _files(p):
    return [(n, d) for n, d in package.members(p.package) if n != "sw-description"]


def _package(db, app_id, version):
    if not APP_ID.match(app_id):
        raise HTTPException(status_code=404, detail="no app %r" % app_id)
    q = select(AppPackage).where(AppPackage.app_id == app_id, AppPackage.state != "rejected")
    found = list(db.scalars(q))
    if version != "latest":
        found = [p for p in found if p.version == version]
    if not found:
        raise HTTPException(status_code=404, detail="no app %r version %s" % (app_id, version))
    return max(found, key=lambda p: package.version_tuple(p.version))


@router.get("/package/{mpy}/{app_id}/{version}.json")
def package_json(mpy: str, app_id: str, version: str, db: Session = Depends(session)):
    p = _package(db, app_id, version)
    return {"v": 1, "version": p.version,
            "hashes": [["%s/%s" % (p.app_id, n), short_hash(d)] for n, d in _files(p)]}


@router.get("/file/{h2}/{h}")
def file(h2: str, h: str, db: Session = Depends(session)):
    if not re.match(r"^[0-9a-f]{8}$", h) or h[:2] != h2:
        raise HTTPException(status_code=404, detail="no file %s" % h)
    for p in db.scalars(select(AppPackage).where(AppPackage.state != "rejected").order_by(AppPackage.id.desc())):
        for _, d in _files(p):
            if short_hash(d) == h:
                return Response(d, media_type="application/octet-stream")
    raise HTTPException(status_code=404, detail="no file %s" % h)
