#!/usr/bin/env bash
# One command for the demo: build the image, then start the compose demo
# (mock membase, 3 moxi nodes, load, status pages) in the background.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/deploy/docker/build.sh"
cd "$root"
if docker compose version >/dev/null 2>&1; then
	docker compose up -d "$@"
else
	docker-compose up -d "$@"
fi
echo "status pages: http://127.0.0.1:8290 (node1), :8291 (node2), :8292 (node3)"
