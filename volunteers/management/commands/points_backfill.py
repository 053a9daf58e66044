"""`manage.py points_backfill --year Y [--street ID]`: award the year's points for what was verified before
the points ledger existed (or while an award was missed). Safe to run again: a source that earned its
points earns nothing more (volunteers.points.points_backfill)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from alliance.errors import InvalidInput
from volunteers.points import points_backfill


class Command(BaseCommand):
    help = "Award the points of a year's verified hours, fulfilled micro-wishes and commitment reviews, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, help="The year, e.g. 2026")
        parser.add_argument("--street", type=int, default=None, help="Only this street (its id)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = points_backfill(year=options["year"], street_id=options["street"])
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(_("%(count)d points entries written.") % {"count": written})
