#!/usr/bin/env bash
# A real container engine for the docker services provider, on a machine like CI's
# (Debian, root, no registry access): podman from Debian's packages with the runc runtime,
# and PostgreSQL and Redis images built locally from a minimal Debian root filesystem.
#
#   scripts/container_engine.sh provision      install podman and build the images (as root);
#                                              whatever is already done is skipped
#   scripts/container_engine.sh run -- CMD...  run CMD with a Docker-compatible engine:
#                                              one that already answers (Docker, with the
#                                              official images), else podman (provisioned
#                                              first if needed) whose API service lives only
#                                              as long as CMD, and is stopped even if CMD fails
#   scripts/container_engine.sh status         say what is provisioned
#
# Environment: PYTHON (default .venv/bin/python, used to ask the engine and sweep leftovers),
# GP_DEBIAN_MIRROR (default: the first Debian mirror of this machine's apt sources),
# GP_CACHE_DIR (default: the project's .cache/golden-path).
# First provisioning costs about 75 s and 0.5 GB; later runs reuse the packages and images.
#
# What it writes: podman's configuration, the provisioning stamp and its lock go in the
# project's own cache (podman reads the file named by CONTAINERS_CONF, exported to every
# podman this script runs); nothing under /etc. What needs root, and why: provisioning
# only -- apt-get install of podman, runc and debootstrap, and the base image's build
# (debootstrap, chroot, mount of /proc), whose images then live in root's podman storage
# (/var/lib/containers). So `run` uses podman as root where it provisioned it; a machine
# where Docker (or a rootless podman holding the images) already answers needs no root
# at all: `run` uses that engine as the calling user.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGES="$HERE/images"
PYTHON="${PYTHON:-.venv/bin/python}"
PACKAGES=(podman runc debootstrap)
CACHE="${GP_CACHE_DIR:-$(cd "$HERE/.." && pwd)/.cache/golden-path}"
STAMP="$CACHE/container-engine"
LOCK="$CACHE/container-engine.lock"
CONF="$CACHE/containers.conf"
# Where earlier versions of this script wrote their drop-in: removed if it is ours.
OLD_CONF=/etc/containers/containers.conf.d/50-golden-path.conf
BASE_RECIPE="bookworm minbase; postgresql-15 redis-server; v1"
PROVISION_CMD="sudo bash scripts/container_engine.sh provision"

say() { printf 'container engine: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

hash_of() { sha256sum | cut -c1-12; }
base_image() { echo "localhost/golden-path-base:$(printf '%s' "$BASE_RECIPE" | hash_of)"; }
context_image() {
    local name=$1
    echo "localhost/golden-path-$name:$( (base_image; cat "$IMAGES/$name"/*) | hash_of)"
}

packages_missing() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' ||
            return 0
    done
    return 1
}

images_present() {
    command -v podman >/dev/null &&
        podman image exists "$(context_image postgres)" 2>/dev/null &&
        podman image exists "$(context_image redis)" 2>/dev/null
}

debian_mirror() {
    if [ -n "${GP_DEBIAN_MIRROR:-}" ]; then
        echo "$GP_DEBIAN_MIRROR"
        return
    fi
    local uri
    uri="$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list |
        grep -o -E 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}

configure_podman() {
    # The defaults exceed this kind of machine's limits (every container fails to start) and
    # crun fails on its hybrid cgroup layout: a file of our own in the project's cache, read
    # by every podman started from here through CONTAINERS_CONF; nothing host-wide.
    mkdir -p "$CACHE"
    local want
    want="$(
        cat <<'EOF'
# Written by golden-path scripts/container_engine.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
exit_command_delay = 5
EOF
    )"
    [ "$(cat "$CONF" 2>/dev/null)" = "$want" ] || printf '%s\n' "$want" >"$CONF"
    export CONTAINERS_CONF="$CONF"
    if [ -w "$(dirname "$OLD_CONF")" ] && head -n1 "$OLD_CONF" 2>/dev/null | grep -q '^# Written by golden-path'; then
        rm -f "$OLD_CONF"
    fi
}

ROOTFS=""
remove_rootfs() {
    if [ -n "$ROOTFS" ]; then
        umount "$ROOTFS/proc" 2>/dev/null || true
        rm -rf "$ROOTFS" "$ROOTFS.log"
        ROOTFS=""
    fi
}

build_base() {
    local rootfs mirror
    rootfs="$(mktemp -d /var/tmp/golden-path-rootfs.XXXXXX)"
    ROOTFS="$rootfs"
    trap remove_rootfs EXIT
    chmod 0755 "$rootfs" # it becomes the image's /: every user must traverse it
    mirror="$(debian_mirror)"
    say "debootstrap bookworm from $mirror (about 40 s)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod +x "$rootfs/usr/sbin/policy-rc.d"
    mkdir -p "$rootfs/etc/postgresql-common/createcluster.d"
    echo 'create_main_cluster = false' >"$rootfs/etc/postgresql-common/createcluster.d/golden-path.conf"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    mount -t proc proc "$rootfs/proc"
    say "apt-get install postgresql-15 redis-server in the root filesystem"
    chroot "$rootfs" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive &&
        apt-get update -qq && apt-get install -y -qq --no-install-recommends \
            postgresql-15 redis-server && apt-get clean' >"$rootfs.log" 2>&1 ||
        die "apt-get in the root filesystem failed; its log: $(tail -n 30 "$rootfs.log")"
    umount "$rootfs/proc"
    # Smaller image (707 MB to about 250 MB): no apt lists, docs, locales or LLVM JIT.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
        "$rootfs"/usr/share/locale/* "$rootfs"/usr/lib/postgresql/15/lib/bitcode \
        "$rootfs"/usr/lib/postgresql/15/lib/llvmjit* "$rootfs/usr/sbin/policy-rc.d"
    : >"$rootfs/etc/resolv.conf"
    tar -C "$rootfs" -c . | podman import --quiet - "$(base_image)" >/dev/null
    remove_rootfs
    trap - EXIT
}

provision() {
    [ "$(id -u)" = 0 ] || die "provisioning needs root (apt-get, debootstrap): run $PROVISION_CMD"
    command -v apt-get >/dev/null || die "provisioning needs Debian's apt-get; install a Docker engine instead"
    mkdir -p "$CACHE"
    exec 9>"$LOCK"
    flock 9 # two runs at once: the second waits, then finds everything done
    if packages_missing; then
        say "apt-get install ${PACKAGES[*]} (about 15 s)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
    fi
    configure_podman
    if ! images_present; then
        podman image exists "$(base_image)" || build_base
        local name stale
        for name in postgres redis; do
            podman image exists "$(context_image "$name")" && continue
            say "podman build $(context_image "$name")"
            podman build --quiet --pull=never --build-arg "BASE=$(base_image)" \
                -t "$(context_image "$name")" "$IMAGES/$name" >/dev/null
            # Images of an earlier recipe are of no further use: free their space.
            for stale in $(podman images --format '{{.Repository}}:{{.Tag}}' \
                --filter "reference=localhost/golden-path-$name"); do
                [ "$stale" = "$(context_image "$name")" ] || podman rmi "$stale" >/dev/null || true
            done
        done
    fi
    printf 'postgres=%s\nredis=%s\n' "$(context_image postgres)" "$(context_image redis)" >"$STAMP"
    flock -u 9
    exec 9>&-
}

status() {
    if packages_missing; then echo "packages: missing (some of ${PACKAGES[*]})"; else echo "packages: installed"; fi
    if images_present; then
        echo "images: $(context_image postgres) $(context_image redis)"
    else
        echo "images: not built"
    fi
    engine_problem || true
}

# Empty output and status 0 when a Docker engine answers at DOCKER_HOST (or the default socket).
engine_problem() {
    local out status=0
    out="$("$PYTHON" -c 'import sys
from golden_path.services.docker import engine_problem
problem = engine_problem(timeout=2.0)
print(problem or "", end="")
sys.exit(1 if problem else 0)' 2>&1)" || status=$?
    if [ "$status" -ne 0 ] && [ -z "$out" ]; then
        out="$PYTHON could not ask the engine (status $status)"
    fi
    printf '%s' "$out"
    return "$status"
}

sweep() {
    "$PYTHON" -c 'from golden_path.services.docker import sweep_orphans
removed = sweep_orphans()
if removed:
    print(f"container engine: removed {len(removed)} container(s) left by a killed run")' || true
}

# Every container started under `run` (labelled with its session), once its owners had a
# moment to remove their own: nothing started by CMD outlives it.
end_session() {
    GOLDEN_PATH_DOCKER_SESSION="$1" "$PYTHON" -c 'import os
from golden_path.services.docker import end_session
removed = end_session(os.environ["GOLDEN_PATH_DOCKER_SESSION"])
if removed:
    print(f"container engine: removed {len(removed)} container(s) the command left")' || true
}

SERVICE_PID=""
SERVICE_DIR=""
SESSION=""
stop_service() {
    if [ -n "$SESSION" ]; then
        end_session "$SESSION"
        sweep
        SESSION=""
    fi
    if [ -n "$SERVICE_PID" ]; then
        kill -TERM "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
        SERVICE_PID=""
    fi
    [ -z "$SERVICE_DIR" ] || rm -rf "$SERVICE_DIR"
    SERVICE_DIR=""
}

run() {
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || die "usage: $0 run -- COMMAND [ARGS...]"
    local problem
    SESSION="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    # The engine tests must find an engine under `run`: missing, they fail instead of skipping.
    export GOLDEN_PATH_DOCKER_SESSION="$SESSION" GOLDEN_PATH_DOCKER_REQUIRED=1
    if problem="$(engine_problem)"; then
        say "using the Docker engine at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
        trap stop_service EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        sweep
        local status=0
        "$@" || status=$?
        return "$status"
    fi
    if ! images_present || packages_missing; then
        if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
            die "no container engine for the docker provider: $problem; and podman cannot be \
provisioned here (needs root and apt-get). Start a Docker engine, or provision podman with: \
$PROVISION_CMD"
        fi
        local began=$SECONDS
        provision
        say "provisioned in $((SECONDS - began)) s"
    fi
    configure_podman
    SERVICE_DIR="$(mktemp -d /tmp/golden-path-podman.XXXXXX)"
    trap stop_service EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local socket="$SERVICE_DIR/podman.sock"
    # --pdeathsig: if this script is killed outright, the kernel stops the service as well.
    setpriv --pdeathsig TERM podman system service --time=0 "unix://$socket" \
        >"$SERVICE_DIR/service.log" 2>&1 &
    SERVICE_PID=$!
    export DOCKER_HOST="unix://$socket" TESTCONTAINERS_RYUK_DISABLED=true \
        TESTCONTAINERS_CONNECTION_MODE=docker_host TC_HOST=127.0.0.1 \
        GOLDEN_PATH_POSTGRES_IMAGE="$(context_image postgres)" \
        GOLDEN_PATH_REDIS_IMAGE="$(context_image redis)"
    local tries=0
    until problem="$(engine_problem)"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 200 ] || ! kill -0 "$SERVICE_PID" 2>/dev/null; then
            cat "$SERVICE_DIR/service.log" >&2
            die "the podman API service did not answer at $DOCKER_HOST: $problem"
        fi
        sleep 0.05
    done
    say "podman $(podman version --format '{{.Client.Version}}') API at $DOCKER_HOST"
    sweep
    local status=0 began=$SECONDS
    "$@" || status=$?
    say "the command ended with status $status after $((SECONDS - began)) s; stopping the API service"
    return "$status"
}

case "${1:-}" in
provision) provision ;;
run)
    shift
    run "$@"
    ;;
status) status ;;
*) die "usage: $0 provision | run -- COMMAND [ARGS...] | status" ;;
esac
