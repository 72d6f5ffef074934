"""The static files as the app serves them (under `make run`; nginx serves them in production):
gzipped once per file and kept in memory, with an ETag (304 on a match) and Vary:
Accept-Encoding. A URL with ?v=<the file's content hash> (as asset_url writes them into the
pages) is cached for a year; a bare URL is revalidated each time."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import threading
from dataclasses import dataclass

import flask
from flask import Flask, current_app, request
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

COMPRESSIBLE = (".html", ".css", ".js", ".svg", ".json", ".txt")
YEAR = 365 * 86400
#: "/static/x.css" in a page, not already followed by a query string
STATIC_REF = re.compile(r'(["\'])/static/([^"\'?#]+)\1')


@dataclass(frozen=True)
class Asset:
    data: bytes
    gzipped: bytes | None  # None: not worth it (or not text)
    version: str  # the first 12 hex digits of the content's SHA-256
    mtime_ns: int
    uses: tuple[tuple[str, str], ...] = ()  # a page's (file, version) stamped into it


class Assets:
    """The files under one folder, read, hashed and compressed once (again when changed)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._cache: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Asset:
        """The file `name` (relative to the folder); NotFound when it is not a file there."""
        path = safe_join(self.folder, name)
        if path is None or not os.path.isfile(path):
            raise NotFound()
        mtime = os.stat(path).st_mtime_ns
        asset = self._cache.get(name)
        if asset is None or asset.mtime_ns != mtime or any(
                self.get(used).version != version for used, version in asset.uses):
            with open(path, "rb") as f:
                data = f.read()
            uses: list[tuple[str, str]] = []
            if name.endswith(".html"):
                data = self.versioned(data, uses)
            packed = gzip.compress(data, 9, mtime=0) if name.endswith(COMPRESSIBLE) else None
            asset = Asset(data, packed if packed is not None and len(packed) < len(data) else None,
                          hashlib.sha256(data).hexdigest()[:12], mtime, tuple(uses))
            with self._lock:
                self._cache[name] = asset
        return asset

    def url(self, name: str) -> str:
        return f"/static/{name}?v={self.get(name).version}"

    def versioned(self, html: bytes, uses: list[tuple[str, str]]) -> bytes:
        """The page with ?v=<hash> after each /static/ file it names (noted in uses)."""
        def stamp(m: re.Match[str]) -> str:
            try:
                version = self.get(m[2]).version
            except NotFound:
                return m[0]
            uses.append((m[2], version))
            return f"{m[1]}/static/{m[2]}?v={version}{m[1]}"
        return STATIC_REF.sub(stamp, html.decode()).encode()


def answer(asset: Asset, name: str, *, cache: str) -> flask.Response:
    """The asset for this request: gzipped if the client takes it, 304 if it has it."""
    gz = asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", "").lower()
    etag = asset.version + ("-gz" if gz else "")
    headers = {"Vary": "Accept-Encoding", "Cache-Control": cache, "ETag": f'"{etag}"'}
    if etag in request.if_none_match:
        return flask.Response(status=304, headers=headers)
    body = asset.gzipped if gz and asset.gzipped is not None else asset.data
    if gz:
        headers["Content-Encoding"] = "gzip"
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return flask.Response(body, mimetype=mimetype, headers=headers)


def assets() -> Assets:
    return current_app.extensions["ratingsvc.assets"]


def asset_url(name: str) -> str:
    """/static/name?v=<hash>: for pages the app writes."""
    return assets().url(name)


def static_file(filename: str) -> flask.Response:
    """The app's /static/ route."""
    asset = assets().get(filename)
    versioned = request.args.get("v") == asset.version
    return answer(asset, filename, cache=f"public, max-age={YEAR}, immutable" if versioned else "no-cache")


def init_app(app: Flask) -> None:
    app.extensions["ratingsvc.assets"] = Assets(app.static_folder or "")
    app.view_functions["static"] = static_file
