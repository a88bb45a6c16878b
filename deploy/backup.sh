#!/usr/bin/env bash
# Nightly backup of the shared store (cron: 30 2 * * * gridpulse /opt/gridpulse/deploy/backup.sh).
# Keeps 14 days. Restore: python -m gridpulse restore FILE (pg_restore in one transaction; every
# dashboard process then reads its copy of the street again).
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . /etc/gridpulse/gridpulse.env; set +a
mkdir -p /var/backups/gridpulse
.venv/bin/python -m gridpulse backup --out "/var/backups/gridpulse/gridpulse-$(date +%F-%H%M).dump"
find /var/backups/gridpulse -name 'gridpulse-*.dump' -mtime +14 -delete
