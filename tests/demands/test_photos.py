"""Completing a need with photos, through the API and the portal: the photos are stored under random
names in the need's folder, re-encoded without EXIF, and a bad photo is refused with nothing changed."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from demands.models import Need, NeedPhoto

from ..conftest import client_for
from ..images import gps_of, photo_bytes

S = Need.Status


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _complete(user, need: Need, photos: list) -> object:
    client = APIClient()
    client.force_authenticate(user)
    return client.post(
        f"/api/v1/needs/{need.pk}/complete/", {"result": "已上门换好楼道灯", "photos": photos}, format="multipart"
    )


def test_completing_a_need_with_photos_through_the_api_stores_them_renamed_and_stripped(need_in, liaison_a, media_root):
    need = need_in(S.ACCEPTED)
    sent = photo_bytes((4000, 3000), gps=True)
    response = _complete(
        liaison_a,
        need,
        [
            SimpleUploadedFile("IMG_0001.JPG", sent, content_type="image/jpeg"),
            SimpleUploadedFile("门口.png", photo_bytes((30, 20), "PNG"), content_type="image/png"),
        ],
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    photos = list(NeedPhoto.objects.filter(need=need))
    assert [re.fullmatch(rf"needs/{need.pk}/[0-9a-f]{{32}}\.(jpg|png)", p.image.name).group(1) for p in photos] == [
        "jpg",
        "png",
    ]
    stored = (media_root / photos[0].image.name).read_bytes()
    assert gps_of(sent) and gps_of(stored) == {}
    assert Image.open(io.BytesIO(stored)).size == (1920, 1440)
    download = client_for(liaison_a).get(photos[0].image.url)
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert b"".join(download.streaming_content) == stored


def test_a_bad_photo_through_the_api_answers_400_and_changes_nothing(need_in, liaison_a, media_root):
    need = need_in(S.ACCEPTED)
    response = _complete(
        liaison_a,
        need,
        [
            SimpleUploadedFile("ok.jpg", photo_bytes(), content_type="image/jpeg"),
            SimpleUploadedFile("notes.jpg", b"just some notes", content_type="image/jpeg"),
        ],
    )
    assert response.status_code == 400
    assert response.json() == {"photos": ["“notes.jpg”不是 JPEG、PNG 或 WebP 格式的照片。"]}
    need.refresh_from_db()
    assert need.status == S.ACCEPTED and need.result == ""
    assert not NeedPhoto.objects.exists()
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


def test_completing_through_the_portal_strips_the_photos_position(need_in, liaison_a, media_root):
    need = need_in(S.ACCEPTED)
    photo = SimpleUploadedFile("IMG_0002.jpg", photo_bytes(gps=True), content_type="image/jpeg")
    response = client_for(liaison_a).post(
        reverse("portal:need_complete", args=[need.pk]), {"result": "已上门换好楼道灯", "photos": [photo]}
    )
    assert response.status_code == 302
    (stored,) = NeedPhoto.objects.filter(need=need)
    assert re.fullmatch(rf"needs/{need.pk}/[0-9a-f]{{32}}\.jpg", stored.image.name)
    assert gps_of((media_root / stored.image.name).read_bytes()) == {}


def test_a_bad_photo_in_the_portal_is_refused_by_name(need_in, liaison_a, media_root):
    need = need_in(S.ACCEPTED)
    photo = SimpleUploadedFile("notes.jpg", b"just some notes", content_type="image/jpeg")
    response = client_for(liaison_a).post(
        reverse("portal:need_complete", args=[need.pk]), {"result": "已上门换好楼道灯", "photos": [photo]}
    )
    assert response.status_code == 200
    assert response.context["complete_form"].errors == {"photos": ["“notes.jpg”不是 JPEG、PNG 或 WebP 格式的照片。"]}
    need.refresh_from_db()
    assert need.status == S.ACCEPTED and not NeedPhoto.objects.exists()
