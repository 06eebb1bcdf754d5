#!/usr/bin/env bash
# Build and install the pgvector PostgreSQL extension from Debian's source
# package.
#
# Debian 12 (bookworm) ships no pgvector package, so we take the source
# package from Debian `trixie` (main) and build it against the local
# PostgreSQL server's headers (postgresql-server-dev-<major>) with plain
# PGXS `make && make install`.
#
# - Idempotent: does nothing when vector.control (and vector.so) are already
#   installed for the target PostgreSQL major version.
# - Only a `deb-src` entry is added for trixie (never a binary `deb` line), in
#   its own file, and it is removed again when the script exits so that later
#   `apt-get source`/`build-dep` calls on this machine keep using bookworm.
# - The mirror is the one the machine already uses for its own release.
#
# Environment (all optional):
#   PG_MAJOR       PostgreSQL major version to build for (default: detected)
#   DEBIAN_MIRROR  archive URL to use instead of the detected one
#   PGVECTOR_SUITE Debian suite to take the source package from (default: trixie)
#
# Usage: bash scripts/install-pgvector.sh   (as root)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PGVECTOR_SUITE=${PGVECTOR_SUITE:-trixie}
SRC_LIST=/etc/apt/sources.list.d/${PGVECTOR_SUITE}-src.list

log() { printf '[install-pgvector] %s\n' "$*"; }
die() { printf '[install-pgvector] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (needs apt-get and writes to the PostgreSQL tree)"

# --- PostgreSQL major version --------------------------------------------
# Highest version that has a cluster config in /etc/postgresql, else the
# version of the psql client.
detect_pg_major() {
  local v
  v=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null |
    grep -E '^[0-9]+$' | sort -n | tail -n 1 || true)
  if [[ -z $v ]] && command -v psql >/dev/null 2>&1; then
    v=$(psql --version | sed -nE 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/p' | head -n 1)
  fi
  printf '%s' "$v"
}

PG_MAJOR=${PG_MAJOR:-$(detect_pg_major)}
[[ $PG_MAJOR =~ ^[0-9]+$ ]] || die "could not detect the PostgreSQL major version (is PostgreSQL installed?)"
PG_CONFIG=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config
[[ -x $PG_CONFIG ]] || die "$PG_CONFIG not found (PostgreSQL ${PG_MAJOR} not installed?)"

EXT_DIR="$("$PG_CONFIG" --sharedir)/extension"
LIB_DIR="$("$PG_CONFIG" --pkglibdir)"

# --- Already installed? ----------------------------------------------------
if [[ -f $EXT_DIR/vector.control && -f $LIB_DIR/vector.so ]]; then
  log "pgvector already installed for PostgreSQL ${PG_MAJOR}" \
    "($(sed -nE "s/^default_version *= *'([^']*)'.*/\1/p" "$EXT_DIR/vector.control")); skipping build"
  exit 0
fi

# --- Build prerequisites ---------------------------------------------------
# .ci/run installs these already; when this script is run on its own, install
# whatever is missing (only then is a full `apt-get update` needed).
is_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}
missing=()
for p in "postgresql-server-dev-${PG_MAJOR}" build-essential dpkg-dev; do
  is_installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing build prerequisites: ${missing[*]}"
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- Mirror detection ------------------------------------------------------
# Print the URI of the first enabled binary ("deb") source for suite $1 with
# component main, from deb822 *.sources files or one-line *.list files.
# (The awk programs read their whole input and print in END, so no pipe is
# cut short under `set -o pipefail`.)
find_mirror() {
  local codename=$1 f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    # deb822: stanzas separated by blank lines; "#" lines are comments.
    uri=$(awk -v want="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; comps = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          key = line; sub(/:.*/, "", key); key = tolower(key)
          val = line; sub(/^[^:]*:[ \t]*/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "components") comps = val
          else if (key == "enabled") enabled = tolower(val)
        }
        if (enabled == "no") next
        if ((" " types " ") !~ / deb /) next
        if ((" " suites " ") !~ (" " want " ")) next
        if ((" " comps " ") !~ / main /) next
        split(uris, u, /[ \t]+/)
        if (found == "" && u[1] != "") found = u[1]
      }
      END { if (found != "") print found }' "$f")
    if [[ -n $uri ]]; then
      printf '%s\n' "$uri"
      return 0
    fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f && $f != "$SRC_LIST" ]] || continue
    # one-line: deb [options] URI suite component...
    uri=$(sed -E 's/#.*//; s/\[[^]]*\]//' "$f" |
      awk -v want="$codename" '
        found == "" && $1 == "deb" && $3 == want {
          for (i = 4; i <= NF; i++) if ($i == "main") found = $2
        }
        END { if (found != "") print found }')
    if [[ -n $uri ]]; then
      printf '%s\n' "$uri"
      return 0
    fi
  done
}

# shellcheck disable=SC1091  # /etc/os-release is a standard system file
CODENAME=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
[[ -n $CODENAME ]] || die "cannot read VERSION_CODENAME from /etc/os-release"

MIRROR=${DEBIAN_MIRROR:-$(find_mirror "$CODENAME")}
MIRROR=${MIRROR%/}
[[ -n $MIRROR ]] || die "no 'deb ... ${CODENAME} main' entry found in /etc/apt/sources.list{,.d/*}; set DEBIAN_MIRROR"
log "PostgreSQL ${PG_MAJOR}; ${CODENAME} mirror: ${MIRROR}; source suite: ${PGVECTOR_SUITE}"

# --- Fetch the source package ----------------------------------------------
WORKDIR=$(mktemp -d /tmp/pgvector-build.XXXXXX)
cleanup() {
  rm -rf "$WORKDIR"
  rm -f "$SRC_LIST"
}
trap cleanup EXIT

SIGNED_BY=""
if [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
  SIGNED_BY="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
fi
# deb-src only: nothing binary from trixie can be installed through this.
printf 'deb-src %s%s %s main\n' "$SIGNED_BY" "$MIRROR" "$PGVECTOR_SUITE" >"$SRC_LIST"

# Refresh only this one source (the rest were updated by the caller / above);
# List-Cleanup=0 keeps the other sources' lists in place.
log "apt-get update (${PGVECTOR_SUITE} deb-src only)"
apt-get update \
  -o Dir::Etc::sourcelist="$SRC_LIST" \
  -o Dir::Etc::sourceparts=- \
  -o APT::Get::List-Cleanup=0

# Let apt's sandbox user download into the directory (avoids apt's
# "Download is performed unsandboxed as root" warning).
if id -u _apt >/dev/null 2>&1; then
  chown _apt "$WORKDIR"
fi
log "apt-get source pgvector/${PGVECTOR_SUITE} in $WORKDIR"
(cd "$WORKDIR" && apt-get source "pgvector/${PGVECTOR_SUITE}")

SRC_DIR=$(find "$WORKDIR" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
[[ -n $SRC_DIR && -f $SRC_DIR/Makefile ]] || die "unpacked pgvector source not found in $WORKDIR"

# --- Build and install -----------------------------------------------------
# OPTFLAGS= drops upstream's default -march=native (as Debian's own build
# does), so the library does not depend on this particular CPU.
log "building $(basename "$SRC_DIR") against $PG_CONFIG"
make -C "$SRC_DIR" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS=
make -C "$SRC_DIR" install PG_CONFIG="$PG_CONFIG" OPTFLAGS=

[[ -f $EXT_DIR/vector.control && -f $LIB_DIR/vector.so ]] ||
  die "make install finished but vector.control/vector.so are missing"
log "installed pgvector $(sed -nE "s/^default_version *= *'([^']*)'.*/\1/p" "$EXT_DIR/vector.control")" \
  "for PostgreSQL ${PG_MAJOR}"
