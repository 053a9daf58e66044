"""Real image bytes for upload tests: photos as a phone sends them, with the EXIF block (GPS position,
camera make, orientation) that must not survive the upload."""

from __future__ import annotations

import io

from PIL import ExifTags, Image

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (37.0, 52.0, 12.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (112.0, 33.0, 5.0),
}


def photo_bytes(
    size: tuple[int, int] = (64, 48), fmt: str = "JPEG", *, gps: bool = False, orientation: int = 1, mode: str = "RGB"
) -> bytes:
    image = Image.new(mode, size, (10, 120, 200, 128)[: len(mode)] if mode != "L" else 90)
    options: dict = {}
    if fmt in ("JPEG", "WEBP", "PNG") and (gps or orientation != 1):
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "HUAWEI"
        exif[ExifTags.Base.Orientation] = orientation
        if gps:
            exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
        options["exif"] = exif
    if fmt == "JPEG":
        options["comment"] = b"taken at home"
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def gps_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width` × `height` pixels in a few dozen bytes: a decompression bomb's shape."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
