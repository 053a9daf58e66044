"""Uploaded files (agreements, result photos, activity photos, meeting attachments) are served only to
those who may see what they belong to. Each app registers the folder its model uploads into; the file
at `<folder>/<object id>/<name>` is served when the permission layer shows that object to the user, and only
when `<name>` is one plain file name that resolves to exactly that folder's file: the server has already
decoded `%2f` and `%2e` into the path, so a name that is more than one component, or becomes so when decoded
again, or reaches elsewhere through a symbolic link, is not found — the same 404 as an object not shown.

A folder may also say which of its objects are public (`register(..., public=...)`: the photos of activities
the public site shows, the attachments of published notices): their files are served to anyone, signed in
or not; every other file still needs a sign-in and the permission layer."""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase

from . import permissions

_owners: dict[str, type[models.Model]] = {}
# folder -> whether the object of that id is public (one indexed query); asked before the sign-in check.
_public: dict[str, Callable[[int], bool]] = {}
# ASCII digits only (str.isdigit() takes "²", which int() refuses), no leading zero (another folder),
# and short enough for any primary key column.
_OBJECT_ID = re.compile(r"[1-9][0-9]{0,17}")
_NOT_IN_A_NAME = re.compile(r"[/\\\x00-\x1f]")


def register(folder: str, model: type[models.Model], *, public: Callable[[int], bool] | None = None) -> None:
    _owners[folder] = model
    if public is not None:
        _public[folder] = public


def _is_one_name(name: str) -> bool:
    """A single plain path component, however many more times it might be percent-decoded on the way to
    the disk (a proxy or storage that decodes again would otherwise turn `..%252f` into `../`)."""
    for _round in range(4):
        if not name or name.startswith(".") or _NOT_IN_A_NAME.search(name):
            return False  # ".", "..", hidden files, separators, NUL and control characters
        decoded = unquote(name)
        if decoded == name:
            return True
        name = decoded
    return False  # still decoding: no name an upload is stored under


def serve(request: HttpRequest, path: str) -> HttpResponseBase:
    """A public object's file to anyone; any other file as `_serve_private` decides (sign-in first)."""
    parts = path.split("/")
    if len(parts) == 3:
        folder, object_id, name = parts
        is_public = _public.get(folder)
        if (
            is_public is not None
            and _OBJECT_ID.fullmatch(object_id)
            and _is_one_name(name)
            and is_public(int(object_id))
            and _is_stored(path)
        ):
            # Public pages show these to everyone: a shared cache may keep them for a few minutes.
            return _file_response(path, name, cache_control="public, max-age=300")
    return _serve_private(request, path)


@login_required
def _serve_private(request: HttpRequest, path: str) -> FileResponse:
    parts = path.split("/")
    if len(parts) != 3:
        raise Http404
    folder, object_id, name = parts
    model = _owners.get(folder)
    if model is None or not _OBJECT_ID.fullmatch(object_id) or not _is_one_name(name):
        raise Http404
    permissions.get_visible_or_404(request.user, model, pk=int(object_id))
    stored = f"{folder}/{object_id}/{name}"
    if not _is_stored(stored):
        raise Http404
    # Streamed from the storage (the local folder or the private bucket) after the check above: a redirect
    # to a signed URL would hand out a link that works for anyone who gets it while it lasts.
    return _file_response(stored, name, cache_control="private, max-age=0")


def _file_response(stored: str, name: str, *, cache_control: str) -> FileResponse:
    content_type, _encoding = mimetypes.guess_type(name)
    response = FileResponse(default_storage.open(stored, "rb"), content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache_control
    return response


def _is_stored(stored: str) -> bool:
    if isinstance(default_storage, FileSystemStorage):
        # The real path must be the object's folder plus the name, with no symbolic link anywhere below the
        # media root: a link placed in a visible folder would otherwise lead to any file the server can read.
        full = Path(os.path.realpath(default_storage.location), stored)
        return os.path.realpath(full) == str(full) and full.is_file()
    # An object store has keys, not links: the key is exactly the checked folder, id and name.
    return default_storage.exists(stored)
