"""Uploaded files (agreements, result photos, activity photos, meeting attachments) are served only to
those who may see what they belong to. Each app registers the folder its model uploads into; the file
at `<folder>/<object id>/<name>` is served when the permission layer shows that object to the user."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import FileResponse, Http404, HttpRequest
from django.utils._os import safe_join

from . import permissions

_owners: dict[str, type[models.Model]] = {}


def register(folder: str, model: type[models.Model]) -> None:
    _owners[folder] = model


@login_required
def serve(request: HttpRequest, path: str) -> FileResponse:
    folder, _, rest = path.partition("/")
    object_id, _, name = rest.partition("/")
    model = _owners.get(folder)
    if model is None or not object_id.isdigit() or not name:
        raise Http404
    permissions.get_visible_or_404(request.user, model, pk=int(object_id))
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except Exception:  # SuspiciousFileOperation: a path leaving MEDIA_ROOT
        raise Http404 from None
    if not full.is_file():
        raise Http404
    content_type, _encoding = mimetypes.guess_type(full.name)
    response = FileResponse(full.open("rb"), content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(full.name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=0"
    return response
