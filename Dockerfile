# 党建联盟平台 — one image for web (gunicorn), migrate, Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim

# DEBUG=0: manage.py defaults to development mode when DEBUG is unset; the image never is.
ENV DEBUG=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them.
# pyproject.toml declares `packages = []`: `pip install .` installs the pinned dependencies and the code
# runs from /app (manage.py, alliance.wsgi, `celery -A alliance`).
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

COPY . .

# Translation catalogues (pure Python, no gettext needed) and static files with the production storage
# (whitenoise's compressed manifest), which settings select only with DEBUG off. DEBUG off requires a
# SECRET_KEY: this one exists for this RUN line only and is not part of the image's environment.
RUN DEBUG=0 SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
        sh -c 'python manage.py compile_catalogues && python manage.py collectstatic --noinput' \
    && rm -rf /app/var

# The code stays owned by root (read-only to the process); the app user owns only var/ (uploads, the
# Celery beat schedule). Named volumes mounted there start with this ownership.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --create-home --home-dir /home/app app \
    && mkdir -p /app/var/media /app/var/celery \
    && chown -R app:app /app/var
USER app

EXPOSE 8000
# The access log leaves out query strings (`/api/v1/public/needs/<code>/?phone_last4=…` would put a
# tracking code beside the phone's last digits, which together open a resident's need); the paths go
# through the platform's redaction (password-set links, calendar tokens, tracking codes).
CMD ["gunicorn", "alliance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-", "--logger-class", "alliance.gunicorn_logging.RedactingLogger", "--access-logformat", "%(h)s %(t)s %(m)s %(U)s %(s)s %(b)s %(L)s"]
