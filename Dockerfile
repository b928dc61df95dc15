# Production image: gunicorn serves the app, WhiteNoise the collected static files.
# The same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 reentry \
    && useradd --system --uid 10001 --gid reentry --home-dir /app --shell /usr/sbin/nologin reentry

# Pango draws the printable plan (WeasyPrint); fonts for its text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN pip install .

# Run from the source tree (BASE_DIR=/app), so the project-level templates/ are found.
ENV PYTHONPATH=/app \
    REENTRY_VAR_DIR=/app/var \
    DEBUG=0

# Build-time only values: collectstatic must import the settings, which refuse to load
# without them when DEBUG is off. They are not kept in the image's environment.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-only-not-a-secret ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput \
    && mkdir -p var/broker/queue var/broker/processed \
    && chown -R reentry:reentry var

USER reentry
EXPOSE 8000
CMD ["gunicorn", "reentry.wsgi", "--bind", "0.0.0.0:8000"]
