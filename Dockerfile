# enkash-sandbox as a service container: listens on 0.0.0.0:$SANDBOX_PORT (8080) as uid 10001,
# configured by the same SANDBOX_* variables as the command line.
#   docker build -t enkash-sandbox .
#   docker run -p 8080:8080 enkash-sandbox
# Build arguments:
#   BASE      any Debian-like image with python3 >= 3.11 and its venv module (python:3.12-slim, or a
#             local base made with debootstrap where no registry is reachable). Both stages use it,
#             so the venv's interpreter is the runtime's.
#   PIP_CERT  a CA bundle for pip behind a TLS-inspecting proxy (mount the file into the build).
#   VERSION, REVISION, SOURCE  the OCI labels (the release workflow passes the tag and commit).
#
# Layers of the runtime image, over BASE: the user and /data (a few KB), the dependencies' venv
# (changes only with pyproject.toml's dependencies or constraints.txt), then the sandbox itself
# (a few hundred KB: a change to sandbox/ or fixtures/ rebuilds only this one).
ARG BASE=python:3.12-slim

# --- venv: the dependencies, installed with the venv's own pip ---------------------------------
FROM ${BASE} AS venv
ARG PIP_CERT=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/sandbox
# only the dependency list (and the build backend): a change to sandbox/ does not invalidate this layer
COPY pyproject.toml constraints.txt /src/
RUN python3 -c 'import tomllib; p = tomllib.load(open("/src/pyproject.toml", "rb")); print(*p["project"]["dependencies"], *p["build-system"]["requires"], sep="\n")' \
      > /src/requirements.txt \
 && /opt/sandbox/bin/pip install --quiet --no-compile -c /src/constraints.txt -r /src/requirements.txt

# --- deps: the venv as it ships: no pip/setuptools/wheel, shared objects stripped, bytecode compiled
FROM venv AS deps
# strip(1) comes from binutils, which stays in this stage
RUN command -v strip >/dev/null || { apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null; }
RUN /opt/sandbox/bin/python -m pip uninstall --quiet --yes pip setuptools wheel \
 && rm -f /opt/sandbox/bin/pip* /opt/sandbox/bin/activate* /opt/sandbox/bin/Activate.ps1 \
 && echo /opt/app > "$(/opt/sandbox/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/enkash-sandbox.pth" \
 && find /opt/sandbox -name '*.so' -exec strip --strip-unneeded {} + \
 && find /opt/sandbox -depth -type d -name __pycache__ -exec rm -rf {} + \
 && /opt/sandbox/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/sandbox/lib

# --- app: the sandbox alone in /opt/app (found through the .pth above) ---------------------------
FROM venv AS app
ARG PIP_CERT=
COPY README.md /src/
COPY sandbox /src/sandbox
COPY fixtures /src/fixtures
RUN rm -f /src/sandbox/bundled_fixtures && cp -r /src/fixtures /src/sandbox/bundled_fixtures \
 && /opt/sandbox/bin/pip install --quiet --no-compile --no-deps --no-build-isolation --target /opt/app /src \
 && /opt/sandbox/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/app

# --- runtime: the base, a user, the venv ----------------------------------------------------------
FROM ${BASE}
RUN groupadd --gid 10001 sandbox \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin sandbox \
 && mkdir -p /fixtures /scenarios /data && chown 10001:10001 /data
COPY --from=deps /opt/sandbox /opt/sandbox
COPY --from=app /opt/app /opt/app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/app/bin:/opt/sandbox/bin:$PATH \
    SANDBOX_HOST=0.0.0.0 \
    SANDBOX_PORT=8080

# Mount your own fixtures or fault scenarios and point the settings at them, e.g.
#   -v ./my-fixtures:/fixtures:ro -e SANDBOX_FIXTURES=/fixtures/team.yaml
#   -v ./my-scenarios:/scenarios:ro -e SANDBOX_SCENARIO=/scenarios/flaky.yaml
#   -v sandbox-data:/data -e SANDBOX_STATE_FILE=/data/state.json   (a bind mount: owned by uid 10001)
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 8080
# every 0.5 s until the first success (Docker >= 25), then every 10 s
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --start-interval=500ms --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__sandbox/health' % os.environ.get('SANDBOX_PORT', '8080'), timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["enkash-sandbox"]

ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="enkash-sandbox" \
      org.opencontainers.image.description="A stateful, fault-injecting emulator of EnKash's Rewards & Incentives partner APIs" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
