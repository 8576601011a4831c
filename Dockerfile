# syntax=docker/dockerfile:1
# Cadence's image: `cadence serve` (migrations first) as a non-root user; README, "Running in
# production". Two stages: the builder makes wheels of Cadence and every dependency, the final
# stage installs them from a bind mount, so no build tool, source tree or pip cache is kept.

FROM python:3.12-slim-bookworm AS builder
WORKDIR /src
# .dockerignore keeps the venv, .git, .env and databases out of this copy.
COPY . .
# The versions pyproject.toml allows, resolved when the image is built.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000
# A fixed uid, so volumes and runAsNonRoot policies can name it.
RUN groupadd --system --gid 10001 cadence \
    && useradd --system --uid 10001 --gid cadence --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin cadence \
    && install --directory --owner=cadence --group=cadence /app
# Only the builder's wheels: pip reads nothing from the network here (--no-index).
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/cadence-*.whl
WORKDIR /app
# The policy a deployment reads (CADENCE_CONFIG, default ./app.yaml): replace it with a bind
# mount or a derived image. Owned by root, so the bot cannot change its own policy.
COPY app.yaml ./
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER 10001:10001
EXPOSE 3000
# 200 ("ok" or "degraded": a revoked token, which a restart would not fix) is healthy; 503 (the
# database unreachable) is not. The slim image has no curl: Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve"]
