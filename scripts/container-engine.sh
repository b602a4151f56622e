#!/usr/bin/env bash
# Sourced by the scripts that build or run Kafnus images (scripts/image.sh,
# the deploy tests): picks the container engine and the flags this machine
# needs, and makes the Debian base images from Debian's packages when no
# registry can be reached.
#
#   KAFNUS_CONTAINER_ENGINE  docker | podman (default: docker when its engine
#                            answers, else podman)
#
# Defines: engine (the command, an array), engine_build_flags, engine_run_flags,
# ensure_base_images (sets build_base and runtime_base).
#
# podman on machines like the project's CI needs what
# ../shared/notes/containers.md found: the runc runtime (crun refuses hybrid
# cgroups), no default ulimits (setrlimit RLIMIT_NPROC is refused), and host
# networking for builds. They are harmless elsewhere, so podman always gets them.

# shellcheck shell=bash disable=SC2034  # the variables are for the sourcing script
kafnus_root="${kafnus_root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

engine_name="${KAFNUS_CONTAINER_ENGINE:-}"
if [ -z "$engine_name" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine_name=docker
  elif command -v podman >/dev/null 2>&1; then engine_name=podman
  else
    echo "no container engine: install podman (apt-get install podman runc) or Docker, or set KAFNUS_CONTAINER_ENGINE" >&2
    return 2
  fi
fi

engine=("$engine_name")
engine_build_flags=()
engine_run_flags=()
if [ "$engine_name" = podman ]; then
  conf="$kafnus_root/.deps/containers.conf"
  mkdir -p "$kafnus_root/.deps"
  [ -f "$conf" ] || printf '[containers]\ndefault_ulimits = []\n' > "$conf"
  export CONTAINERS_CONF="$conf"
  command -v runc >/dev/null 2>&1 && engine+=(--runtime runc)
  # docker format: OCI images cannot carry a HEALTHCHECK.
  engine_build_flags=(--format docker --ulimit nofile=20000:20000 --network host)
  engine_run_flags=(--ulimit host)
fi

# Sets build_base and runtime_base: the official images when the engine has
# them or can pull them, else localhost/debian:bookworm(-slim) made once with
# mmdebstrap from Debian's packages (about 20 s; kept in the engine's store).
ensure_base_images() {
  build_base=debian:bookworm
  runtime_base=debian:bookworm-slim
  if "${engine[@]}" image inspect "$build_base" >/dev/null 2>&1 && "${engine[@]}" image inspect "$runtime_base" >/dev/null 2>&1; then
    return 0
  fi
  if "${engine[@]}" pull -q "$build_base" >/dev/null 2>&1 && "${engine[@]}" pull -q "$runtime_base" >/dev/null 2>&1; then
    return 0
  fi
  build_base=localhost/debian:bookworm
  runtime_base=localhost/debian:bookworm-slim
  if "${engine[@]}" image inspect "$runtime_base" >/dev/null 2>&1; then return 0; fi
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    echo "the registry is unreachable and mmdebstrap is missing (apt-get install mmdebstrap) to make a Debian base image" >&2
    return 2
  fi
  echo "[image] no registry: making $runtime_base from Debian's packages (mmdebstrap)"
  local tar
  tar="$(mktemp --suffix=.tar)"
  # Like the official slim image: /usr merged without the usrmerge package
  # (and the perl it pulls in), no documentation, manual pages or
  # translations, no package lists.
  # shellcheck disable=SC2016  # "$1" in the hook is the root, expanded by mmdebstrap
  mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt/*' \
    bookworm "$tar"
  "${engine[@]}" import -q "$tar" "$runtime_base" >/dev/null
  "${engine[@]}" tag "$runtime_base" "$build_base"
  rm -f "$tar"
}
