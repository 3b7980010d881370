# enkash-sandbox as a service container: listens on 0.0.0.0:$SANDBOX_PORT (8080), runs as a
# non-root user, configured by the same SANDBOX_* variables as the command line.
#   docker build -t enkash-sandbox .
#   docker run -p 8080:8080 enkash-sandbox
# BASE: any Debian-like image with python3 >= 3.11 and its venv module (python:3.12-slim, or a
# local base made with debootstrap where no registry is reachable).
# PIP_CERT: a CA bundle for pip behind a TLS-inspecting proxy (mount it into the build).
ARG BASE=python:3.12-slim
FROM ${BASE}
ARG PIP_CERT=

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/sandbox/bin:$PATH \
    SANDBOX_HOST=0.0.0.0 \
    SANDBOX_PORT=8080

COPY pyproject.toml README.md constraints.txt /src/
COPY sandbox /src/sandbox
COPY fixtures /src/fixtures
RUN rm -f /src/sandbox/bundled_fixtures && cp -r /src/fixtures /src/sandbox/bundled_fixtures \
 && python3 -m venv /opt/sandbox \
 && PIP_CERT="${PIP_CERT}" /opt/sandbox/bin/pip install --no-cache-dir --disable-pip-version-check --quiet -c /src/constraints.txt /src \
 && rm -rf /src \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin sandbox \
 && mkdir -p /fixtures /scenarios /data && chown sandbox /data

# Mount your own fixtures or fault scenarios and point the settings at them, e.g.
#   -v ./my-fixtures:/fixtures -e SANDBOX_FIXTURES=/fixtures/team.yaml
#   -v ./my-scenarios:/scenarios -e SANDBOX_SCENARIO=/scenarios/flaky.yaml
#   -v sandbox-data:/data -e SANDBOX_STATE_FILE=/data/state.json
VOLUME ["/data"]
USER sandbox
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__sandbox/health' % os.environ.get('SANDBOX_PORT', '8080'), timeout=2)"]
CMD ["enkash-sandbox"]
