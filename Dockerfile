# syntax=docker/dockerfile:1
# The dashboard in a container. Everything is installed while the image is built; the
# running server fetches nothing (Leaflet and its plugins come from the installed xstatic
# packages, the bundled data is in the image). Only viewers' browsers load basemap tiles.
#
#   docker build -t conflictmap .
#   docker run --rm -p 127.0.0.1:8501:8501 -e DASHBOARD_PASSWORD='…' conflictmap
#
# Without a login ([auth] in secrets.toml) or a password the server refuses to start.
# See the README, "Deployment": secrets, a reverse proxy, a base path, several replicas.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The server runs as an unprivileged user; the code and data stay root's (read-only to it).
RUN groupadd --system --gid 10001 conflictmap \
 && useradd --system --uid 10001 --gid conflictmap --create-home \
      --home-dir /home/conflictmap conflictmap

# Installed as a wheel, built from a scratch folder that is then removed: the bundled
# events.csv and geodata/ go to /usr/local/share/conflictmap, where the package looks
# outside a checkout. No copy of the sources stays where Python would import it before the
# installed one (the current folder comes first for `python -c` and `python -m`). Then
# copy Leaflet and the plugins into the installed static folder now, so the server (which
# cannot write there) finds them in place.
WORKDIR /src
COPY pyproject.toml README.md events.csv ./
COPY geodata ./geodata
COPY dashboard ./dashboard
RUN pip wheel --no-deps --wheel-dir /tmp/wheels /src \
 && pip install /tmp/wheels/conflictmap-*.whl \
 && rm -rf /src /tmp/wheels \
 && cd / \
 && python -c "from dashboard.assets import ensure_static_assets; ensure_static_assets()"
WORKDIR /app

# Streamlit's hosting settings; secrets are mounted at run time, never built in.
COPY deploy/config.toml /app/.streamlit/config.toml

# Builds kept on disk (GeoParquet), writable by the server; the bundled demo is built
# here so the first visitor does not wait for it.
ENV CONFLICTMAP_CACHE_DIR=/var/cache/conflictmap
RUN mkdir -p "$CONFLICTMAP_CACHE_DIR" \
 && python -c "from dashboard.app.loaders import configured_sources, load_dataset; load_dataset(*configured_sources())" \
 && chown -R conflictmap:conflictmap "$CONFLICTMAP_CACHE_DIR"

USER conflictmap
ENV HOME=/home/conflictmap
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; base = os.environ.get('STREAMLIT_SERVER_BASE_URL_PATH', '').strip('/'); urllib.request.urlopen('http://127.0.0.1:8501/' + (base + '/' if base else '') + '_stcore/health', timeout=4)"]
# Listens on every interface of the container: publish the port to the reverse proxy only.
CMD ["conflictmap", "serve", "--address", "0.0.0.0", "--port", "8501"]
