# Interview Coach — app image. Uses the very same install script as the README, so the steps
# that CI exercises are the ones this image runs. (Docker itself cannot run on our CI machine:
# this file is untested there; see README "Running for many users".)
# The same image runs a queue worker: `/opt/venv/bin/python -m coach_core worker` (see compose.yaml).
FROM python:3.11-slim-bookworm
# MALLOC_ARENA_MAX=2: every analysis starts threads, and glibc's per-thread arenas rarely give memory back.
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 COACH_DATA_DIR=/data MALLOC_ARENA_MAX=2 \
    COACH_VENV=/opt/venv PYTHON=python3.11
WORKDIR /app
COPY requirements.txt requirements-dev.txt requirements-models.txt ./
COPY scripts/ scripts/
RUN bash scripts/setup.sh deps && rm -rf /var/lib/apt/lists/* /root/.cache
COPY . .
EXPOSE 8501
VOLUME ["/data"]
CMD ["bash", "scripts/setup.sh", "app", "--server.address=0.0.0.0", "--server.headless=true"]
