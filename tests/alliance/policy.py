"""Who gets what from every route: the authorization policy the matrix (`test_authorization_matrix.py`)
holds the URL configuration to. Declared as it should be (SPEC "What every part must hold"): what a user
may not see answers 404, so that existence does not leak; a page that needs a sign-in sends the anonymous
visitor to the sign-in page.

The cast: `anonymous`, `liaison_a` / `liaison_b` (liaisons of unit_a in community_x / unit_b in
community_y), `community_x_staff` / `community_y_staff`, `street_staff`, `member` (a verified Party
member living in community_x, working at unit_a). URL parameters are filled with side A's objects: for
liaison_a and community_x_staff they are "mine", for liaison_b and community_y_staff "the other's".

A case label is the route as the resolver lists it (`portal/needs/<pk>/accept/`); the first rule whose
pattern matches the whole label applies. An answer is the status code, with where a redirect leads:
"200", "404", "302 /portal/login/". `unsafe` gives, per method, the answer of each role that may NOT do
it (the matrix checks that nothing in the database changed); roles left out may, and are not sent the
empty request."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROLES = ("anonymous", "liaison_a", "liaison_b", "community_x_staff", "community_y_staff", "street_staff", "member")
LIAISONS = frozenset({"liaison_a", "liaison_b"})
STAFF = frozenset({"community_x_staff", "community_y_staff", "street_staff"})
STREET = frozenset({"street_staff"})
# Side A's object is "mine" for these (the street's staff see every community's).
OWNERS = frozenset({"liaison_a", "community_x_staff", "street_staff"})
STAFF_X = frozenset({"community_x_staff", "street_staff"})

OK = "200"
LOGIN = "302 /portal/login/"
ADMIN_LOGIN = "302 /admin/login/"
FORBIDDEN = "403"
NOT_FOUND = "404"
NOT_ALLOWED = "405"

MEDIA_CASES = [
    "media/agreements/<unit>/<name>",
    "media/needs/<need>/<name>",
    "media/activities/<activity>/<name>",
    "media/meetings/<meeting>/<name>",
    "media/notices/<notice>/<name>",
    "media/agreements/<unit>/<missing name>",
    "media/agreements/<unit>/../<other unit>/<name>",
    "media/agreements/<unit>/..%2f<other unit>/<name>",
]
CALENDAR_CASES = [
    "calendar/<token>.ics",
    "calendar/<renewed token>.ics",
    "calendar/<token of a removed liaison>.ics",
]


def answers(default: str | None = None, **by_role: str | None) -> dict[str, str | None]:
    """An answer for each role: `default`, except those named; a group of roles is named with `granted`,
    as in `answers(NOT_FOUND, **granted(OWNERS, OK))`. `None`: not checked (for unsafe methods: allowed)."""
    unknown = set(by_role) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: by_role.get(role, default) for role in ROLES}


def granted(roles, answer: str) -> dict[str, str]:
    return dict.fromkeys(roles, answer)


@dataclass(frozen=True)
class Rule:
    pattern: str
    get: dict[str, str | None]
    unsafe: dict[str, dict[str, str | None]] = field(default_factory=dict)
    why: str = ""


RULES: list[Rule] = []


def rule(pattern: str, get: dict, *, why: str, **unsafe: dict) -> None:
    RULES.append(Rule(pattern, get, unsafe, why))


def rule_for(label: str) -> Rule | None:
    for entry in RULES:
        if re.fullmatch(entry.pattern, label):
            return entry
    return None


# --- Public pages: anyone, signed in or not -------------------------------------------------------

rule(
    r"|healthz|jsi18n/|needs/(new|submitted|track)/|needs/qr/<community_id>/|showcase/|portal/apply/(done/)?"
    r"|portal/password/set/<uidb64>/<token>/|portal/password/forgot/|portal/volunteer/register/",
    answers(OK),
    why="public pages (a bad password-set link is a page saying so)",
)
rule(
    r"venues/|portal/password/code/",
    answers(OK),
    why="public: the shared venues' free hours (no names); asking for a password code by SMS",
)
rule(
    r"portal/password/code/reset/",
    answers("302 /portal/password/code/"),
    why="entering the code needs one asked for in this browser first: back to asking",
)
rule(
    r"sms/receipts/<provider>/<secret>/",
    answers(NOT_ALLOWED),
    why="providers push delivery receipts with the secret of SMS_RECEIPT_SECRET; without it, or with "
    "another one, the address does not exist",
    POST=answers(NOT_FOUND),
)
rule(
    r"activities/|resources/|units/|notices/|notices/feed/|notices/<notice_id>/",
    answers(OK),
    why="public: activities, the resource list, member units with the council, published notices and "
    "their Atom feed (issue 15; no contact data)",
    POST=answers(NOT_ALLOWED),
)
rule(
    r"council/",
    answers(OK),
    why="the council roster of a street (unit, role, holder; no contact) is public (issue 14)",
    POST=answers(NOT_ALLOWED),
)
rule(r"i18n/setlang/", answers("302 /"), why="the language switch goes back to the page it came from")
rule(r"needs/track/rate/", answers("302 /needs/track/"), why="rating is a form posted from the tracking page")
rule(r"portal/login/", answers("302 /portal/", anonymous=OK), why="signed-in users go on to the portal")
rule(r"portal/logout/", answers(NOT_ALLOWED), why="signing out is a POST")

# --- Calendar feeds: the token is the key, whoever asks ------------------------------------------

rule(
    r"calendar/<token>\.ics",
    answers(OK),
    why="a live feed answers anyone holding its address",
    POST=answers(NOT_ALLOWED),
)
rule(r"calendar/<renewed token>\.ics", answers(NOT_FOUND), why="a renewed address stops working")
rule(
    r"calendar/<token of a removed liaison>\.ics",
    answers(NOT_FOUND),
    why="a unit's feed stops when the liaison who holds its address is removed from the unit (issue 9, 6)",
)

# --- Uploaded files: served to those who may see the object they belong to -------------------------

rule(
    r"media/(agreements|needs|meetings)/<\w+>/<name>",
    answers(NOT_FOUND, anonymous=LOGIN, **granted(OWNERS, OK)),
    why="a file is seen with its object: the unit's liaison, its community's staff and the street's",
)
rule(
    r"media/(activities/<activity>|notices/<notice>)/<name>",
    answers(OK),
    why="the photos of an activity the public /activities/ page lists, and a published notice's attachments, "
    "are public like the pages that show them (issue 15); others stay behind the sign-in",
)
rule(
    r"media/agreements/<unit>/(<missing name>|\.\./<other unit>/<name>|\.\.%2f<other unit>/<name>)",
    answers(NOT_FOUND, anonymous=LOGIN),
    why="only a file directly under the object's folder is served: `..` never reaches another unit's (issue 9, 1)",
)

# --- Portal: signed-in users; the anonymous visitor is sent to sign in ------------------------------

portal_everyone = answers(OK, anonymous=LOGIN)
portal_owners = answers(NOT_FOUND, anonymous=LOGIN, **granted(OWNERS, OK))
# A POST-only action: GET is 405 for the signed-in; refused POSTs are 404 for what one may not see.
portal_action_get = answers(NOT_ALLOWED, anonymous=LOGIN)

rule(
    r"portal/(|password/|notifications/|units/|needs/|resources/|projects/|claims/|meetings/|resolutions/"
    r"|calendar/|volunteer/|volunteer/hours/new/|volunteer/card/|council/|venues/|bookings/)",
    portal_everyone,
    why="every signed-in user has a portal home and lists (showing only their own rows)",
)
rule(
    r"portal/(units/<pk>/(edit/)?|needs/<pk>/|claims/<pk>/|claims/<pk>/activities/new/|meetings/<pk>/)",
    portal_owners,
    why="a unit's own objects: its liaison, its community's staff and the street's; others 404",
)
rule(
    r"portal/meetings/<pk>/minutes(/|\.xlsx)",
    portal_owners,
    why="minutes: attending units and the meeting's staff; a unit that did not come cannot tell they exist",
)
rule(r"portal/assessments/", portal_everyone, why="a liaison's units' assessments (empty for everyone else)")
rule(
    r"portal/assessments/<pk>/",
    portal_owners,
    why="a unit's assessment: its liaison, its community's staff and the street's; others 404",
)
rule(
    r"portal/assessments/<pk>/remark/",
    portal_action_get,
    why="the unit's liaison remarks on its assessment (staff are refused with a message)",
    POST=answers(None, anonymous=LOGIN, liaison_b=NOT_FOUND, community_y_staff=NOT_FOUND, member=NOT_FOUND),
)
rule(
    r"portal/resources/new/",
    answers(NOT_FOUND, anonymous=LOGIN, **granted(LIAISONS, OK)),
    why="liaisons publish their units' resources (staff use the admin)",
)
rule(
    r"portal/needs/new/",
    answers(NOT_FOUND, anonymous=LOGIN, **granted(LIAISONS, OK)),
    why="liaisons file their units' own needs (单位需求); as for publishing a resource, others 404",
    POST=answers(NOT_FOUND, anonymous=LOGIN, **granted(LIAISONS, None)),
)
rule(
    r"portal/resources/<pk>/edit/",
    answers(NOT_FOUND, anonymous=LOGIN, liaison_a=OK),
    why="a resource is edited in the portal by its unit's liaison only",
)
rule(r"portal/projects/<pk>/", portal_everyone, why="open projects are listed for every unit to claim")
rule(
    r"portal/units/<unit_id>/service-card(/|\.xlsx)",
    answers(NOT_FOUND, anonymous=LOGIN, liaison_a=OK),
    why="a unit's service card is for its liaison (staff have the admin's)",
)
others_404 = answers(None, anonymous=LOGIN, liaison_b=NOT_FOUND, community_y_staff=NOT_FOUND, member=NOT_FOUND)
rule(
    r"portal/(needs/<pk>/(accept|decline|complete)|claims/<pk>/withdraw|meetings/<pk>/answer"
    r"|resolutions/<pk>/progress)/",
    portal_action_get,
    why="a unit's actions on its own needs, claims, invitations and resolutions",
    POST=others_404,
)
rule(
    r"portal/resources/<pk>/(withdraw|restore)/",
    portal_action_get,
    why="a resource is withdrawn and restored by its unit's liaison",
    POST=answers(NOT_FOUND, anonymous=LOGIN, liaison_a=None),
)
rule(
    r"portal/venues/<pk>/",
    portal_everyone,
    why="a venue's week is for everyone signed in; asking for a slot is checked by the booking service "
    "(an empty form is shown again with its errors)",
    POST=answers(None, anonymous=LOGIN),
)
rule(
    r"portal/venues/<pk>/hours/",
    portal_owners,
    why="a venue's hours and closed days are set by whoever may change its resource (VenueRules): its unit's "
    "liaison, its community's staff and the street's; others 404, as a resource's edit page",
    POST=answers(NOT_FOUND, anonymous=LOGIN, **granted(OWNERS, None)),
)
rule(
    r"portal/venues/<pk>/closures/(remove/)?",
    portal_action_get,
    why="closed days are added and removed by whoever may change the venue; others 404",
    POST=answers(NOT_FOUND, anonymous=LOGIN, **granted(OWNERS, None)),
)
# A booking of side A's venue asked for by side A's liaison: that liaison, the venue's community's staff and
# the street's see it; the liaison (the owner) and street staff decide; the community's staff are told no.
booking_seen = answers(NOT_FOUND, anonymous=LOGIN, **granted(OWNERS, None))
rule(
    r"portal/bookings/<pk>/(approve|cancel)/",
    portal_action_get,
    why="the venue's owner and the street's staff approve; who asked, the owner or staff cancel",
    POST={**booking_seen, "community_x_staff": "302 /portal/bookings/"},
)
rule(
    r"portal/bookings/<pk>/decline/",
    portal_action_get,
    why="declining needs a reason: an empty one is refused with a message before anything else",
    POST={**booking_seen, **granted(OWNERS, "302 /portal/bookings/")},
)
rule(
    r"portal/projects/<pk>/claim/",
    portal_action_get,
    why="liaisons claim open projects for their units",
    POST=answers(NOT_FOUND, anonymous=LOGIN, **granted(LIAISONS, None)),
)
rule(
    r"portal/calendar/<pk>/renew/",
    portal_action_get,
    why="only the feed's owner renews it",
    POST=answers(NOT_FOUND, anonymous=LOGIN, liaison_a=None),
)
rule(
    r"portal/notifications/read/", portal_action_get, why="one's own notifications", POST=answers(None, anonymous=LOGIN)
)
rule(
    r"portal/volunteer/(move|wishes/<pk>/(claim|complete))/",
    portal_action_get,
    why="a registered Party member moves, claims and completes micro-wishes",
    POST=answers(NOT_FOUND, anonymous=LOGIN, member=None),
)
rule(
    r"portal/volunteer/posts/<pk>/claim/",
    portal_action_get,
    why="posts are seen by all; only a registered Party member may claim (others are told so)",
    POST=answers("302 /portal/volunteer/", anonymous=LOGIN, member=None),
)
rule(
    r"portal/volunteer/points/",
    portal_everyone,
    why="my points (积分): a member's own, a liaison's units' (empty for everyone else)",
)
rule(
    r"portal/volunteer/claims/<pk>/leave/",
    portal_action_get,
    why="a post claim is left by the member or ended by their community's staff",
    POST=answers(NOT_FOUND, anonymous=LOGIN, member=None, **granted(STAFF_X, None)),
)

# --- API: token or session; public reads marked so --------------------------------------------------

API_ANON = FORBIDDEN  # DRF answers 403 to a caller with no credentials (session authentication first)
api_everyone = answers(OK, anonymous=API_ANON)
api_owners = answers(NOT_FOUND, anonymous=API_ANON, **granted(OWNERS, OK))
api_action_get = answers(NOT_ALLOWED, anonymous=API_ANON)

rule(
    r"api/v1/|api/schema/|api/docs/|api/redoc/|api/v1/public/(stats|showcase)/|api/v1/(categories|communities)/(<pk>/)?",
    answers(OK),
    why="the API root, its schema and docs, the public figures and showcase, the taxonomy",
    POST=answers(NOT_ALLOWED),
)
rule(
    r"api/v1/auth/token/|api/v1/public/needs/(<tracking_code>/rating/)?",
    answers(NOT_ALLOWED),
    why="token login, need submission and rating are POSTs",
)
rule(
    r"api/v1/public/needs/<tracking_code>/",
    answers(NOT_FOUND),
    why="following a need needs the last four digits of the phone too; without them, 404 like a wrong code",
)
# Side A's object is invisible to liaison_b, community_y_staff and the member: 404.
api_others_404 = answers(None, anonymous=API_ANON, liaison_b=NOT_FOUND, community_y_staff=NOT_FOUND, member=NOT_FOUND)
rule(
    r"api/v1/reports/quarterly/<year>/<quarter>/",
    answers(NOT_FOUND, anonymous=API_ANON, street_staff=OK),
    why="the street's quarterly report: its staff; everyone else signed in 404 (SPEC)",
    POST=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(
    r"api/v1/points/(balances/)?",
    api_everyone,
    why="the points ledger and its balances: narrowed to what each caller may see (own, units', scope)",
    POST=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(r"api/v1/me/", api_everyone, why="the caller themselves", POST=answers(NOT_ALLOWED, anonymous=API_ANON))
rule(
    r"api/v1/(streets|claims|wishes)/",
    api_everyone,
    why="lists are narrowed to what each caller may see (wishes: those of the caller's own communities)",
    POST=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(
    r"api/v1/members/",
    api_everyone,
    why="lists are narrowed to what each caller may see; every signed-in person may register (双报到)",
    POST=answers(None, anonymous=API_ANON),
)
rule(
    r"api/v1/posts/",
    api_everyone,
    why="posts are for every signed-in user to find; a community's staff open them",
    POST=answers(None, anonymous=API_ANON, member=FORBIDDEN, **granted(LIAISONS, FORBIDDEN)),
)
rule(
    r"api/v1/needs/",
    api_everyone,
    why="lists are narrowed to what each caller may see; staff enter residents' needs, liaisons their units' own",
    POST=answers(None, anonymous=API_ANON, member=FORBIDDEN),
)
rule(
    r"api/v1/(units|needs|projects|reviews|meetings|resolutions)/",
    api_everyone,
    why="lists are narrowed to what each caller may see; staff create",
    POST=answers(None, anonymous=API_ANON, member=FORBIDDEN, **granted(LIAISONS, FORBIDDEN)),
)
rule(
    r"api/v1/assessments/",
    api_everyone,
    why="units' assessments narrowed to each caller's scope (SPEC: staff their scope, liaisons their own units)",
    POST=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(
    r"api/v1/(resources|activities)/",
    api_everyone,
    why="lists are narrowed to what each caller may see; units publish resources and record activities",
    POST=answers(None, anonymous=API_ANON, member=FORBIDDEN),
)
rule(
    r"api/v1/service-logs/",
    api_everyone,
    why="lists are narrowed to what each caller may see",
    POST=answers(None, anonymous=API_ANON),
)
rule(r"api/v1/streets/<pk>/", api_everyone, why="the street is known to every signed-in user")
rule(
    r"api/v1/agreements/",
    api_everyone,
    why="agreements narrowed to each caller's scope (staff their units', liaisons their own); none is posted here",
    POST=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(
    r"api/v1/agreements/<pk>/",
    api_owners,
    why="a unit's agreement: its liaison, its community's staff and the street's; others 404; read-only",
    PATCH=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(
    r"api/v1/agreements/<pk>/renew/",
    api_action_get,
    why="the unit's staff renew its agreement (its liaison may not)",
    POST={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/(venues|bookings)/",
    api_everyone,
    why="venues are for everyone signed in; bookings narrowed to one's own, one's venues' and staff's scope",
    POST=answers(NOT_ALLOWED, anonymous=API_ANON),
)
rule(
    r"api/v1/venues/<pk>/bookings/",
    api_action_get,
    why="anyone signed in may ask for a slot: an empty request is a 400 before anything is stored",
    POST=answers("400", anonymous=API_ANON),
)
rule(r"api/v1/bookings/<pk>/", api_owners, why="a booking: who asked, the venue's owner and the staff over it")
rule(
    r"api/v1/bookings/<pk>/(approve|cancel)/",
    api_action_get,
    why="the owner and the street's staff decide; who asked, the owner or staff cancel; others 404",
    POST={**api_others_404, "community_x_staff": FORBIDDEN},
)
rule(
    r"api/v1/bookings/<pk>/decline/",
    api_action_get,
    why="declining needs a reason: an empty body is a 400 for whoever sees the booking",
    POST={**api_others_404, **granted(OWNERS, "400")},
)
# Read-only endpoints answer 405 to PATCH and DELETE (no endpoint deletes); those that accept PATCH are
# checked for the roles that may not change side A's object.
seen_by_all_refused = answers(
    None, anonymous=API_ANON, liaison_b=FORBIDDEN, community_y_staff=FORBIDDEN, member=FORBIDDEN
)
rule(
    r"api/v1/venues/<pk>/",
    api_everyone,
    why="a venue is for everyone signed in to find; whoever may change its resource sets its hours",
    PATCH=seen_by_all_refused,
)
rule(
    r"api/v1/venues/<pk>/closures/(remove/)?",
    api_action_get,
    why="closed days are added and removed by whoever may change the venue: an empty body is a 400 for them",
    POST=answers(FORBIDDEN, anonymous=API_ANON, **granted(OWNERS, "400")),
)
rule(
    r"api/v1/resources/<pk>/",
    api_everyone,
    why="everyone signed in finds a resource; its unit's liaison and staff change it",
    PATCH=seen_by_all_refused,
)
rule(
    r"api/v1/projects/<pk>/",
    api_everyone,
    why="everyone signed in finds an open project; its community's staff change it",
    PATCH={**seen_by_all_refused, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/posts/<pk>/",
    api_everyone,
    why="volunteer posts are for every signed-in user to find; their community's staff edit them",
    PATCH=answers(
        None, anonymous=API_ANON, community_y_staff=FORBIDDEN, member=FORBIDDEN, **granted(LIAISONS, FORBIDDEN)
    ),
)
rule(
    r"api/v1/wishes/<pk>/",
    answers(NOT_FOUND, anonymous=API_ANON, member=OK),
    why="a micro-wish of the member's own community (staff follow micro-wishes as needs)",
)
rule(
    r"api/v1/units/<pk>/",
    api_owners,
    why="a unit: its liaison (its profile), its community's staff and the street's; others 404",
    PATCH=api_others_404,
)
rule(
    r"api/v1/(needs|meetings)/<pk>/",
    api_owners,
    why="a unit's needs and meetings: staff change them, the unit's liaison reads; others 404",
    PATCH={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/resolutions/<pk>/",
    api_owners,
    why="a resolution: its owner unit's liaison, the meeting's staff; the staff correct it, the liaison may not",
    PATCH={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/reviews/<pk>/",
    api_owners,
    why="a claim's review: seen with the claim; staff correct it (the unit's liaison may not)",
    PATCH={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/(claims|activities|reviews|resolutions)/<pk>/",
    api_owners,
    why="a unit's own objects: its liaison, its community's staff and the street's; others 404",
)
rule(
    r"api/v1/assessments/<pk>/",
    api_owners,
    why="a unit's assessment: its liaison, its community's staff and the street's; others 404",
)
rule(
    r"api/v1/members/<pk>/",
    answers(NOT_FOUND, anonymous=API_ANON, member=OK, **granted(OWNERS, OK)),
    why="a registration: the member, their community's staff, the street's and their work unit's liaisons; "
    "the staff correct it",
    PATCH={**api_others_404, "liaison_a": FORBIDDEN, "member": FORBIDDEN},
)
rule(
    r"api/v1/service-logs/<pk>/",
    answers(NOT_FOUND, anonymous=API_ANON, member=OK, **granted(STAFF_X, OK)),
    why="service hours: the member and their community's staff; they correct hours waiting for verification",
    PATCH=answers(NOT_FOUND, anonymous=API_ANON, member=None, **granted(STAFF_X, None)),
)
rule(
    r"api/v1/needs/<pk>/suggestions/",
    answers(NOT_FOUND, anonymous=API_ANON, **granted(STAFF_X, OK)),
    why="matching suggestions are for the staff who dispatch the need",
)

# Actions are POSTs. Side A's object is invisible to liaison_b, community_y_staff and the member (404);
# who sees it but may not act gets 403. (An empty body may be a 400 before the service decides, so the
# roles that pass the first check are not listed.)
rule(
    r"api/v1/(needs/<pk>/(complete|decline|dispatch|reject)|claims/<pk>/reject|meetings/<pk>/attendance"
    r"|resolutions/<pk>/progress)/",
    api_action_get,
    why="a need's steps, a claim's rejection, attendance, progress",
    POST=api_others_404,
)
rule(
    r"api/v1/needs/<pk>/accept/",
    api_action_get,
    why="the unit's liaison accepts (staff do not)",
    POST={**api_others_404, **granted(STAFF_X, FORBIDDEN)},
)
rule(
    r"api/v1/(needs/<pk>/(un)?showcase|claims/<pk>/approve|resolutions/<pk>/(done|reopen|forward|decline))/",
    api_action_get,
    why="staff showcase needs, approve claims, mark resolutions done, reopen, forward or decline them (the unit's liaison may not)",
    POST={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/assessments/<pk>/submit/",
    api_action_get,
    why="staff who hold the unit submit its assessment (its liaison may not)",
    POST={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/assessments/<pk>/approve/",
    api_action_get,
    why="street staff approve assessments",
    POST={**api_others_404, "liaison_a": FORBIDDEN, "community_x_staff": FORBIDDEN},
)
rule(
    r"api/v1/assessments/<pk>/(adjust|return|remark)/",
    api_action_get,
    why="staff adjust and the street returns; the unit's liaison remarks (an empty body is a 400 first)",
    POST=api_others_404,
)
rule(
    r"api/v1/claims/<pk>/withdraw/",
    api_action_get,
    why="the unit's liaison withdraws its claim",
    POST={**api_others_404, **granted(STAFF_X, FORBIDDEN)},
)
rule(
    r"api/v1/projects/<pk>/(open|start|finish|demonstration)/",
    api_action_get,
    why="everyone signed in sees an open project; its community's staff and the street's move and mark it",
    POST=answers(
        None, anonymous=API_ANON, community_y_staff=FORBIDDEN, member=FORBIDDEN, **granted(LIAISONS, FORBIDDEN)
    ),
)
rule(
    r"api/v1/units/<pk>/(approve|withdraw)/",
    api_action_get,
    why="staff who hold the unit decide on its application and record its withdrawal (its liaison may not)",
    POST={**api_others_404, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/units/<pk>/reject/",
    api_action_get,
    why="staff who hold the unit reject its application (an empty body is a 400 first)",
    POST=api_others_404,
)
rule(
    r"api/v1/resources/<pk>/(withdraw|restore)/",
    api_action_get,
    why="everyone signed in sees a resource; its unit's liaison and staff withdraw and restore it",
    POST=answers(None, anonymous=API_ANON, liaison_b=FORBIDDEN, community_y_staff=FORBIDDEN, member=FORBIDDEN),
)
rule(
    r"api/v1/projects/<pk>/claims/",
    api_action_get,
    why="liaisons claim open projects",
    POST=answers(None, anonymous=API_ANON),
)
rule(
    r"api/v1/posts/<pk>/claims/",
    api_action_get,
    why="registered Party members claim posts",
    POST=answers(FORBIDDEN, anonymous=API_ANON, member=None),
)
rule(
    r"api/v1/service-logs/<pk>/verify/",
    api_action_get,
    why="the member's community staff verify hours",
    POST=answers(NOT_FOUND, anonymous=API_ANON, member=FORBIDDEN, **granted(STAFF_X, None)),
)
rule(
    r"api/v1/service-logs/<pk>/reject/",
    api_action_get,
    why="the member's community staff reject hours (the member sees them: an empty body is a 400 first)",
    POST=answers(NOT_FOUND, anonymous=API_ANON, member=None, **granted(STAFF_X, None)),
)
rule(
    r"api/v1/members/<pk>/verify/",
    api_action_get,
    why="community or street staff verify registrations; the member and their work unit's liaison may not",
    POST={**api_others_404, "member": FORBIDDEN, "liaison_a": FORBIDDEN},
)
rule(
    r"api/v1/members/<pk>/(reject|move)/",
    api_action_get,
    why="staff reject; the member or their staff move it (who sees it, with an empty body, gets a 400 first)",
    POST=answers(None, anonymous=API_ANON, liaison_b=NOT_FOUND, community_y_staff=NOT_FOUND),
)
rule(
    r"api/v1/posts/<pk>/close/",
    api_action_get,
    why="the post's community staff close it; everyone else sees it but may not",
    POST=answers(
        None, anonymous=API_ANON, community_y_staff=FORBIDDEN, member=FORBIDDEN, **granted(LIAISONS, FORBIDDEN)
    ),
)
rule(
    r"api/v1/posts/<pk>/leave/",
    api_action_get,
    why="the caller gives back their own place; who holds none is told so (409)",
    POST=answers("409", anonymous=API_ANON, member=None),
)
rule(
    r"api/v1/wishes/<pk>/(take-on|complete)/",
    api_action_get,
    why="micro-wishes are taken on and completed by the members of their community; others do not see them",
    POST=answers(NOT_FOUND, anonymous=API_ANON, member=None),
)
rule(
    r"api/v1/meetings/<pk>/(cancel|move)/",
    api_action_get,
    why="the meeting's staff cancel and move it (the invited liaison sees it: an empty body is a 400 first)",
    POST=api_others_404,
)
rule(
    r"api/v1/meetings/<pk>/minutes/",
    api_action_get,
    why="the meeting's staff write its minutes (the invited liaison sees it: an empty body is a 400 first)",
    POST=api_others_404,
    PUT=api_others_404,
)

# --- Admin site: staff only; each model's screens open to street staff, or to community staff too ----

rule(r"admin/login/", answers(OK, **granted(STAFF, "302 /admin/")), why="staff already signed in go on")
rule(r"admin/logout/", answers("302 /admin/", **granted(STAFF, NOT_ALLOWED)), why="signing out is a POST")
rule(
    r"admin/|admin/password_change/(done/)?|admin/jsi18n/|admin/<app_label>/",
    answers(ADMIN_LOGIN, **granted(STAFF, OK)),
    why="the workbench: staff only",
)
rule(
    r"admin/search/",
    answers(ADMIN_LOGIN, **granted(STAFF, OK)),
    why="django-unfold's search of screen names (its command palette): staff only, listing only the screens "
    "the user may open; it searches no rows (settings.UNFOLD COMMAND search_models is off)",
)
rule(
    r"admin/inbox/",
    answers(ADMIN_LOGIN, **granted(STAFF, OK)),
    why="one's own notifications: every staff member has an inbox, and sees only what is addressed to them",
    POST=answers(ADMIN_LOGIN, **granted(STAFF, None)),
)
rule(
    r"admin/auth/user/<id>/password/",
    answers(ADMIN_LOGIN, **granted(STAFF, NOT_FOUND)),
    why="accounts and their passwords are for superusers (staff set passwords through the services)",
)
rule(
    r"admin/autocomplete/",
    answers(ADMIN_LOGIN, **granted(STAFF, FORBIDDEN)),
    why="autocomplete needs a model and field to ask about",
)
rule(
    r"admin/r/<content_type_id>/<object_id>/|admin/<url>",
    answers(ADMIN_LOGIN, **granted(STAFF, NOT_FOUND)),
    why="no public site to view a unit on; unknown admin pages",
)


admin_staff = answers(ADMIN_LOGIN, **granted(STAFF, OK))
rule(
    r"admin/(members/memberunit|volunteers/partymember)/import/(template/)?|admin/meetings/jointmeeting/attendance-rates/"
    r"|admin/(projects/serviceactivity|volunteers/servicelog)/totals/|admin/volunteers/servicelog/service-card/",
    admin_staff,
    why="imports, totals and rates: staff, each seeing their own scope",
)
rule(
    r"admin/volunteers/pointsentry/rankings/",
    admin_staff,
    why="the year's points rankings: staff, each over the entries of their own scope",
)
rule(
    r"admin/volunteers/pointsentry/<object_id>/correct/",
    answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, OK)),
    why="correcting points (a new entry with a reason): staff who run the entry's community; others' 404",
    POST=answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, None)),
)
rule(
    r"admin/volunteers/servicelog/totals/export/",
    answers(ADMIN_LOGIN, **granted(STAFF, NOT_ALLOWED)),
    why="the full totals as a workbook: asked for with a POST by staff, each over their own scope",
    POST=answers(ADMIN_LOGIN, **granted(STAFF, None)),
)
rule(
    r"admin/members/quarterlyreport/build/",
    answers(ADMIN_LOGIN, street_staff=OK, community_x_staff=FORBIDDEN, community_y_staff=FORBIDDEN),
    why="building a quarterly report: street staff",
    POST=answers(ADMIN_LOGIN, street_staff=None, community_x_staff=FORBIDDEN, community_y_staff=FORBIDDEN),
)
rule(
    r"admin/members/quarterlyreport/<pk>/download/",
    answers(ADMIN_LOGIN, street_staff=OK, community_x_staff=NOT_FOUND, community_y_staff=NOT_FOUND),
    why="a report's file: street staff; to others it does not exist",
)
rule(
    r"admin/members/assessment/compute/",
    answers(ADMIN_LOGIN, community_x_staff=FORBIDDEN, community_y_staff=FORBIDDEN, street_staff=OK),
    why="computing a street's quarter of assessments is for street staff",
    POST=answers(ADMIN_LOGIN, community_x_staff=FORBIDDEN, community_y_staff=FORBIDDEN, street_staff=None),
)
rule(
    r"admin/alliance/job/<object_id>/result/",
    answers(ADMIN_LOGIN, **granted(STAFF, NOT_FOUND)),
    why="a job's result file: its requester's and street staff's; side A's job (the platform's, no file) has none",
)
rule(
    r"admin/(demands/need/<pk>/dispatch|projects/projectclaim/<pk>/decide)/",
    answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, "302 {change}")),
    why="dispatching a need, deciding a claim: a POST from the object's page; others' objects 404",
    POST=answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, None)),
)
rule(
    r"admin/members/memberunit/<pk>/accounts/add/",
    answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, OK)),
    why="finding or making a unit's account: its community's staff and the street's; others' units 404",
    POST=answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, None)),
)
rule(
    r"admin/members/community/<pk>/staff/add/",
    answers(ADMIN_LOGIN, community_x_staff=NOT_FOUND, community_y_staff=NOT_FOUND, street_staff=OK),
    why="finding or making a community's staff account: street staff; to community staff, like the "
    "community's own page, it does not exist",
    POST=answers(ADMIN_LOGIN, community_x_staff=NOT_FOUND, community_y_staff=NOT_FOUND, street_staff=None),
)
rule(
    r"admin/meetings/jointmeeting/<pk>/invite/",
    answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, OK)),
    why="a meeting's own forms: its organisers' staff; others' meetings 404",
    POST=answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, None)),
)
rule(
    r"admin/meetings/jointmeeting/<pk>/(reschedule|cancel)/",
    answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, "302 {change}")),
    why="a held meeting is neither moved nor cancelled: back to its page (with a message); others' meetings 404",
    POST=answers(ADMIN_LOGIN, community_y_staff=NOT_FOUND, **granted(STAFF_X, None)),
)


@dataclass(frozen=True)
class AdminModel:
    opens: frozenset  # staff who may open its screens at all (the others get 403 on every one)
    sees: frozenset  # staff who see side A's object
    adds: frozenset
    deletes: frozenset  # staff who may delete side A's object
    # Never deleted: the delete page refuses before looking the object up (403 for everyone).
    never_deleted: bool = False
    # False: no page of one object at all (a token's str() is its key, which no page may show).
    object_pages: bool = True


ALL = STAFF
NOBODY = frozenset()
ADMIN_MODELS = {
    "alliance/category": AdminModel(STREET, ALL, STREET, STREET),
    "alliance/notification": AdminModel(STREET, STREET, NOBODY, STREET),
    # Community staff follow the jobs they asked for (imports, exports); the platform's are the street's.
    "alliance/job": AdminModel(STAFF, STREET, NOBODY, NOBODY),
    # The working-day calendar's local days: the street's to keep (alliance/admin/workdays.py).
    "alliance/workdayoverride": AdminModel(STREET, STREET, STREET, STREET),
    "members/district": AdminModel(STREET, ALL, NOBODY, NOBODY),
    "members/street": AdminModel(STREET, ALL, STREET, STREET),
    # Who is staff of a street: that street's staff (and its district's) assign them; a district's staff
    # are assigned by the district's own staff, whom the cast does not hold.
    "members/streetstaff": AdminModel(STREET, STREET, STREET, STREET),
    "members/districtstaff": AdminModel(NOBODY, NOBODY, NOBODY, NOBODY),
    "members/community": AdminModel(STREET, ALL, STREET, STREET),
    "members/sector": AdminModel(STREET, ALL, STREET, STREET),
    "members/grid": AdminModel(ALL, ALL, ALL, STAFF_X),
    "members/memberunit": AdminModel(ALL, STAFF_X, ALL, STREET),
    "members/agreement": AdminModel(ALL, STAFF_X, ALL, STAFF_X),
    "members/councilseat": AdminModel(STREET, ALL, STREET, STREET),
    "members/councilterm": AdminModel(STREET, STREET, STREET, NOBODY),
    # A street's notices (通知公告): its own staff publish, edit and delete them.
    "members/notice": AdminModel(STREET, STREET, STREET, STREET),
    "members/unitmembership": AdminModel(ALL, STAFF_X, ALL, STAFF_X),
    "members/communitystaff": AdminModel(STREET, STREET, STREET, STREET),
    "members/assessmentscheme": AdminModel(STREET, STREET, STREET, STREET),
    # Made by the computation, never added or deleted by hand; community staff see their communities'.
    "members/assessment": AdminModel(ALL, STAFF_X, NOBODY, NOBODY),
    "demands/need": AdminModel(ALL, STAFF_X, ALL, NOBODY, never_deleted=True),
    "demands/resource": AdminModel(ALL, ALL, ALL, NOBODY),
    "demands/venue": AdminModel(ALL, ALL, ALL, NOBODY, never_deleted=True),
    # Asked for in the portal or the API, never typed into the admin; cancelled, never deleted.
    "demands/booking": AdminModel(ALL, STAFF_X, NOBODY, NOBODY, never_deleted=True),
    "projects/serviceproject": AdminModel(ALL, ALL, ALL, NOBODY),
    "projects/projectclaim": AdminModel(ALL, STAFF_X, NOBODY, NOBODY),
    "projects/serviceactivity": AdminModel(ALL, STAFF_X, ALL, NOBODY, never_deleted=True),
    "projects/commitmentreview": AdminModel(ALL, STAFF_X, ALL, NOBODY, never_deleted=True),
    "meetings/jointmeeting": AdminModel(ALL, STAFF_X, ALL, NOBODY, never_deleted=True),
    "meetings/meetingseries": AdminModel(ALL, STAFF_X, ALL, STAFF_X),
    "meetings/resolution": AdminModel(ALL, STAFF_X, NOBODY, NOBODY, never_deleted=True),
    "meetings/reminder": AdminModel(STREET, STREET, NOBODY, NOBODY),
    "volunteers/partymember": AdminModel(ALL, STAFF_X, ALL, NOBODY, never_deleted=True),
    # Everyone signed in may find posts and teams, but a community's staff manage only their own.
    "volunteers/volunteerpost": AdminModel(ALL, STAFF_X, ALL, STAFF_X),
    "volunteers/volunteerteam": AdminModel(ALL, STAFF_X, ALL, STAFF_X),
    "volunteers/servicelog": AdminModel(ALL, STAFF_X, ALL, NOBODY, never_deleted=True),
    # The points ledger: read by staff in their scope, never changed, added to only by a correction.
    "volunteers/pointsentry": AdminModel(ALL, STAFF_X, NOBODY, NOBODY, never_deleted=True),
    # The street's points rule per year: its street staff edit it; it is never deleted.
    "volunteers/pointsrule": AdminModel(STREET, STREET, STREET, NOBODY, never_deleted=True),
    # Django's and DRF's own admins: superusers only (Django model permissions, which staff are not given).
    "auth/user": AdminModel(NOBODY, ALL, NOBODY, NOBODY),
    "auth/group": AdminModel(NOBODY, ALL, NOBODY, NOBODY),
    # API tokens and failed sign-ins: street staff revoke and unlock (alliance/admin/accounts.py).
    "authtoken/tokenproxy": AdminModel(STREET, STREET, NOBODY, STREET, object_pages=False),
    "axes/accessattempt": AdminModel(STREET, STREET, NOBODY, STREET),
    # Reports are built (build/), never typed in, and every version is kept.
    "members/quarterlyreport": AdminModel(STREET, STREET, NOBODY, NOBODY),
}


def _admin(model: AdminModel, page: str) -> dict[str, str]:
    """One admin page of a model, for each role.

    - not staff: to the admin's sign-in page;
    - staff who may not open the model's screens: 403 on its list and add form, 404 on a page of one object;
    - every page of one object one may not see (change, delete, history, a past version): 404, the same
      as for a missing object (issue 9, 6: history pages answered 403, change pages redirected);
    - delete: 403 for those who see the object but may not delete it."""
    result = {}
    for role in ROLES:
        if role not in STAFF:
            result[role] = ADMIN_LOGIN
        elif page == "redirect":  # `<object_id>/`: Django's old address, sent on to `change/` unchecked
            result[role] = "302 {url}change/"
        elif role not in model.opens:
            # The list and the add form say "not for you"; a page of one object says nothing of it.
            result[role] = FORBIDDEN if page in ("changelist", "add") else NOT_FOUND
        elif not model.object_pages and page not in ("changelist", "add"):
            result[role] = NOT_FOUND
        elif page == "changelist":
            result[role] = OK
        elif page == "add":
            result[role] = OK if role in model.adds else FORBIDDEN
        elif role not in model.sees:
            result[role] = NOT_FOUND
        elif page == "delete" and model.never_deleted:
            result[role] = FORBIDDEN
        elif page == "delete":
            result[role] = OK if role in model.deletes else FORBIDDEN
        else:
            result[role] = OK
    return result


def _refused(get: dict[str, str | None]) -> dict[str, str | None]:
    """The same request as a POST: refused with the same answer, by those the GET did not let in."""
    return {role: None if answer == OK else answer for role, answer in get.items()}


for _label, _model in ADMIN_MODELS.items():
    _base = re.escape(f"admin/{_label}/")
    rule(_base, _admin(_model, "changelist"), why=f"{_label}: the list")
    rule(_base + "add/", _admin(_model, "add"), why=f"{_label}: add", POST=_refused(_admin(_model, "add")))
    rule(_base + "<object_id>/change/", _admin(_model, "change"), why=f"{_label}: one object")
    rule(
        _base + "<object_id>/delete/",
        _admin(_model, "delete"),
        why=f"{_label}: delete",
        POST=_refused(_admin(_model, "delete")),
    )
    rule(_base + "<object_id>/history/", _admin(_model, "history"), why=f"{_label}: its history")
    # A past version is read, never saved back: that would undo a change without the service that made it.
    rule(
        _base + "<arg1>/history/<arg2>/",
        _admin(_model, "history"),
        why=f"{_label}: one past version",
        POST={role: NOT_ALLOWED if answer == OK else answer for role, answer in _admin(_model, "history").items()},
    )
    rule(_base + "<object_id>/", _admin(_model, "redirect"), why=f"{_label}: the old address, sent on to change/")
