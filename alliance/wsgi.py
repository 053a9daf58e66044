from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from alliance.db import prepare_web_statements

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
prepare_web_statements()  # before the first connection opens
application = get_wsgi_application()
