# One image for every process: web (Daphne), the two Celery workers (runs and
# file ingestion), beat and one-off commands (migrate, seed_demo). compose.yaml
# runs them; docs/deploy.md shows the same shape as plain processes.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/data/media

# libmagic is not needed (file types are read from content in Python); the
# wheels bring everything else.
RUN groupadd --system agentry && useradd --system --gid agentry --home /app agentry

WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY . .
# Static files are collected into the image (WhiteNoise serves them). The
# settings need a database URL and a key to load; nothing connects here.
RUN DJANGO_SECRET_KEY=build-only \
    DATABASE_URL=postgres://build@127.0.0.1:1/build \
    python manage.py collectstatic --noinput \
    && mkdir -p /data/media \
    && chown -R agentry:agentry /data /app/.data

USER agentry
EXPOSE 8000

# The web process by default; compose.yaml gives the others their command.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "--websocket_connect_timeout", "30", "config.asgi:application"]
