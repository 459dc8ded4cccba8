# Pejling: the survey bot. Multi-stage on a slim base; runs as a non-root user.
# BASE_IMAGE: any image with Python 3.11+ as `python` and its venv module; Docker Hub's
# python:3.11-slim by default (scripts/check-image builds on a Debian base made locally
# where Docker Hub is out of reach).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
# The dependencies in a layer of their own, installed from pyproject.toml alone (with empty
# packages standing in for the code), so a change to the code does not fetch them again.
COPY pyproject.toml babel.cfg ./
RUN touch README.md \
 && mkdir bot surveys storage standin demo web \
 && touch bot/__init__.py surveys/__init__.py storage/__init__.py standin/__init__.py demo/__init__.py web/__init__.py \
 && /opt/venv/bin/pip install -e .
COPY bot ./bot
COPY surveys ./surveys
COPY storage ./storage
COPY standin ./standin
COPY demo ./demo
COPY web ./web
COPY locale ./locale
# Editable, so the catalogs in /app/locale sit next to the code that looks for them.
RUN /opt/venv/bin/pybabel compile -d locale -D pejling \
 && find /app -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/pejling.db \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --create-home --home-dir /data pejling
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /data
USER pejling
VOLUME ["/data"]
ENTRYPOINT ["pejling"]
CMD ["run"]
