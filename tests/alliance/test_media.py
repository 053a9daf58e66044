"""Uploaded files are served only to those who may see what they belong to."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ..conftest import client_for
from ..factories import AgreementFactory


@pytest.fixture
def signed_copy(unit_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agreement = AgreementFactory(unit=unit_a)
    agreement.file.save("协议书.pdf", SimpleUploadedFile("协议书.pdf", b"%PDF-1.4 signed copy"))
    return agreement


def test_the_units_liaison_and_staff_download_the_signed_copy(signed_copy, cast):
    url = signed_copy.file.url
    assert url.startswith("/media/agreements/")
    for who in ("liaison_a", "community_x_staff", "street_staff"):
        response = client_for(cast[who]).get(url)
        assert response.status_code == 200, who
        assert b"".join(response.streaming_content) == b"%PDF-1.4 signed copy"
        assert response["Content-Type"] == "application/pdf"
    for who in ("liaison_b", "community_y_staff", "member"):
        assert client_for(cast[who]).get(url).status_code == 404, who
    response = client_for(cast["anonymous"]).get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize(
    "path",
    [
        "/media/agreements/../../etc/passwd",
        "/media/agreements/x/a.pdf",
        "/media/imports/abc.xlsx",
        "/media/agreements/1/",
    ],
)
def test_odd_paths_answer_404(path, street_staff, signed_copy):
    assert client_for(street_staff).get(path).status_code == 404
