"""The members part of the demo: 柳巷街道 on the "1+9+N" model (seed 001) with 157 units (seed 000).

Demo data is data, not interface text, so it is written in Chinese here as a street would enter it."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from alliance import permissions
from alliance.models import Profile
from alliance.validators import credit_code_check_char

from . import selectors, services
from .models import (
    Agreement,
    Community,
    CouncilSeat,
    CouncilTerm,
    District,
    Grid,
    MemberUnit,
    Notice,
    NoticeAttachment,
    Sector,
    Street,
)

# The fixed demo street (SPEC "Fixed interfaces"); `seed_demo --district` puts it into 迎泽区.
DEMO_STREET = "柳巷街道"
COMMUNITIES = [
    "桥头街社区",
    "柳北社区",
    "柳南社区",
    "海子边社区",
    "新民头条社区",
    "府东社区",
    "钟楼社区",
    "开化寺社区",
    "按司街社区",
]
SECTORS = [
    ("部队分会", Sector.Kind.MILITARY),
    ("学校分会", Sector.Kind.SCHOOL),
    ("企业分会", Sector.Kind.ENTERPRISE),
    ("成员单位分会", Sector.Kind.MEMBER_UNIT),
    ("其它分会", Sector.Kind.OTHER),
]
T = MemberUnit.UnitType
L = MemberUnit.Level
# (unit type, level, sector kind, credit-code prefix, names). Prefixes follow GB 32100: 11 organs,
# 12 public institutions, 91 enterprises, 52 social organisations; military units have no code.
UNIT_GROUPS = [
    (
        T.GOVERNMENT,
        L.DISTRICT,
        Sector.Kind.MEMBER_UNIT,
        "11",
        [
            "迎泽区市场监督管理局",
            "迎泽区人民法院柳巷法庭",
            "迎泽区税务局柳巷税务所",
            "迎泽区司法局柳巷司法所",
            "迎泽区城市管理局柳巷中队",
            "迎泽区卫生健康局",
            "迎泽区民政局",
            "迎泽区人力资源和社会保障局",
            "迎泽区文化和旅游局",
            "迎泽区住房和城乡建设局",
            "迎泽区教育局",
            "迎泽区退役军人事务局",
        ],
    ),
    (
        T.GOVERNMENT,
        L.CITY,
        Sector.Kind.MEMBER_UNIT,
        "11",
        [
            "太原市档案馆",
            "太原市图书馆",
            "太原市公安局迎泽分局柳巷派出所",
            "太原市消防救援支队柳巷站",
            "太原市园林局",
            "太原市供水集团柳巷营业所",
        ],
    ),
    (
        T.GOVERNMENT,
        L.PROVINCE,
        Sector.Kind.MEMBER_UNIT,
        "11",
        [
            "山西省地方志研究院",
            "山西省文物局",
            "山西省科学技术协会",
            "山西省妇女联合会",
        ],
    ),
    (
        T.GOVERNMENT,
        L.STREET,
        Sector.Kind.MEMBER_UNIT,
        "11",
        [
            "柳巷街道综合便民服务中心",
            "柳巷街道新时代文明实践所",
            "柳巷街道退役军人服务站",
        ],
    ),
    (
        T.PUBLIC_INSTITUTION,
        L.CITY,
        Sector.Kind.OTHER,
        "12",
        [
            "太原市博物馆",
            "太原市青少年宫",
            "太原市老年大学",
            "太原广播电视台",
            "太原市疾病预防控制中心",
            "太原市公证处",
            "太原市气象局",
            "太原市规划展览馆",
        ],
    ),
    (
        T.HOSPITAL,
        L.PROVINCE,
        Sector.Kind.OTHER,
        "12",
        [
            "山西省人民医院",
            "山西省中医院",
            "山西省眼科医院",
            "山西省儿童医院",
        ],
    ),
    (
        T.HOSPITAL,
        L.DISTRICT,
        Sector.Kind.OTHER,
        "12",
        [
            "迎泽区中心医院",
            "迎泽区妇幼保健院",
            "柳巷社区卫生服务中心",
            "桥头街社区卫生服务站",
            "府东口腔门诊部",
        ],
    ),
    (
        T.SCHOOL,
        L.CITY,
        Sector.Kind.SCHOOL,
        "12",
        [
            "太原市第五中学",
            "太原市第十中学",
            "太原市实验小学",
            "太原师范学院附属中学",
            "太原市第二外国语学校",
            "太原市财贸职业学校",
        ],
    ),
    (
        T.SCHOOL,
        L.DISTRICT,
        Sector.Kind.SCHOOL,
        "12",
        [
            "迎泽区柳巷小学",
            "迎泽区海子边小学",
            "迎泽区新民幼儿园",
            "迎泽区府东街小学",
            "迎泽区钟楼幼儿园",
            "迎泽区按司街小学",
            "迎泽区开化寺幼儿园",
        ],
    ),
    (T.SCHOOL, L.PROVINCE, Sector.Kind.SCHOOL, "12", ["山西大学继续教育学院", "山西财经大学柳巷校区"]),
    (
        T.STATE_ENTERPRISE,
        L.PROVINCE,
        Sector.Kind.ENTERPRISE,
        "91",
        [
            "山西饭店",
            "山西省邮政分公司柳巷支局",
            "国网太原供电公司柳巷供电所",
            "山西建投城市运营集团",
            "山西文旅集团柳巷文化公司",
            "华润万家柳巷店",
            "中国银行太原柳巷支行",
            "中国工商银行柳巷支行",
            "中国建设银行钟楼街支行",
            "中国农业银行海子边支行",
            "中国移动太原柳巷营业厅",
            "中国电信迎泽分公司",
        ],
    ),
    (
        T.STATE_ENTERPRISE,
        L.CITY,
        Sector.Kind.ENTERPRISE,
        "91",
        [
            "太原天然气有限公司柳巷营业所",
            "太原公交集团一公司",
            "太原市热力公司迎泽分公司",
            "太原百货大楼",
            "太原钟楼街商业运营公司",
            "太原市食品公司",
        ],
    ),
    (
        T.PRIVATE_ENTERPRISE,
        L.DISTRICT,
        Sector.Kind.ENTERPRISE,
        "91",
        [
            "认一力清和元饭店",
            "老鼠窟元宵店",
            "六味斋柳巷店",
            "双合成食品柳巷店",
            "开化寺古玩城",
            "华宇购物中心",
            "茂业天地",
            "铜锣湾购物中心柳巷店",
            "柳巷商业步行街管理公司",
            "新民头条家政服务公司",
            "恒大物业柳北项目部",
            "万科物业府东项目部",
            "海子边律师事务所",
            "晋商律师事务所",
            "德馨会计师事务所",
            "柳巷眼镜店",
            "钟楼街药房",
            "老百姓大药房柳巷店",
            "桥头街书店",
            "晋韵文化传媒公司",
            "柳巷快递服务站",
            "府东印务公司",
            "按司街家电维修部",
            "开化寺街健身中心",
            "新民头条幼教中心",
            "柳南社区养老服务中心",
            "桥头街理发店",
            "海子边花店",
            "柳北超市",
            "钟楼街照相馆",
            "柳巷咖啡馆",
            "府东街餐饮公司",
            "晋味老店",
            "柳巷百货商行",
            "新民头条建材店",
            "柳南口腔诊所",
            "双塔寺街物业公司",
            "柳巷电子商务公司",
            "晋风文化艺术培训学校",
            "按司街法律咨询公司",
            "柳巷网络科技公司",
            "开化寺科技服务公司",
        ],
    ),
    (
        T.SOCIAL_ORGANISATION,
        L.DISTRICT,
        Sector.Kind.OTHER,
        "52",
        [
            "迎泽区义工联合会",
            "柳巷志愿者协会",
            "迎泽区书法家协会",
            "迎泽区老年体育协会",
            "柳巷商会",
            "迎泽区心理咨询协会",
            "迎泽区慈善总会柳巷分会",
            "阳光助残服务社",
            "红帆社会工作服务中心",
            "邻里守望互助会",
            "迎泽区律师协会",
            "夕阳红文艺队",
            "柳巷社区基金会",
            "青少年成长服务中心",
        ],
    ),
    (
        T.SOCIAL_ORGANISATION,
        L.COMMUNITY,
        Sector.Kind.OTHER,
        "52",
        [
            "桥头街居民议事会",
            "柳北社区志愿服务队",
            "柳南社区老年协会",
            "海子边社区书画社",
            "新民头条社区合唱团",
            "府东社区调解委员会",
            "钟楼社区读书会",
            "开化寺社区健身队",
            "按司街社区巾帼志愿队",
        ],
    ),
    (
        T.MILITARY,
        L.CITY,
        Sector.Kind.MILITARY,
        "",
        [
            "武警山西总队某支队",
            "太原警备区某部",
            "太原市人民武装部",
            "武警太原支队某中队",
            "陆军某部驻太原办事处",
        ],
    ),
    (
        T.OTHER,
        L.DISTRICT,
        Sector.Kind.OTHER,
        "91",
        [
            "柳巷文化站",
            "迎泽区工人文化宫",
            "府东街社区食堂",
            "钟楼街停车场管理站",
            "柳巷公共自行车服务站",
            "海子边公园管理处",
            "开化寺街市场服务中心",
            "新民头条菜市场",
            "按司街便民服务站",
            "桥头街文化广场管理处",
            "柳巷党群服务中心",
            "府东街文体活动中心",
        ],
    ),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红海燕鹏辉晓东文斌宇浩凯"
ORG_SUFFIX = {"committee": "党委", "general_branch": "党总支", "branch": "党支部"}
AGREEMENT_ITEMS = "组织联建\n资源联享\n活动联办\n服务联做\n难题联解\n文明联创"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return rng.choice(("135", "138", "139", "150", "158", "186", "187", "177")) + "".join(
        rng.choice(string.digits) for _ in range(8)
    )


def _credit_code(rng: random.Random, prefix: str) -> str:
    if not prefix:
        return ""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = prefix + "140106" + "".join(rng.choice(alphabet) for _ in range(9))  # 140106 = 迎泽区
    return body + credit_code_check_char(body)


def _user(username: str, password: str, *, first_name: str = "", phone: str = "", **flags):
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(username=username, defaults={"first_name": first_name, **flags})
    user.set_password(password)
    user.save()
    if phone:
        Profile.objects.update_or_create(user=user, defaults={"phone": phone})
    return user


def seed(*, context: dict, password: str, stdout) -> None:
    rng = random.Random(2026)
    today = selectors.today()
    street = Street.objects.create(name=DEMO_STREET, alliance_name="“1+9+N”党建联盟", address="太原市迎泽区柳巷")
    communities = [
        Community.objects.create(street=street, name=name, sort_order=i) for i, name in enumerate(COMMUNITIES)
    ]
    for community in communities:
        for n in range(1, 5):
            Grid.objects.create(community=community, name=f"第{n}网格", keeper_name=_person(rng))
    sectors = {kind: Sector.objects.create(street=street, name=name, kind=kind) for name, kind in SECTORS}

    units: list[MemberUnit] = []
    for unit_type, level, sector_kind, prefix, names in UNIT_GROUPS:
        for name in names:
            community = rng.choice(communities)
            joined = today - timedelta(days=rng.randint(30, 900))
            kind = rng.choice(list(MemberUnit.PartyOrgKind)[:3])
            units.append(
                MemberUnit(
                    name=name,
                    credit_code=_credit_code(rng, prefix),
                    unit_type=unit_type,
                    level=level,
                    sector=sectors[sector_kind],
                    community=community,
                    address=f"太原市迎泽区{community.name[:-2]}{rng.randint(1, 199)}号",
                    party_org_name=name + ORG_SUFFIX[kind],
                    party_org_kind=kind,
                    secretary_name=_person(rng),
                    liaison_name=_person(rng),
                    liaison_phone=_phone(rng),
                    party_member_count=rng.randint(3, 120),
                    joined_on=joined,
                    status=MemberUnit.Status.ACTIVE,
                    description=rng.choice(
                        [
                            "可免费开放会议室和活动场地",
                            "可提供义诊、健康讲座",
                            "可提供法律咨询",
                            "可组织志愿者参加社区服务",
                            "可提供就业岗位信息",
                            "可开展文艺演出和书画培训",
                            "可提供青少年课后托管",
                        ]
                    ),
                )
            )
    # Three applications waiting for review, one withdrawn unit: every status is there to look at.
    for unit in units[-4:-1]:
        unit.status, unit.joined_on = MemberUnit.Status.APPLIED, None
    units[-1].status = MemberUnit.Status.WITHDRAWN
    MemberUnit.objects.bulk_create(units)
    units = list(MemberUnit.objects.filter(community__street=street).order_by("pk"))
    assert len(units) == 157, len(units)

    agreements = []
    for i, unit in enumerate(u for u in units if u.status == MemberUnit.Status.ACTIVE):
        if i % 4 == 3:
            continue  # not every unit has signed yet
        signed = unit.joined_on or today
        # Every tenth agreement ends within the next 60 days, so the expiring list has rows.
        term_end = today + timedelta(days=10 + i % 50) if i % 10 == 0 else signed + timedelta(days=3 * 365)
        agreements.append(
            Agreement(
                unit=unit,
                title="共驻共建协议书",
                signed_on=min(signed, term_end),
                term_end=term_end,
                content=AGREEMENT_ITEMS,
            )
        )
    Agreement.objects.bulk_create(agreements)

    by_name = {u.name: u for u in units}
    term_start, term_end = date(today.year - 1, 6, 1), date(today.year + 2, 5, 31)
    seats = [
        (CouncilSeat.Role.PRESIDENT, "山西饭店", "卫旭华"),
        (CouncilSeat.Role.EXECUTIVE_VICE_PRESIDENT, "山西省人民医院", _person(rng)),
        (CouncilSeat.Role.VICE_PRESIDENT, "太原市第五中学", _person(rng)),
        (CouncilSeat.Role.VICE_PRESIDENT, "迎泽区人民法院柳巷法庭", _person(rng)),
        (CouncilSeat.Role.SECRETARY_GENERAL, "柳巷街道综合便民服务中心", _person(rng)),
    ] + [
        (CouncilSeat.Role.MEMBER, name, _person(rng))
        for name in ("华宇购物中心", "柳巷志愿者协会", "太原百货大楼", "武警山西总队某支队")
    ]
    # The council's second term (届), current; its seats make the roster of the portal and the public site.
    term = CouncilTerm.objects.create(street=street, number=2, start=term_start, end=term_end, is_current=True)
    CouncilSeat.objects.bulk_create(
        CouncilSeat(
            street=street,
            term=term,
            role=role,
            unit=by_name[name],
            holder_name=holder,
            term_start=term_start,
            term_end=term_end,
        )
        for role, name, holder in seats
    )

    admin = _user("admin", password, first_name="系统管理员", is_staff=True, is_superuser=True)
    staff = _user("staff", password, first_name="街道党工委", phone="13900000001", is_staff=True)
    services.street_staff_add(user=staff, street=street, actor=admin)
    Group.objects.get_or_create(name=permissions.COMMUNITY_STAFF_GROUP)
    community_user = _user("community", password, first_name="桥头街社区", phone="13900000002")
    services.community_staff_add(user=community_user, community=communities[0], actor=admin)

    # The two liaisons' units sit in different communities, so that scoping shows in the demo.
    liaison_unit = by_name["山西饭店"]
    liaison_unit.community = communities[0]
    liaison_unit.save(update_fields=["community"])
    liaison2_unit = by_name["太原市第五中学"]
    liaison2_unit.community = communities[1]
    liaison2_unit.save(update_fields=["community"])
    for username, unit in (("liaison", liaison_unit), ("liaison2", liaison2_unit)):
        user = _user(username, password, first_name=unit.liaison_name, phone=unit.liaison_phone)
        services.unit_membership_add(unit=unit, user=user, actor=admin)
    member = _user("member", password, first_name="陈国栋", phone="13900000006")

    context.update(
        street=street,
        communities=communities,
        sectors=sectors,
        units=units,
        users={
            "admin": admin,
            "staff": staff,
            "community": community_user,
            "member": member,
            "liaison": get_user_model().objects.get(username="liaison"),
            "liaison2": get_user_model().objects.get(username="liaison2"),
        },
        liaison_unit=liaison_unit,
        liaison2_unit=liaison2_unit,
    )
    notices = _notices(street, staff)
    stdout.write(
        f"  {len(communities)} communities, {len(units)} units, {len(agreements)} agreements, {len(notices)} notices"
    )


# The street's announcements (通知公告) on the public `/notices/` page: three published, one scheduled.
NOTICES = [
    (
        -20,
        "关于开展“双报到”在职党员进社区志愿服务的通知",
        "各成员单位：\n请组织本单位在职党员于本月底前到居住地社区报到，认领志愿服务岗位。\n柳巷街道党工委",
    ),
    (-6, "柳巷街道党群服务中心开放时间调整公告", "自下周一起，党群服务中心开放时间调整为每日 8:30—17:30。"),
    (-1, "冬季供暖服务热线公告", "供暖期间如遇问题，请先联系所在社区服务站，由社区统一对接供热单位。"),
    (3, "2026年度成员单位述职评议会预告", "述职评议会将于下周在党群服务中心举行，具体安排另行通知。"),
]


def _notices(street: Street, staff) -> list[Notice]:
    from django.core.files.base import ContentFile
    from django.utils import timezone

    now = timezone.now()
    made = []
    for days, title, body in NOTICES:
        notice = Notice(street=street, title=title, body=body, publish_from=now + timedelta(days=days))
        made.append(services.notice_save(notice=notice, actor=staff))
    # One with an attachment: a real (tiny) PDF, through the upload check like any other.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    NoticeAttachment.objects.create(notice=made[0], title="报到回执表", file=ContentFile(pdf, name="receipt.pdf"))
    return made


# --- `seed_demo --district`: the district above 柳巷街道 (GLOSSARY: Qindu-sized, 9 streets, 81 communities) ---

DISTRICT_NAME = "迎泽区"
DISTRICT_STREETS = [
    ("迎泽街道", ["桃园北路", "新建南路", "迎泽西大街", "双塔西街", "青年路", "柳溪", "新民", "桥东", "南海街"]),
    ("桥东街道", ["桥东", "五一东街", "建设北路", "朝阳街", "郝庄", "双塔寺", "东岗", "东华门", "东安"]),
    ("庙前街道", ["庙前", "开化寺", "大南门", "起凤街", "新开南路", "南宫", "迎泽桥", "水西关", "校尉营"]),
    ("文庙街道", ["文庙", "新开北路", "精营东", "上马街", "东仓巷", "按司街", "柴市巷", "前铁匠巷", "帽儿巷"]),
    ("老军营街道", ["老军营", "双塔北路", "体育路", "南内环", "西岗", "东岗路", "朝阳", "建南", "铁路新村"]),
    ("郝庄镇", ["郝庄", "剪子湾", "马庄", "松庄", "小山沟", "尖草", "山庄头", "双塔", "王家峰"]),
    ("杨家堡街道", ["杨家堡", "南内环西", "双塔南", "并州南路", "晋阳街", "学府", "长风", "东太堡", "西太堡"]),
    ("永乐苑街道", ["永乐苑", "郝家沟", "马庄北", "上官巷", "坞城", "红沟", "北营", "东山", "老峰"]),
]
DISTRICT_UNITS = [
    ("区人民医院{n}院区", MemberUnit.UnitType.HOSPITAL, MemberUnit.Level.DISTRICT),
    ("第{n}中学", MemberUnit.UnitType.SCHOOL, MemberUnit.Level.DISTRICT),
    ("{street}综合便民服务中心", MemberUnit.UnitType.GOVERNMENT, MemberUnit.Level.STREET),
]


def seed_district(*, context: dict, password: str, stdout) -> None:
    """With `seed_demo --district`: 柳巷街道 goes into the district 迎泽区 beside 8 more streets of 9
    communities each, each with a few units (a unit account and a street staff member of its own are not
    needed to see scoping), and the demo user `district`, staff of the district. Without it: nothing."""
    if not context.get("district"):
        return
    rng = random.Random(2028)
    # Run on its own (`seed_demo --district` on a demo seeded without it), the street is found by name.
    home = context.get("street") or Street.objects.filter(name=DEMO_STREET).first()
    if home is None or home.district_id is not None:
        raise CommandError(f"The demo street {DEMO_STREET} is not there, or already in a district: no district added.")
    district = District.objects.create(name=DISTRICT_NAME)
    Street.objects.filter(pk=home.pk).update(district=district)
    streets, communities, units = [], [], []
    for s, (street_name, community_names) in enumerate(DISTRICT_STREETS, start=1):
        street = Street.objects.create(
            name=street_name,
            district=district,
            alliance_name=f"{street_name}党建联盟",
            address=f"太原市迎泽区{street_name}",
        )
        streets.append(street)
        mine = [
            Community.objects.create(street=street, name=f"{name}社区", sort_order=i)
            for i, name in enumerate(community_names)
        ]
        communities += mine
        for n, (pattern, unit_type, level) in enumerate(DISTRICT_UNITS):
            community = mine[n * 3]
            units.append(
                MemberUnit(
                    name=pattern.format(n=s, street=street_name),
                    unit_type=unit_type,
                    level=level,
                    community=community,
                    address=f"太原市迎泽区{community.name[:-2]}{rng.randint(1, 199)}号",
                    party_org_name=pattern.format(n=s, street=street_name) + "党支部",
                    secretary_name=_person(rng),
                    liaison_name=_person(rng),
                    liaison_phone=_phone(rng),
                    party_member_count=rng.randint(5, 80),
                    joined_on=selectors.today() - timedelta(days=rng.randint(30, 600)),
                    status=MemberUnit.Status.ACTIVE,
                )
            )
    MemberUnit.objects.bulk_create(units)
    admin = context["users"]["admin"]
    district_user = _user("district", password, first_name="迎泽区委组织部", phone="13900000007")
    services.district_staff_add(user=district_user, district=district, actor=admin)
    context["users"]["district"] = district_user
    context.update(
        district=district,
        district_streets=streets,
        district_communities=communities,
        district_units=list(
            MemberUnit.objects.filter(community__street__in=streets).select_related("community").order_by("pk")
        ),
    )
    stdout.write(f"  district {district.name}: {len(streets) + 1} streets, {len(communities) + 9} communities")
