#!/usr/bin/env bash
# Debian packages the end-to-end tests need: headless Chromium and its WebDriver for the
# connection-form check, PostgreSQL for E2E_DB=postgres, PostgreSQL and Redis for E2E_CELERY=1
# (make e2e-celery). Idempotent; runs apt-get update once.
set -euo pipefail
need=()
celery=${E2E_CELERY:-0}
if [ "$celery" != 1 ]; then
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
if { [ "${E2E_DB:-sqlite}" = postgres ] || [ "$celery" = 1 ]; } && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if [ "$celery" = 1 ] && ! command -v redis-server >/dev/null 2>&1; then
    need+=(redis-server)
fi
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-liberation >/dev/null
fi
