"""Every upload is judged by its content: photos are real JPEG, PNG or WebP images, re-encoded at most
1920 px with no EXIF (no GPS position) left; documents are PDF or Office files; anything else is refused
with a message naming the file, and nothing is stored."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from alliance.uploads import PHOTO_KINDS, check_upload

from ..factories import AgreementFactory
from ..images import gps_of, photo_bytes, png_header

DOCUMENTS = ["pdf", *PHOTO_KINDS, "xlsx", "docx"]


def _check(name: str, data: bytes, kinds=PHOTO_KINDS):
    return check_upload(SimpleUploadedFile(name, data), kinds)


def _refusal(name: str, data: bytes, kinds=PHOTO_KINDS) -> str:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        _check(name, data, kinds)
    (message,) = refused.value.messages
    return message


def _image(checked) -> Image.Image:
    checked.seek(0)
    return Image.open(io.BytesIO(checked.read()))


def test_a_jpeg_with_a_gps_block_comes_back_with_no_exif_at_all():
    original = photo_bytes(gps=True)
    assert gps_of(original)  # the phone's position is in what was sent
    checked = _check("IMG_0001.JPG", original)
    assert (checked.kind, checked.name, checked.original_name) == ("jpeg", "upload.jpg", "IMG_0001.JPG")
    stored = _image(checked)
    assert stored.format == "JPEG" and stored.size == (64, 48)
    assert len(stored.getexif()) == 0 and gps_of(checked.open().read()) == {}
    assert {"exif", "comment", "xmp"}.isdisjoint(stored.info)
    checked.seek(0)
    assert b"HUAWEI" not in checked.read()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_lose_their_exif_too(fmt):
    checked = _check(f"photo.{fmt.lower()}", photo_bytes(fmt=fmt, gps=True))
    assert checked.name == f"upload.{'png' if fmt == 'PNG' else 'webp'}"
    assert len(_image(checked).getexif()) == 0


def test_a_4000_px_photo_comes_back_1920_px_on_its_longest_side():
    wide = _image(_check("wide.jpg", photo_bytes((4000, 3000))))
    tall = _image(_check("tall.png", photo_bytes((1500, 4000), "PNG")))
    assert wide.size == (1920, 1440) and tall.size == (720, 1920)


def test_a_photo_taken_sideways_is_stored_upright():
    # Orientation 6: the camera was turned; viewers rotate it 90°, and so must the stored pixels once
    # the tag that says so is gone.
    assert _image(_check("sideways.jpg", photo_bytes((40, 20), orientation=6))).size == (20, 40)


def test_transparency_grey_and_palette_images_are_kept_in_a_format_that_stores_them():
    assert _image(_check("logo.png", photo_bytes((8, 8), "PNG", mode="RGBA"))).mode == "RGBA"
    assert _image(_check("scan.jpg", photo_bytes((8, 8), mode="L"))).mode == "L"
    palette = io.BytesIO()
    Image.new("P", (8, 8)).save(palette, "PNG")
    assert _image(_check("icon.png", palette.getvalue())).mode == "RGB"
    cmyk = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 50, 100, 0)).save(cmyk, "JPEG")
    assert _image(_check("print.jpg", cmyk.getvalue())).mode == "RGB"


def test_a_text_file_named_jpg_is_refused_with_a_clear_message():
    assert _refusal("notes.jpg", b"just some notes, not a photo") == "“notes.jpg”不是 JPEG、PNG 或 WebP 格式的照片。"


@pytest.mark.parametrize(
    "name, data",
    [
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("photo.jpg", b"%PDF-1.4 a document"),
        ("photo.png", b""),
    ],
)
def test_what_is_not_an_allowed_photo_is_refused(name, data):
    assert _refusal(name, data) == f"“{name}”不是 JPEG、PNG 或 WebP 格式的照片。"


@pytest.mark.parametrize(
    "name, data",
    [("cut.jpg", photo_bytes((600, 400))[:300]), ("photo.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ")],
)
def test_a_damaged_photo_is_refused(name, data):
    assert _refusal(name, data) == f"“{name}”已损坏，无法作为图片读取。"


@pytest.mark.parametrize("size", [(7000, 7000), (20000, 20000), (100000, 100000)])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(size):
    assert _refusal("bomb.png", png_header(*size)) == "“bomb.png”像素过多（最多 40 百万像素）。"


def test_a_photo_over_10_mb_is_refused():
    padded = photo_bytes() + b"\0" * (10 * 1024 * 1024)
    assert _refusal("huge.jpg", padded) == "“huge.jpg”超过 10 MB。"


def test_documents_are_recognised_by_their_content_not_their_name():
    pdf = _check("协议书.exe", b"%PDF-1.7 signed", DOCUMENTS)
    assert (pdf.kind, pdf.name, pdf.read()) == ("pdf", "upload.pdf", b"%PDF-1.7 signed")
    sheet = io.BytesIO()
    openpyxl.Workbook().save(sheet)
    assert _check("签到表", sheet.getvalue(), DOCUMENTS).name == "upload.xlsx"
    word = io.BytesIO()
    with zipfile.ZipFile(word, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert _check("纪要.docx", word.getvalue(), DOCUMENTS).name == "upload.docx"
    scan = _check("scan.pdf", photo_bytes(gps=True), DOCUMENTS)
    assert scan.name == "upload.jpg" and gps_of(scan.read()) == {}


@pytest.mark.parametrize(
    "name, data",
    [
        ("协议书.pdf", b"<html><script>alert(1)</script></html>"),
        ("archive.docx", b"PK\x03\x04 not really a zip"),
        ("macro.xlsm", b"MZ\x90\x00"),
    ],
)
def test_a_document_of_another_type_is_refused(name, data):
    expected = f"“{name}”不是允许的文件类型（PDF, JPEG, PNG, WebP, Excel (.xlsx), Word (.docx)）。"
    assert _refusal(name, data, DOCUMENTS) == expected


def test_a_zip_that_is_no_office_document_is_refused():
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("payload.exe", "MZ")
    assert _refusal("minutes.docx", plain.getvalue(), ["pdf", "docx"]) == (
        "“minutes.docx”不是允许的文件类型（PDF, Word (.docx)）。"
    )


def test_storing_through_the_model_checks_the_file_and_stores_nothing_refused(unit_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agreement = AgreementFactory(unit=unit_a)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        agreement.file.save("协议书.pdf", SimpleUploadedFile("协议书.pdf", b"<html>not a pdf</html>"))
    assert refused.value.messages == ["“协议书.pdf”不是允许的文件类型（PDF, JPEG, PNG, WebP）。"]
    assert list(tmp_path.rglob("*.*")) == []
    agreement.refresh_from_db()
    assert agreement.file.name == ""


def test_full_clean_names_the_field_of_a_refused_file(unit_a):
    agreement = AgreementFactory.build(unit=unit_a, file=SimpleUploadedFile("协议书.pdf", b"<html></html>"))
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        agreement.full_clean()
    assert refused.value.message_dict == {"file": ["“协议书.pdf”不是允许的文件类型（PDF, JPEG, PNG, WebP）。"]}


def test_a_file_checked_for_one_field_is_checked_again_for_a_field_of_other_kinds():
    document = _check("协议书.pdf", b"%PDF-1.7 signed", DOCUMENTS)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        check_upload(document, PHOTO_KINDS)
    assert refused.value.messages == ["“协议书.pdf”不是 JPEG、PNG 或 WebP 格式的照片。"]
