"""`manage.py seed_demo [--password P] [--force] [--district]`: the demo street 柳巷街道 and its six demo
users; with --district also the district 迎泽区 around it (9 streets, 81 communities) and the user `district`.

Refuses to run when DEBUG is off, and against a database that already holds units that are not the
demo's own, unless --force. Running it again on the demo database changes nothing, except that
--district on a demo seeded without it adds the district."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from alliance import demo, history
from alliance.models import Category

DEMO_USERS = ("admin", "staff", "community", "liaison", "liaison2", "member", "district")
DEFAULT_PASSWORD = "demo-pass-2026"

CATEGORIES = [
    ("health", "医疗健康"),
    ("legal", "法律服务"),
    ("party_building", "党建联建"),
    ("culture_education", "文化教育"),
    ("poverty_relief", "帮贫解困"),
    ("publicity", "宣传宣讲"),
    ("care", "关心关爱"),
    ("guidance", "服务指导"),
    ("regional_development", "区域发展"),
    ("environment", "环境整治"),
    ("safety", "平安建设"),
    ("employment", "就业创业"),
]


class Command(BaseCommand):
    help = "Create the demo street 柳巷街道 with its units, users and activity (for a first look, never production)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of every demo user")
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off or real data present")
        parser.add_argument(
            "--district",
            action="store_true",
            help="also the district 迎泽区 around the street: 8 more streets of 9 communities, and the user district",
        )

    def handle(self, *args, password: str, force: bool, district: bool = False, **options) -> None:
        user_model = get_user_model()
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this looks like a production database. Use --force to seed anyway.")
        if (
            user_model.objects.filter(username="staff").exists()
            and user_model.objects.filter(username="admin").exists()
        ):
            # The usual first look seeds the street, then asks for the district: add it to the demo there.
            if district and not user_model.objects.filter(username="district").exists():
                self._add_district(password)
                return
            self.stdout.write("The demo data is already there; nothing to do.")
            return
        if demo.holds_real_data(except_users=DEMO_USERS) and not force:
            raise CommandError("The database already holds data that is not the demo's. Use --force to add the demo.")
        context: dict = {"password": password, "district": district}
        # Rows the services write without naming who acted say they came from this command.
        with transaction.atomic(), history.system("seed_demo"):
            context["categories"] = self._categories()
            for name, step in demo.steps():
                self.stdout.write(f"seeding {name} …")
                step(context=context, password=password, stdout=self.stdout)
        users = DEMO_USERS if district else tuple(u for u in DEMO_USERS if u != "district")
        self.stdout.write(self.style.SUCCESS(f"Demo data created. Users: {', '.join(users)}; password: {password}"))

    def _add_district(self, password: str) -> None:
        """Only the district steps (their names end in "_district"), around the demo street seeded before
        (the members step finds it and the admin by name when the context does not carry them)."""
        context: dict = {
            "password": password,
            "district": True,
            "users": {"admin": get_user_model().objects.get(username="admin")},
            "categories": list(Category.objects.order_by("sort_order")),
        }
        with transaction.atomic(), history.system("seed_demo"):
            for name, step in demo.steps():
                if name.endswith("_district"):
                    self.stdout.write(f"seeding {name} …")
                    step(context=context, password=password, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"District added. User: district; password: {password}"))

    def _categories(self) -> list[Category]:
        return [
            Category.objects.update_or_create(code=code, defaults={"name": name, "sort_order": i * 10})[0]
            for i, (code, name) in enumerate(CATEGORIES, start=1)
        ]
