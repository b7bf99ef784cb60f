#!/usr/bin/env bash
# Builds the demo image moxi-demo:latest (Dockerfile at the repo root) from
# static binaries built here, and the demo's secrets when missing.
# No image is pulled: the Dockerfile is FROM scratch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/deploy/docker
ctx=$here/context
image=${MOXI_DEMO_IMAGE:-moxi-demo:latest}

rm -rf "$ctx"
mkdir -p "$ctx/bin" "$ctx/data"
cd "$root"
for pkg in ./cmd/moxi ./cmd/membase-mock ./bench/loadgen ./deploy/docker/pagegate; do
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/bin/$(basename "$pkg")" "$pkg"
done

# The admin servers listen on 0.0.0.0 inside the containers, which moxi
# allows only with a token. Readable by all (0644): the containers' user
# (10001) is not the file's owner, and the file never leaves this host.
mkdir -p "$here/secrets"
if [[ ! -s $here/secrets/admin.token ]]; then
	"$ctx/bin/moxi" keygen >"$here/secrets/admin.token"
fi
chmod 0644 "$here/secrets/admin.token"

docker build -q -f "$root/Dockerfile" -t "$image" "$ctx" >/dev/null
echo "built $image"
