# Pejling: the survey bot. Multi-stage on a slim base; runs as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY surveys ./surveys
COPY storage ./storage
COPY locale ./locale
# Editable, so the catalogs in /app/locale sit next to the code that looks for them.
RUN /opt/venv/bin/pip install -e . \
 && /opt/venv/bin/pybabel compile -d locale -D pejling \
 && find /app -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
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
