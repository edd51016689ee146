#!/bin/sh
# Installs the Debian packages rewind needs to build, test and demo, and only
# those missing: one dpkg-query when everything is there (fast), apt-get
# otherwise. `make check` and `make demo` run it first.
set -eu

PACKAGES="gcc make pkg-config git ca-certificates tzdata openssl python3
libcurl4-openssl-dev libjansson-dev libgit2-dev libssh2-1-dev libssl-dev
libcmocka-dev docker-registry apache2-utils openssh-server openssh-client
docker.io libc6-dev"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$status" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "bootstrap: installing$missing" >&2
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh them only then or
# when an install fails for want of them.
if ! $SUDO apt-get install -y --no-install-recommends $missing >/tmp/rewind-bootstrap.log 2>&1; then
	$SUDO apt-get update >>/tmp/rewind-bootstrap.log 2>&1
	if ! $SUDO apt-get install -y --no-install-recommends $missing >>/tmp/rewind-bootstrap.log 2>&1; then
		tail -20 /tmp/rewind-bootstrap.log >&2
		echo "bootstrap: apt-get install failed (log: /tmp/rewind-bootstrap.log)" >&2
		exit 1
	fi
fi
# The packages of docker-registry, openssh-server and docker.io start
# system services (:5000, :22, dockerd); rewind's tests and demo start their own on 127.0.0.1 and need
# nothing else listening.
if command -v service >/dev/null 2>&1; then
	service docker-registry stop >/dev/null 2>&1 || true
	service ssh stop >/dev/null 2>&1 || true
	service docker stop >/dev/null 2>&1 || true
fi
