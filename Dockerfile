# lsq-import for a container (a Kubernetes CronJob, a scheduler's worker, the page).
# The per-account state (ledger, leases, rate budget, daily count) belongs in PostgreSQL:
# run it with LSQ_STATE_URL, so a container that starts empty each night knows every row
# already imported and shares one rate window with every other machine.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY importer ./importer
COPY mappings ./mappings
RUN pip install --no-cache-dir . && useradd --create-home lsq
USER lsq
WORKDIR /work
ENTRYPOINT ["lsq-import"]
CMD ["--help"]
