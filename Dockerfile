# The monitor in a container: `monitor serve` by default; `monitor run`, `monitor web` or any
# other command as the container's command. The configuration is mounted at
# /etc/film-monitor/sources.yaml; the reports (and a SQLite file, for one machine) live in
# /var/lib/film-monitor. With several containers, storage is a PostgreSQL server: see
# deploy/compose.yaml and README "Running on several machines".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_CONFIG=/etc/film-monitor/sources.yaml \
    MONITOR_CACHE_DIR=/var/cache/film-monitor

# Only what the package is built from: a change to the tests or the benchmarks keeps the layer.
WORKDIR /tmp/film-monitor
COPY pyproject.toml README.md LICENSE ./
COPY monitor ./monitor
RUN pip install ".[postgresql,alerts]" \
    && rm -rf /tmp/film-monitor

# A user of its own, without a login; it owns only its data and the tagger's cache.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/film-monitor \
        --shell /usr/sbin/nologin film-monitor \
    && mkdir -p /var/lib/film-monitor/reports /var/cache/film-monitor /etc/film-monitor \
    && chown film-monitor:film-monitor /var/lib/film-monitor /var/lib/film-monitor/reports \
        /var/cache/film-monitor
USER film-monitor
WORKDIR /var/lib/film-monitor

# SIGTERM stops a service within 5 s; give it 20 (docker stop -t 20, stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["serve"]
