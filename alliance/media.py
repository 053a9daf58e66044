"""Uploaded files (agreements, result photos, activity photos, meeting attachments) are served only to
those who may see what they belong to. Each app registers the folder its model uploads into; the file
at `<folder>/<object id>/<name>` is served when the permission layer shows that object to the user, and only
when `<name>` is one plain file name that resolves to exactly that folder's file: the server has already
decoded `%2f` and `%2e` into the path, so a name that is more than one component, or becomes so when decoded
again, or reaches elsewhere through a symbolic link, is not found — the same 404 as an object not shown."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote

from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models
from django.http import FileResponse, Http404, HttpRequest

from . import permissions

_owners: dict[str, type[models.Model]] = {}
# ASCII digits only (str.isdigit() takes "²", which int() refuses), no leading zero (another folder),
# and short enough for any primary key column.
_OBJECT_ID = re.compile(r"[1-9][0-9]{0,17}")
_NOT_IN_A_NAME = re.compile(r"[/\\\x00-\x1f]")


def register(folder: str, model: type[models.Model]) -> None:
    _owners[folder] = model


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


@login_required
def serve(request: HttpRequest, path: str) -> FileResponse:
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
    content_type, _encoding = mimetypes.guess_type(name)
    response = FileResponse(default_storage.open(stored, "rb"), content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=0"
    return response


def _is_stored(stored: str) -> bool:
    if isinstance(default_storage, FileSystemStorage):
        # The real path must be the object's folder plus the name, with no symbolic link anywhere below the
        # media root: a link placed in a visible folder would otherwise lead to any file the server can read.
        full = Path(os.path.realpath(default_storage.location), stored)
        return os.path.realpath(full) == str(full) and full.is_file()
    # An object store has keys, not links: the key is exactly the checked folder, id and name.
    return default_storage.exists(stored)
