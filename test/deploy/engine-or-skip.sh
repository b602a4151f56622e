# shellcheck shell=bash
# Sourced by the deploy tests that need a container engine: sets it up with
# scripts/container-engine.sh and the Debian base images, or exits 77
# (skipped, with the reason) where no engine can run at all.
if ! command -v podman >/dev/null 2>&1 && ! command -v docker >/dev/null 2>&1; then
  echo "SKIPPED: no container engine (apt-get install podman runc mmdebstrap)"; exit 77
fi
# shellcheck source=scripts/container-engine.sh
source "$kafnus_root/scripts/container-engine.sh"
if ! "${engine[@]}" info >/dev/null 2>&1; then
  echo "SKIPPED: $engine_name cannot run here: $("${engine[@]}" info 2>&1 | tail -1)"; exit 77
fi
ensure_base_images
