"""Every string staff see in the admin is Chinese (issue 11, "staff workbench").

For every model registered in `admin.site`, as street staff and — on the screens community staff may open
(`ScopedAdminMixin.staff_roles == "community"`) — as community staff too, the change list, the change form
of one existing object, that object's history page and (where the admin keeps versions) its latest past
version are opened. Each page answers what
`tests/alliance/policy.py` says (a role that may not open a screen gets its documented 403 or 404 and
nothing more is checked), its <title> is Chinese, and its visible text holds none of the known leaks.

How "visible text" is read, so that data never counts as a leak:
- only text nodes: attribute values (an <input>'s value, a link's href, an option's value) are never read;
- never inside <script>, <style> or <textarea> (code and typed-in data);
- never inside an element marked as data: the `field-username` column and <a> links in change-list rows,
  whose text is a row's own name (a username, a code such as `repair`). The world's data is Chinese or
  plain lower-case words without a colon, so a leak pattern in the rest can only be the platform's own.

The leaks are English words of Django's and its third-party apps' screens (the multi-select widget, the
history pages), raw notification kinds (`need_resident:dispatched`) and raw status values in history
diffs (`— → submitted`). Django's JavaScript catalogue (the multi-select widget's "Choose all") is
checked as the page asks for it: `admin/jsi18n/`.

Chinese titles and texts appear once the catalogues are compiled
(`manage.py compile_catalogues`)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from alliance import notification_kinds
from alliance.models import Notification
from demands.models import Need, NeedEvent
from meetings.models import Reminder

from . import policy
from .matrix_world import build_world

ROLES = ("street_staff", "community_x_staff")
PAGES = ("changelist", "change", "history")

# English words a Chinese member of staff would read as untranslated, matched as whole words.
LEAK_WORDS = (
    "Select all",
    "Choose all",
    "Remove all",
    "Filter",
    "Available",
    "Chosen",
    "Change history",
    "View history",
    "Date/time",
    "User",
    "Action",
    "Changed",
    "Changed by",
    "Change reason",
    "Changes",
    "Comment",
    "Object",
    "Added",
    "Deleted",
    "No fields changed",
    "Show all",
    "None",
    "True",
    "False",
    "entry",
    "entries",
)
LEAK_PATTERNS = (
    # A raw notification kind: `need_resident:dispatched`, `reminder:meeting_24h`.
    re.compile(r"\b[a-z_]+:[a-z_0-9]+\b"),
    *(re.compile(rf"(?<![\w/]){re.escape(word)}(?![\w/])") for word in LEAK_WORDS),
)
# A raw status value after an arrow (`— → submitted`, `dispatched → accepted`): a word that is the code of
# some field's choice. A username after an arrow (a reminder's `会议前24小时 → liaison_a`) is data.
ARROW = re.compile(r"→\s*([a-z_0-9]+)\b")
CHOICE_CODES = frozenset(
    str(value)
    for model in apps.get_models()
    for field in model._meta.concrete_fields
    if field.choices
    for value, _label in field.flatchoices
)
TITLE_WORDS = ("Select", "Change", "Add", "history", "History", "Django")
CJK = re.compile(r"[\u4e00-\u9fff]")


class _Text(HTMLParser):
    """The page's title and the text nodes a person reads (see the module docstring)."""

    SKIPPED = {"script", "style", "textarea"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (tag, its text is data, inside the change list's table of rows)
        self.stack: list[tuple[str, bool, bool]] = []
        self.title = ""
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attributes = dict(attrs)
        parent_data, parent_rows = self.stack[-1][1:] if self.stack else (False, False)
        rows = parent_rows or (tag == "table" and attributes.get("id") == "result_list")
        data = (
            parent_data
            or tag in self.SKIPPED
            or "field-username" in (attributes.get("class") or "").split()
            # A change-list row's link names the row's object: its own data.
            or (tag == "a" and parent_rows)
        )
        self.stack.append((tag, data, rows))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if any(entry[0] == "title" for entry in self.stack):
            self.title += data
            return
        if self.stack and self.stack[-1][1]:
            return
        if data.strip():
            self.texts.append(" ".join(data.split()))


def read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser


def leaks_in(texts: list[str], data: frozenset[str] = frozenset()) -> list[str]:
    """The leaks in `texts`; `data` are words that are the world's own (usernames) after an arrow."""
    found = []
    for text in texts:
        for pattern in LEAK_PATTERNS:
            found += [f"{match.group(0)!r} in {text[:120]!r}" for match in pattern.finditer(text)]
        found += [
            f"{m.group(0)!r} in {text[:120]!r}" for m in ARROW.finditer(text) if m.group(1) in CHOICE_CODES - data
        ]
    return found


# --- The cases, known without a database --------------------------------------------------------


def _cases():
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}/{model._meta.model_name}"
        roles = ROLES if getattr(model_admin, "staff_roles", "street") == "community" else ROLES[:1]
        for role in roles:
            # simple-history's page of one past version, where the admin keeps versions.
            pages = (*PAGES, "version") if isinstance(model_admin, SimpleHistoryAdmin) else PAGES
            for page in pages:
                yield pytest.param(label, role, page, id=f"{label} {page} × {role}")


CASES = list(_cases())


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The authorization matrix's world, and what makes the known leaks show: a notification to a
    resident (its kind `need_resident:dispatched`) and a need whose status moved after it was made (a
    history diff between two statuses). Built once and rolled back after the module."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            Notification.objects.create(
                phone="13800000000",
                kind="need_resident:dispatched",
                subject="您的诉求",
                body="已派单",
                status=Notification.Status.SENT,
                sent_at=timezone.now(),
            )
            need = built["demands.need"]
            NeedEvent.objects.create(need=need, from_status="", to_status=Need.Status.SUBMITTED)
            NeedEvent.objects.create(need=need, from_status=Need.Status.SUBMITTED, to_status=Need.Status.DISPATCHED)
            need.status = Need.Status.ACCEPTED
            need.save()
            built.sessions = {}
            for role in ROLES:
                client = Client()
                client.force_login(built.users[role])
                built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            media.disable()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _client(world, role: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _url(world, label: str, page: str) -> str:
    app_label, model_name = label.split("/")
    model = next(m for m in admin.site._registry if m._meta.label_lower == f"{app_label}.{model_name}")
    if page == "changelist":
        return reverse(admin_urlname(model._meta, "changelist"))
    obj = world[model._meta.label_lower]
    if page == "version":
        version = obj.history.first().history_id if hasattr(obj, "history") else 0
        return reverse(admin_urlname(model._meta, "simple_history"), args=[obj.pk, version])
    return reverse(admin_urlname(model._meta, page), args=[obj.pk])


@pytest.mark.parametrize(("label", "role", "page"), CASES)
def test_every_admin_page_speaks_chinese(world, db, label, role, page):
    # A past version is answered like the history it belongs to.
    expected = policy._admin(policy.ADMIN_MODELS[label], "history" if page == "version" else page)[role]
    url = _url(world, label, page)
    response = _client(world, role).get(url)
    assert str(response.status_code) == expected.split()[0], f"GET {url} as {role}"
    if response.status_code != 200:
        return  # a screen this role may not open: its refusal is the authorization matrix's business
    page_text = read(response.content.decode())
    title = page_text.title.strip()
    assert CJK.search(title), f"{url}: title {title!r} is not Chinese"
    assert [w for w in TITLE_WORDS if w in title] == [], f"{url}: title {title!r}"
    usernames = frozenset(u.username for u in world.users.values() if u is not None)
    leaks = leaks_in(page_text.texts, usernames)
    assert not leaks, f"GET {url} as {role}:\n" + "\n".join(leaks)


def test_the_javascript_catalogue_is_chinese(world, db):
    """The multi-select widget (filter_horizontal) and the calendar take their words from here."""
    response = _client(world, "street_staff").get(reverse("admin:jsi18n"))
    assert response.status_code == 200
    body = response.content.decode()
    # Chinese words of SelectFilter2 — they appear once Django's zh_Hans catalogue is active.
    for chinese in ("全选", "删除全部", "可用", "选中的"):
        assert json.dumps(chinese)[1:-1] in body  # the catalogue writes \\uXXXX escapes
    # And every change form with the widget asks for it.
    widgets = [
        m
        for m, a in admin.site._registry.items()
        if (a.filter_horizontal or a.filter_vertical) and hasattr(a, "staff_roles")  # not the superusers' auth admin
    ]
    assert widgets
    for model in widgets:
        url = reverse(admin_urlname(model._meta, "change"), args=[world[model._meta.label_lower].pk])
        page = _client(world, "street_staff").get(url)
        assert f'src="{reverse("admin:jsi18n")}"' in page.content.decode(), url


def test_a_notification_kind_is_shown_in_words(world, db):
    response = _client(world, "street_staff").get(reverse("admin:alliance_notification_changelist"))
    # 告知居民：已派单 (the label of its prefix, then the need's status) once the catalogues are compiled.
    expected = f"{notification_kinds.kind_label('need_resident:')}: {Need.Status.DISPATCHED.label}"
    assert notification_kinds.kind_label("need_resident:dispatched") in (expected, expected.replace(": ", "："))
    texts = read(response.content.decode()).texts
    assert notification_kinds.kind_label("need_resident:dispatched") in texts
    # The filter offers the kinds by their labels, and finds the notification by its prefix.
    filtered = _client(world, "street_staff").get(
        reverse("admin:alliance_notification_changelist"), {"kind": "need_resident:"}
    )
    assert filtered.context["cl"].result_count == 1


def test_kind_labels_fall_back_to_the_code():
    assert notification_kinds.kind_label("") == "—"
    assert notification_kinds.kind_label("something_new") == "something_new"
    assert notification_kinds.kind_label("unit_approved") == str(_("Unit approved"))
    assert notification_kinds.kind_label("reminder:meeting_24h").endswith(str(Reminder.Kind.MEETING_24H.label))
    # A prefix with no words for its detail shows its label alone.
    assert notification_kinds.kind_label("agreement_expiring:3:2027-01-31") == str(_("Agreement expiring"))


def test_a_history_diff_shows_labels_and_local_times(world, db):
    need = world["demands.need"]
    response = _client(world, "street_staff").get(reverse("admin:demands_need_history", args=[need.pk]))
    texts = read(response.content.decode()).texts
    status = f"{Need.Status.DISPATCHED.label} → {Need.Status.ACCEPTED.label}"  # the reader folds &nbsp;
    assert status in texts
    latest = need.history.first()
    assert formats.date_format(timezone.localtime(latest.history_date), "DATETIME_FORMAT") in texts
    assert timezone.localtime(latest.history_date).tzinfo.key == "Asia/Shanghai"


def test_a_timeline_entry_names_statuses_by_their_labels(world, db):
    event = NeedEvent(from_status="", to_status=Need.Status.SUBMITTED)
    assert str(event) == f"— → {Need.Status.SUBMITTED.label}"


def test_the_leak_reader_reads_only_what_people_read():
    html = (
        "<html><head><title>选择 用户 来修改</title><script>var x = 'Select all';</script></head><body>"
        '<input value="need_resident:dispatched"><textarea>— → submitted</textarea>'
        '<table id="result_list"><tr><th><a href="/x/">repair:fix</a></th><td class="field-username">None</td>'
        "</tr></table><p>Show all</p><p>— → submitted</p><p>need_resident:dispatched</p></body></html>"
    )
    page = read(html)
    assert page.title == "选择 用户 来修改"
    assert page.texts == ["Show all", "— → submitted", "need_resident:dispatched"]
    assert len(leaks_in(page.texts)) == 3
