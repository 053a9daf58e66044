"""Uploaded files, the one check every upload path goes through (portal forms, admin, API, services).

A file is judged by what it contains, never by the name or type the client sent: photos must be real
JPEG, PNG or WebP images, which are decoded (with a guard against decompression bombs), turned upright,
shrunk to at most 1920 px on the longest side and re-encoded, so EXIF (the phone's GPS position, its
serial number) and every other embedded block are left behind; documents must be PDF or Office files by
their first bytes. The file is then stored as `<folder>/<object id>/<random name><extension of the type
found>`, so a name chosen by the client never reaches the disk or a URL (see `alliance.media`)."""

from __future__ import annotations

import io
import uuid
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

PHOTO_KINDS = ("jpeg", "png", "webp")
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "pdf": ".pdf", "docx": ".docx", "xlsx": ".xlsx"}
LABELS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "pdf": "PDF", "docx": "Word (.docx)", "xlsx": "Excel (.xlsx)"}
# Office files are zip archives; the part that only that kind of document has tells them apart.
_OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_IMAGE_MAGIC = {
    "jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
}

MAX_PHOTO_MB = 10
MAX_DOCUMENT_MB = 20
# A 40-megapixel phone photo is the largest real one expected; a decompression bomb declares far more
# pixels than its few bytes suggest, and is refused before any of them is decoded.
MAX_PIXELS = 40_000_000
MAX_SIDE = 1920
JPEG_QUALITY = 85


class CheckedFile(File):
    """An upload that passed `check_upload`: `kind` is the type found in it, `original_name` what the
    client called it (for messages), and `name` ends with that type's extension."""

    def __init__(self, file, *, kind: str, original_name: str) -> None:
        super().__init__(file, name=f"upload{EXTENSIONS[kind]}")
        self.kind = kind
        self.original_name = original_name


def check_upload(upload: File, kinds: Iterable[str] = PHOTO_KINDS) -> CheckedFile:
    """The upload as a `CheckedFile` of one of `kinds`, photos re-encoded; or a ValidationError with a
    message that names the file and says what is allowed. Nothing is written anywhere."""
    kinds = tuple(kinds)
    if isinstance(upload, CheckedFile) and upload.kind in kinds:
        return upload
    original = getattr(upload, "original_name", None) or PurePath(upload.name or "").name[:60]
    kind = _sniff(upload, kinds)
    if kind is None:
        if set(kinds) <= set(PHOTO_KINDS):
            message = _("“%(name)s” is not a photo in JPEG, PNG or WebP format.")
            raise ValidationError(message % {"name": original}, code="invalid_type")
        labels = ", ".join(LABELS[k] for k in kinds)
        message = _("“%(name)s” is not a file of an allowed type (%(types)s).")
        raise ValidationError(message % {"name": original, "types": labels}, code="invalid_type")
    limit = MAX_PHOTO_MB if kind in PHOTO_KINDS else MAX_DOCUMENT_MB
    if upload.size is not None and upload.size > limit * 1024 * 1024:
        message = _("“%(name)s” is larger than %(size)d MB.")
        raise ValidationError(message % {"name": original, "size": limit}, code="too_large")
    upload.seek(0)
    if kind in PHOTO_KINDS:
        return CheckedFile(_reencode(upload, kind, original), kind=kind, original_name=original)
    return CheckedFile(getattr(upload, "file", upload), kind=kind, original_name=original)


def _sniff(upload: File, kinds: tuple[str, ...]) -> str | None:
    """The allowed kind the content is, by its first bytes (an image is then decoded in full)."""
    upload.seek(0)
    head = upload.read(12)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf" if "pdf" in kinds else None
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except Exception:  # a damaged or hostile archive: not an Office file
            return None
        finally:
            upload.seek(0)
        return next((k for k, part in _OFFICE_PARTS.items() if k in kinds and part in names), None)
    kind = next((k for k, magic in _IMAGE_MAGIC.items() if magic(head)), None)
    return kind if kind in kinds else None


def _reencode(upload: File, kind: str, original: str) -> io.BytesIO:
    too_many_pixels = ValidationError(
        _("“%(name)s” has too many pixels (at most %(count)d million).")
        % {"name": original, "count": MAX_PIXELS // 1_000_000},
        code="too_many_pixels",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=[kind.upper()]) as source:
                if source.width * source.height > MAX_PIXELS:
                    raise too_many_pixels
                # JPEG decodes at a reduced scale straight away when the photo is far larger than kept.
                source.draft("RGB", (MAX_SIDE, MAX_SIDE))
                icc_profile = source.info.get("icc_profile")
                try:
                    image = ImageOps.exif_transpose(source)  # upright, before the orientation tag is dropped
                except Exception:  # an EXIF block too broken to read says nothing reliable: pixels as they are
                    image = source.copy()
                image = _convert(image, kind)
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                image.info = {}  # nothing read from the upload is written back, only pixels (and colours)
                out = io.BytesIO()
                options = {"icc_profile": icc_profile} if icc_profile else {}
                if kind == "jpeg":
                    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
                elif kind == "png":
                    image.save(out, "PNG", optimize=True, **options)
                else:
                    image.save(out, "WEBP", quality=JPEG_QUALITY, **options)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except Exception:  # truncated or corrupt data that passed the header check
        message = _("“%(name)s” is damaged and cannot be read as an image.")
        raise ValidationError(message % {"name": original}, code="invalid_image") from None
    out.seek(0)
    return out


def _convert(image: Image.Image, kind: str) -> Image.Image:
    """A mode the target format stores and the resampling filter handles (not palette or 16-bit)."""
    if kind == "jpeg":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if image.mode in ("RGB", "RGBA") or (kind == "png" and image.mode in ("L", "LA")):
        return image
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def upload_path(folder: str, object_id: int | None, filename: str) -> str:
    """Where an upload is stored: a random name under its object's folder, which is what `alliance.media`
    serves (and only that). The extension comes from the checked type (`CheckedFile.name`)."""
    extension = PurePath(filename).suffix.lower()
    if extension not in EXTENSIONS.values():
        extension = ""
    return f"{folder}/{object_id}/{uuid.uuid4().hex}{extension}"


class CheckedFieldFile(FieldFile):
    def save(self, name: str, content: File, save: bool = True) -> None:
        # Every way of storing a file (a model's save, `field.save()` in a script) passes here.
        checked = check_upload(content, self.field.kinds)
        super().save(checked.name, checked, save)


class UploadField(models.FileField):
    """A FileField whose uploads pass `check_upload` for `kinds`: checked in `full_clean()` (a clear
    error) and again, at no cost, when stored."""

    attr_class = CheckedFieldFile

    def __init__(self, *args, kinds: Iterable[str] = PHOTO_KINDS, **kwargs) -> None:
        self.kinds = tuple(kinds)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kinds"] = self.kinds
        return name, path, args, kwargs

    def validate(self, value, model_instance) -> None:
        super().validate(value, model_instance)
        if value and not value._committed:
            # The checked (re-encoded) file replaces the upload, so storing it does not decode it again.
            value.file = check_upload(value.file, self.kinds)


THUMBNAIL_SIDE = 480


def thumbnail_of(photo: File, *, side: int = THUMBNAIL_SIDE) -> CheckedFile:
    """A copy of a checked photo (`check_upload`) at most `side` pixels on its longest side, in the same
    format, for lists: a phone on a slow network loads a page of them, not a page of 1920 px photos."""
    checked = check_upload(photo, PHOTO_KINDS)
    checked.seek(0)
    with Image.open(checked, formats=[checked.kind.upper()]) as source:
        image = source.copy()
    checked.seek(0)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if checked.kind == "jpeg":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif checked.kind == "png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    out.seek(0)
    return CheckedFile(out, kind=checked.kind, original_name=checked.original_name)
