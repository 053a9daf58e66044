"""Streets, communities, sector branches, member units and their agreements and council seats, and the
accounts: one superuser, one street staff user, one staff user per community, one liaison per active unit
and some Party members — all with the same password, hashed once."""

from __future__ import annotations

import math
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from alliance import permissions
from members.models import (
    Agreement,
    Community,
    CommunityStaff,
    CouncilSeat,
    MemberUnit,
    Sector,
    Street,
    StreetStaff,
    UnitMembership,
)
from members.services import UNIT_PERMISSIONS

from .rows import next_id
from .words import COMMUNITIES, SECTORS, UNIT_TYPE_TO_SECTOR, UNIT_TYPES
from .world import Picker, World

USER_PREFIX = "scale_"
COUNCIL = [("president", 1), ("executive_vice_president", 1), ("vice_president", 3), ("secretary_general", 1)]


def write(w: World) -> None:
    _streets(w)
    _units(w)
    _accounts(w)
    _agreements_and_council(w)


def _streets(w: World) -> None:
    r, sc = w.rng, w.scale
    w.streets = list(range(next_id(Street), next_id(Street) + sc.streets))
    w.copy(
        "streets",
        Street,
        "id name alliance_name address",
        ((s, f"第{n + 1}街道", f"第{n + 1}街道党建联盟", f"某市某区{n + 1}号") for n, s in enumerate(w.streets)),
    )
    first = next_id(Community)
    community_rows, sector_rows = [], []
    sector_id = next_id(Sector)
    for s in w.streets:
        for i in range(sc.communities_per_street):
            pk = first + len(community_rows)
            community_rows.append((pk, s, f"{COMMUNITIES[i % len(COMMUNITIES)]}社区{i // len(COMMUNITIES) or ''}", i))
            w.communities.append(pk)
            w.community_street[pk] = s
            # Big communities and small ones: a log-normal size, so a few have four times the median.
            w.community_weight[pk] = math.exp(r.gauss(0, 0.7))
        w.sectors[s] = {}
        for kind, name in SECTORS:
            sector_rows.append((sector_id, s, name, kind))
            w.sectors[s][kind] = sector_id
            sector_id += 1
    w.copy("communities", Community, "id street name sort_order", community_rows)
    w.copy("sector branches", Sector, "id street name kind", sector_rows)
    w.community_picker = Picker(r, w.communities, [w.community_weight[c] for c in w.communities])


def _units(w: World) -> None:
    r, g = w.rng, w.g
    first = next_id(MemberUnit)
    rows = []
    communities = w.community_picker.many(w.scale.units)
    # Every community has at least one unit: the "N" of "1+9+N" is never 0.
    communities[: len(w.communities)] = w.communities
    for n, community in enumerate(communities):
        pk = first + n
        unit_type, suffix, level = r.choice(UNIT_TYPES)
        # The first unit of each community is active, so every community has one to dispatch to.
        status = (
            "active"
            if n < len(w.communities)
            else g.pick([("active", 0.94), ("applied", 0.03), ("withdrawn", 0.02), ("rejected", 0.01)])
        )
        street = w.community_street[community]
        sector = w.sectors[street][UNIT_TYPE_TO_SECTOR.get(unit_type, r.choice(("member_unit", "other")))]
        created = w.moment()
        rows.append(
            (
                pk,
                f"{COMMUNITIES[n % len(COMMUNITIES)]}{n:05d}{suffix}",
                unit_type,
                level,
                sector,
                community,
                f"某区某路{n}号",
                "可提供场地、人员和专业服务。",
                f"{suffix}党支部",
                g.pick([("committee", 0.15), ("general_branch", 0.2), ("branch", 0.6), ("none", 0.05)]),
                g.name(),
                g.name(),
                g.phone(),
                r.randrange(3, 300),
                created.date() if status != "applied" else None,
                status,
                created,
                created,
            )
        )
        w.unit_community[pk] = community
        w.unit_sector[pk] = sector
        if status == "active":
            w.active_units.append(pk)
            w.units_by_community.setdefault(community, []).append(pk)
            w.units_by_street.setdefault(street, []).append(pk)
    w.copy(
        "member units",
        MemberUnit,
        "id name unit_type level sector community address description party_org_name party_org_kind"
        " secretary_name liaison_name liaison_phone party_member_count joined_on status created_at updated_at",
        rows,
    )


def _accounts(w: World) -> None:
    user_model = get_user_model()
    first = next_id(user_model)
    joined = w.start
    users: list[tuple] = []

    def user(username: str, first_name: str, *, staff: bool = False, superuser: bool = False) -> int:
        pk = first + len(users)
        users.append((pk, w.password, superuser, username, first_name, staff, True, joined))
        return pk

    user(f"{USER_PREFIX}admin", "系统管理员", staff=True, superuser=True)
    w.staff = user(f"{USER_PREFIX}staff", "街道党工委", staff=True)
    for c in w.communities:
        w.community_staff[c] = user(f"{USER_PREFIX}community_{c}", "社区工作人员", staff=True)
    for u in w.active_units:
        w.liaison[u] = user(f"{USER_PREFIX}liaison_{u}", w.g.name())
    w.member_users = [user(f"{USER_PREFIX}member_{n}", w.g.name()) for n in range(w.scale.member_accounts)]
    w.copy(
        "accounts",
        user_model,
        "id password is_superuser username first_name is_staff is_active date_joined",
        users,
    )

    street_group = Group.objects.get_or_create(name=permissions.STREET_STAFF_GROUP)[0].pk
    community_group = Group.objects.get_or_create(name=permissions.COMMUNITY_STAFF_GROUP)[0].pk
    memberships = [(w.staff, street_group)] + [(u, community_group) for u in w.community_staff.values()]
    w.copy("group memberships", user_model.groups.through, "user group", memberships)
    # The bench's street staff oversee every street (the widest street scope, as members.services
    # street_staff_add would record it): their lists need no street filter.
    w.copy(
        "street staff",
        StreetStaff,
        "user street created_at",
        ((w.staff, street, joined) for street in w.streets),
    )
    w.copy(
        "community staff",
        CommunityStaff,
        "user community created_at",
        ((u, c, joined) for c, u in w.community_staff.items()),
    )
    w.copy(
        "unit accounts",
        UnitMembership,
        "user unit role created_at",
        ((user_id, unit, "liaison", joined) for unit, user_id in w.liaison.items()),
    )

    # What the services grant with those rows (members.services): guardian object permissions.
    unit_type = ContentType.objects.get_for_model(MemberUnit).pk
    community_type = ContentType.objects.get_for_model(Community).pk
    unit_perms = [
        Permission.objects.get(content_type_id=unit_type, codename=p.split(".")[1]).pk for p in UNIT_PERMISSIONS
    ]
    administer = Permission.objects.get(content_type_id=community_type, codename="administer_community").pk

    def grants():
        for unit, user_id in w.liaison.items():
            for perm in unit_perms:
                yield perm, unit_type, str(unit), user_id
        for community, user_id in w.community_staff.items():
            yield administer, community_type, str(community), user_id

    w.copy("object permissions", UserObjectPermission, "permission content_type object_pk user", grants())


def _agreements_and_council(w: World) -> None:
    r, g = w.rng, w.g
    agreements = []
    for unit in w.active_units:
        signed = (w.moment() - timedelta(days=200)).date()
        term_end = signed + timedelta(days=r.choice((365, 730, 1095)))
        agreements.append((unit, "共驻共建协议书", signed, term_end, "资源共享\n活动共办\n难题共解", w.start))
    w.copy("agreements", Agreement, "unit title signed_on term_end content created_at", agreements)
    seats = []
    term_start = w.start.date()
    for street, units in w.units_by_street.items():
        holders = r.sample(units, k=min(len(units), 16))
        roles = [role for role, count in COUNCIL for _ in range(count)] + ["member"] * 10
        for role, unit in zip(roles, holders, strict=False):
            seats.append((street, role, unit, g.name(), term_start, term_start + timedelta(days=3 * 365)))
    w.copy("council seats", CouncilSeat, "street role unit holder_name term_start term_end", seats)
