"""Compile the project's translation catalogues without GNU gettext (a fresh machine may lack msgfmt).

Every `.po` file in `locale/<lang>/LC_MESSAGES/` is merged into that language's `django.mo`: the
project's own `django.po` first, then the extras, such as `django_filters.po` — django-filter ships only
a zh_CN catalogue, which Django does not load for zh-hans, so its strings are carried here for zh_Hans."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into django.mo (pure Python)."

    def handle(self, *args, **options) -> None:
        compiled = 0
        for locale_path in settings.LOCALE_PATHS:
            for messages_dir in sorted(Path(locale_path).glob("*/LC_MESSAGES")):
                primary = messages_dir / "django.po"
                if not primary.exists():
                    continue
                catalogue = polib.pofile(str(primary))
                known = {(e.msgctxt, e.msgid) for e in catalogue}
                for extra in sorted(messages_dir.glob("*.po")):
                    if extra == primary:
                        continue
                    for entry in polib.pofile(str(extra)):
                        if entry.translated() and not entry.obsolete and (entry.msgctxt, entry.msgid) not in known:
                            catalogue.append(entry)
                            known.add((entry.msgctxt, entry.msgid))
                fuzzy = [e for e in catalogue if "fuzzy" in e.flags]
                if fuzzy:
                    raise CommandError(f"{primary}: {len(fuzzy)} fuzzy entries; review them before compiling")
                catalogue.save_as_mofile(str(messages_dir / "django.mo"))
                compiled += 1
                self.stdout.write(f"{messages_dir / 'django.mo'}: {len(catalogue.translated_entries())} messages")
        if not compiled:
            raise CommandError("No catalogue found under LOCALE_PATHS")
