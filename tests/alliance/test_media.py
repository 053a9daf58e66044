"""Uploaded files are served only to those who may see what they belong to, and only the one file named
under that object's folder: no path that walks out of it, however it is spelled, reaches another file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ..conftest import client_for
from ..factories import AgreementFactory
from ..meetings.factories import InvitationFactory, MeetingFactory

SIGNED_A = b"%PDF-1.4 signed copy of unit A"
SIGNED_B = b"%PDF-1.4 signed copy of unit B"


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def signed_copy(unit_a, media_root):
    agreement = AgreementFactory(unit=unit_a)
    agreement.file.save("协议书.pdf", SimpleUploadedFile("协议书.pdf", SIGNED_A))
    return agreement


@pytest.fixture
def other_copy(unit_b, media_root):
    agreement = AgreementFactory(unit=unit_b)
    agreement.file.save("协议书.pdf", SimpleUploadedFile("协议书.pdf", SIGNED_B))
    return agreement


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_units_liaison_and_staff_download_the_signed_copy(signed_copy, cast):
    url = signed_copy.file.url
    name = signed_copy.file.name.rsplit("/", 1)[1]
    assert url == f"/media/agreements/{signed_copy.unit_id}/{name}"
    for who in ("liaison_a", "community_x_staff", "street_staff"):
        response = client_for(cast[who]).get(url)
        assert response.status_code == 200, who
        assert _body(response) == SIGNED_A
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Length"] == str(len(SIGNED_A))
        assert response["Content-Disposition"] == f"inline; filename*=UTF-8''{name}"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, max-age=0"
    for who in ("liaison_b", "community_y_staff", "member"):
        assert client_for(cast[who]).get(url).status_code == 404, who
    response = client_for(cast["anonymous"]).get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_an_upload_is_stored_under_a_random_name_with_the_extension_of_its_type(signed_copy, media_root):
    assert re.fullmatch(rf"agreements/{signed_copy.unit_id}/[0-9a-f]{{32}}\.pdf", signed_copy.file.name)
    assert (media_root / signed_copy.file.name).read_bytes() == SIGNED_A


def _walks_from_a_to_b(a: int, b: int, name_b: str) -> list[str]:
    """Every spelling of "the folder of unit A, then up and into unit B's" a request can carry."""
    return [
        f"/media/agreements/{a}/../{b}/{name_b}",
        f"/media/agreements/{a}/..%2f{b}%2f{name_b}",
        f"/media/agreements/{a}/..%2F{b}%2F{name_b}",
        f"/media/agreements/{a}/%2e%2e/{b}/{name_b}",
        f"/media/agreements/{a}/%2e%2e%2f{b}%2f{name_b}",
        f"/media/agreements/{a}/..%252f{b}%252f{name_b}",
        f"/media/agreements/{a}/%252e%252e%252f{b}%252f{name_b}",
        f"/media/agreements/{a}/..%5c{b}%5c{name_b}",
        f"/media/agreements/{a}/..\\{b}\\{name_b}",
        f"/media/agreements/{a}/./../{b}/{name_b}",
        f"/media/agreements/{a}/{b}/../../{b}/{name_b}",
        f"/media/agreements/{a}//{b}/{name_b}",
        f"/media/agreements/{a}/%2fagreements%2f{b}%2f{name_b}",
    ]


def test_a_liaison_cannot_walk_from_their_agreement_to_another_units(signed_copy, other_copy, liaison_a, media_root):
    a, b = signed_copy.unit_id, other_copy.unit_id
    name_b = other_copy.file.name.rsplit("/", 1)[1]
    absolute_b = media_root / other_copy.file.name
    client = client_for(liaison_a)
    assert client.get(signed_copy.file.url).status_code == 200  # what they may see still works
    for path in [*_walks_from_a_to_b(a, b, name_b), f"/media/agreements/{a}/{absolute_b}"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert SIGNED_B not in response.content, path


def test_a_meeting_invitee_cannot_read_files_elsewhere_under_the_media_root(other_copy, unit_a, liaison_a, media_root):
    meeting = MeetingFactory()
    InvitationFactory(meeting=meeting, unit=unit_a)
    (media_root / "imports").mkdir()
    (media_root / "imports" / "members.xlsx").write_bytes(b"PK spreadsheet with phones")
    (media_root / "meetings" / str(meeting.pk)).mkdir(parents=True)
    (media_root / "meetings" / str(meeting.pk) / "minutes.pdf").write_bytes(b"%PDF-1.4 minutes")
    client = client_for(liaison_a)
    assert _body(client.get(f"/media/meetings/{meeting.pk}/minutes.pdf")) == b"%PDF-1.4 minutes"
    for path in [
        f"/media/meetings/{meeting.pk}/../../imports/members.xlsx",
        f"/media/meetings/{meeting.pk}/..%2f..%2fimports%2fmembers.xlsx",
        f"/media/meetings/{meeting.pk}/%2e%2e/%2e%2e/imports/members.xlsx",
        f"/media/meetings/{meeting.pk}/..%252f..%252fimports%252fmembers.xlsx",
        f"/media/meetings/{meeting.pk}/../../{other_copy.file.name}",
        f"/media/meetings/{meeting.pk}/%2e%2e%2f%2e%2e%2f{other_copy.file.name.replace('/', '%2f')}",
        f"/media/meetings/{meeting.pk}/..\\..\\imports\\members.xlsx",
        f"/media/meetings/{meeting.pk}/{media_root}/imports/members.xlsx",
        f"/media/meetings/{meeting.pk}/%2f..%2f..%2fimports%2fmembers.xlsx",
        f"/media/meetings/{meeting.pk}/minutes.pdf%00.xlsx",
        f"/media/meetings/{meeting.pk}/..",
        f"/media/meetings/{meeting.pk}/.",
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"phones" not in response.content and SIGNED_B not in response.content, path


def test_a_symlink_in_a_visible_folder_does_not_lead_out_of_it(signed_copy, other_copy, liaison_a, media_root):
    folder_a = media_root / "agreements" / str(signed_copy.unit_id)
    (folder_a / "link.pdf").symlink_to(media_root / other_copy.file.name)
    (folder_a / "dir").symlink_to(media_root / "agreements" / str(other_copy.unit_id))
    client = client_for(liaison_a)
    assert client.get(f"/media/agreements/{signed_copy.unit_id}/link.pdf").status_code == 404
    name_b = other_copy.file.name.rsplit("/", 1)[1]
    assert client.get(f"/media/agreements/{signed_copy.unit_id}/dir/{name_b}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/media/agreements/../../etc/passwd",
        "/media/agreements/x/a.pdf",
        "/media/imports/abc.xlsx",
        "/media/agreements/1/",
        "/media/agreements/²/a.pdf",
        "/media/agreements/٣/a.pdf",
        "/media/agreements/01/a.pdf",
        "/media/agreements/99999999999999999999999999/a.pdf",
        "/media/agreements/999999999999999999/a.pdf",
        "/media/agreements/-1/a.pdf",
        "/media/%2e%2e/agreements/1/a.pdf",
    ],
)
def test_odd_paths_answer_404(path, street_staff, signed_copy):
    assert client_for(street_staff).get(path).status_code == 404
