from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from alliance.db import prepare_web_statements

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
prepare_web_statements()  # before the first connection opens
application = get_asgi_application()
