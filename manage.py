#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    # manage.py is the developer's tool: with no DEBUG in the environment it runs in development mode.
    # Production never reaches this default: compose and the image set DEBUG=0 (and gunicorn and Celery
    # do not start through manage.py).
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
