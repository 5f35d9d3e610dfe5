#!/usr/bin/env bash
# Debian packages the end-to-end test needs: headless Chromium and its WebDriver for the
# connection-form check, PostgreSQL for E2E_DB=postgres. Idempotent; runs apt-get update once.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ "${E2E_DB:-sqlite}" = postgres ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-liberation >/dev/null
fi
