#!/usr/bin/env bash
# Runs moxi's whole test suite, end-to-end tests included. It first
# installs, from Debian's packages, the real programs the tests drive when
# they are missing: memcached (the backend), libmemcached-tools
# (memccapable), nutcracker (twemproxy, for bench/run.sh), sasl2-bin
# (saslpasswd2, for memcached with SASL), prometheus (promtool, which
# checks moxi's /metrics), chromium (headless, which renders the
# status page), systemd (systemd-analyze, which verifies
# deploy/moxi.service), ansible and ansible-lint (which check ansible/),
# docker.io and docker-compose (the compose demo;
# the daemon must be running), iproute2 and iptables (the partition
# tests' network namespaces), debootstrap (the Debian image with systemd
# the Ansible role is deployed to; made once, cached in ~/.cache/moxi-e2e).
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

need=()
command -v memcached >/dev/null || need+=(memcached)
command -v memccapable >/dev/null || need+=(libmemcached-tools)
command -v nutcracker >/dev/null || need+=(nutcracker)
command -v saslpasswd2 >/dev/null || need+=(sasl2-bin libsasl2-modules)
command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v docker >/dev/null || need+=(docker.io)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || need+=(docker-compose)
command -v systemd-analyze >/dev/null || need+=(systemd)
# ip (network namespaces, veth, bridge) and iptables: the partition tests.
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
command -v ansible-playbook >/dev/null || need+=(ansible)
command -v ansible-lint >/dev/null || need+=(ansible-lint)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
fi
go version
memcached -V

# The e2e package runs for several minutes (fleets, partitions, containers):
# past go test's 10-minute default on a slow machine.
go test -race -timeout 30m ./...
