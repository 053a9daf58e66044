"""Excel import and export of member units and in-service Party members, as street and community staff
use them in the admin: upload (checked, stored, queued) → a background job imports it in the chosen mode —
import if every row is valid, the valid rows only, or only check — and its page shows the outcome and the
rows to look at (each bad row with its reasons); nothing written while a row is bad; re-imports update
instead of duplicating; oversize, broken and XML-bomb files refused at the upload; export → import
round-trips; a template with one example row; the queries do not grow with the rows; one message per
person, not one per row."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from alliance import jobs, permissions
from alliance.imports import ImportRefused, Mode
from alliance.models import Job, Notification
from members.imports import UnitImporter
from members.models import MemberUnit
from volunteers.imports import MemberImporter
from volunteers.models import PartyMember

from ..conftest import client_for
from ..factories import MemberUnitFactory, SectorFactory, _credit_code
from ..jobs import export_through_job
from .factories import PartyMemberFactory

UNITS = "admin:members_memberunit"
MEMBERS = "admin:volunteers_partymember"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _xlsx(header: list[str], rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _file(content: bytes, name: str = "导入.xlsx") -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def _upload(client, admin: str, content: bytes, name: str = "导入.xlsx", mode: str = Mode.ALL):
    """Upload; the job runs when the upload's transaction commits (Celery eager); follows to the job's page."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse(f"{admin}_import"), {"file": _file(content, name), "mode": mode}, follow=True)


def _import(client, admin: str, content: bytes, mode: str = Mode.ALL) -> Job:
    response = _upload(client, admin, content, mode=mode)
    assert response.status_code == 200
    job = response.context["original"]
    assert response.request["PATH_INFO"] == reverse("admin:alliance_job_change", args=[job.pk])
    job.refresh_from_db()
    return job


def _listed(client, job: Job) -> dict[int, tuple[str, str]]:
    """The rows the job's result file lists: row number → (result, reasons), downloaded as the user does."""
    response = client.get(reverse("admin:alliance_job_result", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行号", "结果", "原因")
    return {number: (result, reasons) for number, result, reasons in rows[1:]}


def _uploads(settings) -> list:
    folder = settings.MEDIA_ROOT / "imports"
    return list(folder.glob("*.xlsx")) if folder.exists() else []


def _unit_row(importer: UnitImporter, where, **values) -> list[object]:
    row = {
        "name": "晋阳建设集团",
        "credit_code": _credit_code(900001),
        "unit_type": str(MemberUnit.UnitType.STATE_ENTERPRISE.label),
        "level": str(MemberUnit.Level.CITY.label),
        "sector": "",
        "community": where.name,
        "address": "迎泽大街1号",
        "party_org_name": "晋阳建设集团党委",
        "party_org_kind": str(MemberUnit.PartyOrgKind.COMMITTEE.label),
        "secretary_name": "李强",
        "liaison_name": "赵敏",
        "liaison_phone": "13912345678",
        "liaison_email": "zhaomin@example.org",
        "party_member_count": 56,
        "joined_on": date(2024, 3, 1),
        "status": "",
        **values,
    }
    return [row[c.key] for c in importer.columns]


def _member_row(importer: MemberImporter, where, **values) -> list[object]:
    row = {
        "name": "张伟",
        "phone": "13712345678",
        "work_unit": "",
        "party_branch": "第一党支部",
        "residence_community": where.name,
        "skills": "理发、义诊",
        **values,
    }
    return [row[c.key] for c in importer.columns]


# --- A valid file imports ----------------------------------------------------------------------------


def test_a_valid_unit_file_imports(street_staff, community_x, settings):
    importer = UnitImporter(actor=street_staff)
    sector = SectorFactory(street=community_x.street, name="企业分会")
    content = _xlsx(
        importer.header(),
        [
            _unit_row(importer, community_x, sector="企业分会"),
            # A military unit has no credit code; a phone kept as a number in the sheet is read as text.
            _unit_row(
                importer,
                community_x,
                name="武警某部",
                credit_code="",
                unit_type=str(MemberUnit.UnitType.MILITARY.label),
                liaison_phone=13887654321,
                joined_on="",
                party_member_count="",
            ),
        ],
    )
    client = client_for(street_staff)
    job = _import(client, UNITS, content)
    assert job.status == Job.Status.DONE and job.kind == "import.units" and job.requested_by == street_staff
    assert job.outcome == "导入完成：新增 2 条，更新 0 条，未变化 0 条。"
    assert not job.result  # no row to look at
    unit = MemberUnit.objects.get(name="晋阳建设集团")
    assert unit.credit_code == _credit_code(900001)
    assert unit.unit_type == MemberUnit.UnitType.STATE_ENTERPRISE
    assert unit.level == MemberUnit.Level.CITY
    assert unit.community == community_x and unit.sector == sector
    assert unit.party_org_kind == MemberUnit.PartyOrgKind.COMMITTEE
    assert unit.liaison_phone == "13912345678" and unit.party_member_count == 56
    assert unit.joined_on == date(2024, 3, 1) and unit.status == MemberUnit.Status.ACTIVE
    military = MemberUnit.objects.get(name="武警某部")
    assert military.credit_code == "" and military.liaison_phone == "13887654321"
    assert military.party_member_count == 0 and military.joined_on is not None  # the service's defaults
    assert unit.history.first().history_user == street_staff
    assert _uploads(settings) == []  # deleted after the import
    # The requester is told once; the job's page is where the outcome is.
    told = Notification.objects.get(recipient=street_staff)
    assert told.kind == f"import:{job.pk}" and told.body == job.outcome


def test_a_valid_member_file_imports(street_staff, community_x, unit_a, settings):
    importer = MemberImporter(actor=street_staff)
    content = _xlsx(
        importer.header(),
        [
            _member_row(importer, community_x, work_unit=unit_a.name),
            _member_row(importer, community_x, name="李娜", phone="13712345679", work_unit="太原某科技公司"),
        ],
    )
    client = client_for(street_staff)
    job = _import(client, MEMBERS, content)
    assert job.status == Job.Status.DONE
    # A work unit that is not a member unit is kept as its name, and the result file says so.
    listed = _listed(client, job)
    assert list(listed) == [3] and "太原某科技公司" in listed[3][1]
    zhang = PartyMember.objects.get(phone="13712345678")
    assert zhang.work_unit == unit_a and zhang.work_unit_name == ""
    assert zhang.residence_community == community_x and zhang.party_branch == "第一党支部"
    assert zhang.status == PartyMember.Status.PENDING  # the community verifies, as for any registration
    li = PartyMember.objects.get(phone="13712345679")
    assert li.work_unit is None and li.work_unit_name == "太原某科技公司"
    assert _uploads(settings) == []


def test_headers_in_chinese_or_english_are_both_accepted(street_staff, community_x, unit_a):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            importer = MemberImporter(actor=street_staff)
            header = importer.header()
        rows = importer.read(_file(_xlsx(header, [_member_row(importer, community_x, work_unit=unit_a.name)])))
        assert [row.errors for row in rows] == [[]]


# --- Bad rows ---------------------------------------------------------------------------------------


def _bad_unit_file(importer, community_x, community_y_name="不存在社区") -> bytes:
    return _xlsx(
        importer.header(),
        [
            _unit_row(importer, community_x),  # row 2: valid
            _unit_row(importer, community_x, name="坏号码单位", credit_code=_credit_code(900002), liaison_phone="1234"),
            _unit_row(importer, community_x, name="坏代码单位", credit_code="91140106000900003X"),
            _unit_row(importer, community_x, name="", credit_code=_credit_code(900004)),
            _unit_row(
                importer,
                community_x,
                name="社区不对",
                credit_code=_credit_code(900005),
                community=community_y_name,
                unit_type="外星企业",
            ),
            _unit_row(importer, community_x, name="同一单位", credit_code=_credit_code(900001)),  # row 7: repeat
            _unit_row(importer, community_x, name="第二个有效单位", credit_code=_credit_code(900006)),  # row 8
        ],
    )


def test_a_file_with_bad_rows_writes_nothing_and_lists_each_reason(street_staff, community_x):
    importer = UnitImporter(actor=street_staff)
    reasons = {
        row.row_number: row.errors for row in importer.read(_file(_bad_unit_file(importer, community_x))) if not row.ok
    }
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert len(reasons[3]) == 1 and str(importer.column("liaison_phone").label) in reasons[3][0]
    assert "11" in reasons[3][0]  # the mobile validator's message
    assert str(importer.column("credit_code").label) in reasons[4][0]
    assert str(importer.column("name").label) in reasons[5][0]
    assert len(reasons[6]) == 2  # unknown community and unknown unit type, both listed
    assert any("不存在社区" in reason for reason in reasons[6])
    assert any("外星企业" in reason for reason in reasons[6])
    assert "2" in reasons[7][0]  # the same unit as row 2
    # "Import" is refused while any row is bad: nothing is written (row 2, valid, neither), and the job's
    # result file lists each bad row with all its reasons.
    client = client_for(street_staff)
    for mode in (Mode.ALL, Mode.CHECK):
        job = _import(client, UNITS, _bad_unit_file(importer, community_x), mode=mode)
        listed = _listed(client, job)
        assert sorted(listed) == [3, 4, 5, 6, 7]
        assert all(listed[n][1] == "; ".join(reasons[n]) for n in listed)
        assert MemberUnit.objects.count() == 0
    assert job.status == Job.Status.DONE  # a check that found bad rows did what it was asked
    assert (job.steps_done, job.rows_done) == (1, 7)  # the progress survives the check's rollback
    assert job.outcome == "已检查 7 行：有效 2 行（将新增 2 条，更新 0 条，未变化 0 条），无效 5 行。未写入任何数据。"
    failed = Job.objects.filter(payload__mode=Mode.ALL).get()
    assert failed.status == Job.Status.FAILED
    assert failed.failure_reason.startswith("5 行无效，因此未导入任何数据。")


def test_importing_the_valid_rows_only_writes_exactly_those(street_staff, community_x, settings):
    importer = UnitImporter(actor=street_staff)
    client = client_for(street_staff)
    job = _import(client, UNITS, _bad_unit_file(importer, community_x), mode=Mode.VALID)
    assert job.status == Job.Status.DONE
    assert sorted(_listed(client, job)) == [3, 4, 5, 6, 7]
    assert set(MemberUnit.objects.values_list("name", flat=True)) == {"晋阳建设集团", "第二个有效单位"}
    assert _uploads(settings) == []


def test_member_rows_with_bad_phones_and_unknown_communities_are_reported(street_staff, community_x):
    importer = MemberImporter(actor=street_staff)
    rows = importer.read(
        _file(
            _xlsx(
                importer.header(),
                [
                    _member_row(importer, community_x, work_unit="某单位"),
                    _member_row(importer, community_x, phone="23712345678", work_unit="某单位"),
                    _member_row(importer, community_x, phone="13700000001", residence_community="月球社区"),
                ],
            )
        )
    )
    assert [row.ok for row in rows] == [True, False, False]
    assert str(importer.column("phone").label) in rows[1].errors[0]
    # Row 4: the community is unknown and the work unit is missing — both reasons.
    assert rows[2].row_number == 4 and len(rows[2].errors) == 2


def test_community_staff_rows_naming_another_community_are_bad_rows(community_x_staff, community_x, community_y):
    importer = MemberImporter(actor=community_x_staff)
    content = _xlsx(
        importer.header(),
        [
            _member_row(importer, community_x, work_unit="某单位"),
            _member_row(importer, community_y, phone="13700000002", work_unit="某单位"),
        ],
    )
    client = client_for(community_x_staff)
    job = _import(client, MEMBERS, content, mode=Mode.VALID)
    listed = _listed(client, job)  # community staff follow and download their own jobs
    # Row 3 is not valid; row 2 (imported) has a note: its work unit is not a member unit.
    assert [listed[2][0], listed[3][0]] == ["提示", "无效"] and community_y.name in listed[3][1]
    assert list(PartyMember.objects.values_list("residence_community", flat=True)) == [community_x.pk]


def test_community_staff_cannot_update_a_unit_of_another_community_by_its_credit_code(
    community_x_staff, community_x, unit_b
):
    importer = UnitImporter(actor=community_x_staff)
    rows = importer.read(
        _file(_xlsx(importer.header(), [_unit_row(importer, community_x, credit_code=unit_b.credit_code)]))
    )
    assert not rows[0].ok and unit_b.community.name in rows[0].errors[0]


# --- Re-import --------------------------------------------------------------------------------------


def test_reimporting_the_same_file_creates_no_duplicates(street_staff, community_x, unit_a):
    client = client_for(street_staff)
    units = UnitImporter(actor=street_staff)
    unit_file = _xlsx(
        units.header(),
        [_unit_row(units, community_x), _unit_row(units, community_x, name="武警某部", credit_code="")],
    )
    members = MemberImporter(actor=street_staff)
    member_file = _xlsx(members.header(), [_member_row(members, community_x, work_unit=unit_a.name)])
    for _ in range(2):
        assert _import(client, UNITS, unit_file).status == Job.Status.DONE
        assert _import(client, MEMBERS, member_file).status == Job.Status.DONE
    assert MemberUnit.objects.filter(name__in=["晋阳建设集团", "武警某部"]).count() == 2
    assert PartyMember.objects.count() == 1
    again = UnitImporter(actor=street_staff).execute(_file(unit_file), mode=Mode.CHECK)
    assert again.actions == {"unchanged": 2}
    # A changed cell updates the stored record (with its history).
    changed = _xlsx(units.header(), [_unit_row(units, community_x, address="新建路2号")])
    assert _import(client, UNITS, changed).outcome == "导入完成：新增 0 条，更新 1 条，未变化 0 条。"
    unit = MemberUnit.objects.get(name="晋阳建设集团")
    assert unit.address == "新建路2号" and unit.history.count() == 2
    assert unit.history.first().history_user == street_staff
    member_changed = _xlsx(members.header(), [_member_row(members, community_x, work_unit=unit_a.name, skills="书法")])
    _import(client, MEMBERS, member_changed)
    member = PartyMember.objects.get()
    assert member.skills == "书法"
    assert member.history.first().history_change_reason == "updated by staff"


def test_the_status_of_a_recorded_unit_is_not_changed_by_import(street_staff, unit_a):
    importer = UnitImporter(actor=street_staff)
    row = importer.export_row(MemberUnit.objects.select_related("community", "sector").get(pk=unit_a.pk))
    row[[c.key for c in importer.columns].index("status")] = str(MemberUnit.Status.WITHDRAWN.label)
    rows = importer.read(_file(_xlsx(importer.header(), [row])))
    assert not rows[0].ok and str(importer.column("status").label) in rows[0].errors[0]


# --- Refused files ----------------------------------------------------------------------------------


def test_an_oversize_file_is_refused_and_nothing_written(street_staff, community_x, settings):
    importer = UnitImporter(actor=street_staff)
    rows = [_unit_row(importer, community_x)]
    big = _xlsx(importer.header(), rows)
    # Pad the archive with an incompressible member so the file is over 5 MB.
    buffer = io.BytesIO(big)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo("xl/media/padding.bin"), os.urandom(5 * 1024 * 1024 + 10))
    content = buffer.getvalue()
    assert len(content) > 5 * 1024 * 1024
    client = client_for(street_staff)
    response = client.post(reverse(f"{UNITS}_import"), {"file": _file(content)})
    assert response.status_code == 200
    assert "5 MB" in str(response.context["form"].errors["file"])
    assert _uploads(settings) == []
    with pytest.raises(ImportRefused):
        importer.read(_file(content))
    assert MemberUnit.objects.count() == 0


def test_a_file_of_more_than_5000_rows_imports(street_staff, community_x):
    importer = MemberImporter(actor=street_staff)
    rows = [_member_row(importer, community_x, phone=f"137{n:08d}", work_unit="某单位") for n in range(5001)]
    outcome = importer.execute(_file(_xlsx(importer.header(), rows)), mode=Mode.ALL)
    assert outcome.written and outcome.actions == {"create": 5001}
    assert PartyMember.objects.count() == 5001


LAUGHS = "".join(
    ['<!ENTITY lol "lol">']
    + [f'<!ENTITY lol{n} "{("&lol;" if n == 1 else f"&lol{n - 1};") * 10}">' for n in range(1, 10)]
)


def _billion_laughs(content: bytes, part: str) -> bytes:
    """The workbook with a billion-laughs entity declared in `part`: the shared strings (added, as openpyxl
    writes strings inline) or the worksheet."""
    doctype = f"<!DOCTYPE lolz [{LAUGHS}]>"
    shared_strings = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    bomb = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"{doctype}"
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    )
    source, target = io.BytesIO(content), io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "[Content_Types].xml" and part == "xl/sharedStrings.xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{shared_strings}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            if item.filename == part:  # openpyxl writes its parts without an XML declaration
                data = doctype.encode() + data
            rebuilt.writestr(item, data)
        if part == "xl/sharedStrings.xml":
            rebuilt.writestr(part, bomb)
    return target.getvalue()


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_an_xml_bomb_is_refused_with_a_message_and_nothing_written(part, street_staff, community_x, settings):
    importer = UnitImporter(actor=street_staff)
    content = _billion_laughs(_xlsx(importer.header(), [_unit_row(importer, community_x)]), part)
    with pytest.raises(ImportRefused) as refused:
        importer.read(_file(content))
    assert "XML" in refused.value.message
    client = client_for(street_staff)
    response = _upload(client, UNITS, content)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse(f"{UNITS}_import")  # the upload page again
    assert any("XML" in m for m in response.context["form"].errors["file"])
    assert _uploads(settings) == [] and not Job.objects.exists()
    assert MemberUnit.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"name,phone\n", "units.csv"),
        (b"this is not a workbook", "units.xlsx"),
        (b"PK\x03\x04broken", "units.xlsx"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused(content, name, street_staff, settings):
    response = _upload(client_for(street_staff), UNITS, content, name)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse(f"{UNITS}_import")
    assert any(".xlsx" in m for m in response.context["form"].errors["file"])
    assert _uploads(settings) == [] and not Job.objects.exists()
    assert MemberUnit.objects.count() == 0


def test_a_workbook_without_the_required_columns_is_refused(street_staff):
    importer = MemberImporter(actor=street_staff)
    with pytest.raises(ImportRefused) as refused:
        importer.read(_file(_xlsx(["序号", "备注"], [[1, "x"]])))
    assert str(importer.column("phone").label) in refused.value.message


def test_only_the_requester_and_street_staff_follow_an_import_and_its_result(
    community_x_staff, community_y_staff, street_staff, community_x
):
    importer = MemberImporter(actor=community_x_staff)
    content = _xlsx(importer.header(), [_member_row(importer, community_x, phone="1", work_unit="某单位")])
    job = _import(client_for(community_x_staff), MEMBERS, content, mode=Mode.CHECK)
    assert job.result
    for user, status in ((community_y_staff, 404), (street_staff, 200), (community_x_staff, 200)):
        client = client_for(user)
        assert client.get(reverse("admin:alliance_job_change", args=[job.pk])).status_code == status
        assert client.get(reverse("admin:alliance_job_result", args=[job.pk])).status_code == status
    page = client_for(community_x_staff).get(reverse("admin:alliance_job_change", args=[job.pk])).content.decode()
    assert reverse("admin:alliance_job_result", args=[job.pk]) in page and job.outcome in page
    workbench = client_for(community_x_staff).get(reverse("admin:index")).content.decode()
    assert f'data-job="{job.pk}"' in workbench


# --- Export and template ----------------------------------------------------------------------------


def _export(client, admin: str, objects) -> bytes:
    return export_through_job(
        client,
        reverse(f"{admin}_changelist"),
        {"action": "export_import_layout", "_selected_action": [o.pk for o in objects]},
    )


def test_export_then_import_round_trips_unchanged(street_staff, community_x, community_y):
    sector = SectorFactory(street=community_x.street, name="学校分会")
    units = [
        MemberUnitFactory(community=community_x, sector=sector, address="桥头街8号", liaison_email="a@example.org"),
        MemberUnitFactory(community=community_y, credit_code="", name='=HYPERLINK("x")', joined_on=None),
        MemberUnitFactory(community=community_y, status=MemberUnit.Status.APPLIED, party_member_count=0),
    ]
    members = [
        PartyMemberFactory(residence_community=community_x, work_unit=units[0], skills="摄影"),
        PartyMemberFactory(residence_community=community_y, work_unit=None, work_unit_name="未加入的公司"),
        PartyMemberFactory(residence_community=community_y, status=PartyMember.Status.PENDING),
    ]
    before_units = [model_to_dict(u) for u in MemberUnit.objects.order_by("pk")]
    before_members = [model_to_dict(m) for m in PartyMember.objects.order_by("pk")]
    client = client_for(street_staff)
    for admin, objects in ((UNITS, units), (MEMBERS, members)):
        content = _export(client, admin, objects)
        sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
        header = next(sheet.iter_rows(values_only=True))
        importer = (UnitImporter if admin == UNITS else MemberImporter)(actor=street_staff)
        assert list(header) == importer.header()  # exactly the import layout
        job = _import(client, admin, content)
        assert job.status == Job.Status.DONE, job.failure_reason
        assert job.outcome == "导入完成：新增 0 条，更新 0 条，未变化 3 条。"
    assert [model_to_dict(u) for u in MemberUnit.objects.order_by("pk")] == before_units
    assert [model_to_dict(m) for m in PartyMember.objects.order_by("pk")] == before_members


def test_an_exported_and_edited_file_updates_the_records(street_staff, community_x, unit_a):
    member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a, party_branch="旧支部")
    client = client_for(street_staff)
    workbook = load_workbook(io.BytesIO(_export(client, MEMBERS, [member])))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index(str(MemberImporter.columns[3].label)) + 1, value="新支部")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _import(client, MEMBERS, buffer.getvalue()).outcome == "导入完成：新增 0 条，更新 1 条，未变化 0 条。"
    member.refresh_from_db()
    assert member.party_branch == "新支部" and member.work_unit == unit_a
    assert PartyMember.objects.count() == 1


@pytest.mark.parametrize("admin", [UNITS, MEMBERS])
def test_the_template_downloads_with_headers_and_one_example_row(admin, street_staff, community_x, unit_a):
    client = client_for(street_staff)
    response = client.get(reverse(f"{admin}_import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    importer = (UnitImporter if admin == UNITS else MemberImporter)(actor=street_staff)
    assert list(rows[0]) == importer.header()
    assert len(rows) == 2
    # The example row is itself a valid row.
    assert [row.errors for row in importer.read(_file(response.content))] == [[]]


def test_the_import_links_show_on_the_lists_for_staff(community_x_staff):
    client = client_for(community_x_staff)
    for admin in (UNITS, MEMBERS):
        page = client.get(reverse(f"{admin}_changelist")).content.decode()
        assert reverse(f"{admin}_import") in page and reverse(f"{admin}_import_template") in page
        assert client.get(reverse(f"{admin}_import")).status_code == 200


def test_people_who_are_not_staff_cannot_import(liaison_a):
    client = client_for(liaison_a)
    for admin in (UNITS, MEMBERS):
        for page in (reverse(f"{admin}_import"), reverse(f"{admin}_import_template")):
            response = client.get(page)
            assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), page


# --- At scale: batches, queries, messages --------------------------------------------------------------


def _run_job(kind: str, actor, content: bytes, mode: str = Mode.ALL) -> tuple[Job, int]:
    """Run an import job as the worker does; the number of queries it took."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("imports/test.xlsx", ContentFile(content))
    job = Job.objects.create(kind=kind, label="test", payload={"upload": name, "mode": mode}, requested_by=actor)
    # A worker past its first job: the actor's group names and street scope are in the cache
    # (alliance/permissions.py).
    permissions.street_scope(type(actor).objects.get(pk=actor.pk))
    with CaptureQueriesContext(connection) as queries:
        jobs.run(job.pk)
    job.refresh_from_db()
    return job, len(queries.captured_queries)


def _member_file(community, count: int, first: int = 0, **values) -> bytes:
    importer = MemberImporter(actor=None)
    rows = [
        _member_row(importer, community, name=f"党员{n}", phone=f"137{n:08d}", work_unit="某单位", **values)
        for n in range(first, first + count)
    ]
    return _xlsx(importer.header(), rows)


def _unit_file(community, count: int) -> bytes:
    importer = UnitImporter(actor=None)
    rows = [
        _unit_row(
            importer, community, name=f"单位{n}", credit_code=_credit_code(800000 + n), liaison_phone=f"139{n:08d}"
        )
        for n in range(count)
    ]
    return _xlsx(importer.header(), rows)


# The queries of a batch: the look-ups of its rows, the bulk INSERT / UPDATE and their history rows, the
# progress; around them, the job's claim and finish, the file's look-ups and one message per person.
@pytest.mark.parametrize(
    ("kind", "make", "expected"), [("import.members", _member_file, 27), ("import.units", _unit_file, 20)]
)
def test_the_queries_of_an_import_do_not_grow_with_its_rows(
    kind, make, expected, street_staff, community_x, community_x_staff
):
    counts = []
    for size, first in ((10, 0), (30, 100)):
        content = make(community_x, size) if kind == "import.units" else make(community_x, size, first)
        if kind == "import.units":
            MemberUnit.objects.all().delete()
        job, count = _run_job(kind, street_staff, content)
        assert job.status == Job.Status.DONE, job.failure_reason
        counts.append(count)
    assert counts == [expected, expected]


def test_changed_rows_are_updated_in_batches_with_their_history(street_staff, community_x, community_x_staff):
    _run_job("import.members", street_staff, _member_file(community_x, 30))
    counts = []
    for skills, size in (("书法", 10), ("摄影", 30)):
        job, count = _run_job("import.members", street_staff, _member_file(community_x, size, skills=skills))
        assert job.outcome == f"导入完成：新增 0 条，更新 {size} 条，未变化 {30 - size if skills == '摄影' else 0} 条。"
        counts.append(count)
    assert counts == [20, 20]
    member = PartyMember.objects.get(phone="13700000029")
    assert member.skills == "摄影" and member.history.count() == 2


def test_each_batch_costs_the_same_queries_and_a_repeat_across_batches_is_found(street_staff, community_x, monkeypatch):
    monkeypatch.setattr(MemberImporter, "batch_rows", 10)
    one_batch = _run_job("import.members", street_staff, _member_file(community_x, 10))[1]
    three_batches = _run_job("import.members", street_staff, _member_file(community_x, 30, first=100))[1]
    # 8 queries a batch of 10 rows. Around them, as in the test above, and since the community has no
    # staff of its own its street's staff are told: the community's street and that street's staff.
    assert (one_batch, three_batches) == (32, 32 + 2 * 8)
    # Row 2 and row 27 name the same person: found although they are in different batches, and the rows
    # written by the first two batches are rolled back with the rest.
    importer = MemberImporter(actor=street_staff)
    rows = [_member_row(importer, community_x, phone=f"136{n:08d}", work_unit="某单位") for n in range(25)]
    rows.append(rows[0])
    job, _count = _run_job("import.members", street_staff, _xlsx(importer.header(), rows))
    assert job.status == Job.Status.FAILED
    listed = _listed(client_for(street_staff), job)
    assert listed[27][0] == "无效" and "2" in listed[27][1]
    assert not PartyMember.objects.filter(phone__startswith="136").exists()


def test_an_import_tells_each_person_once_not_once_per_row(
    street_staff, community_x, community_y, community_x_staff, community_y_staff
):
    other = _member_file(community_y, 4, first=50)
    importer = MemberImporter(actor=street_staff)
    both = _xlsx(
        importer.header(),
        [
            *list(
                load_workbook(io.BytesIO(_member_file(community_x, 6))).active.iter_rows(min_row=2, values_only=True)
            ),
            *list(load_workbook(io.BytesIO(other)).active.iter_rows(min_row=2, values_only=True)),
        ],
    )
    job, _count = _run_job("import.members", street_staff, both)
    assert job.status == Job.Status.DONE
    told = {n.recipient.username: (n.subject, n.body) for n in Notification.objects.select_related("recipient")}
    assert told == {
        "street_staff": ("在职党员导入完成", job.outcome),
        "community_x_staff": (
            "通过导入登记了 6 名在职党员",
            f"{community_x.name} 有 6 名通过导入登记的在职党员等待核验。",
        ),
        "community_y_staff": (
            "通过导入登记了 4 名在职党员",
            f"{community_y.name} 有 4 名通过导入登记的在职党员等待核验。",
        ),
    }
