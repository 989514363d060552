#!/usr/bin/env bash
# Install everything Passerelle needs, offline-ready; safe to run again (skips what is done).
#
#   bash scripts/setup.sh          # run-time: .venv with the app and the local LLM runtime
#   bash scripts/setup.sh --test   # also the test tools (pytest, ruff, playwright, chromium)
#
# Steps: virtualenv .venv (python3 >= 3.11) -> torch 2.13.0 CPU first -> pip install -e
# ".[llm]" or ".[llm,test]" -> llama-server from llama.cpp's sources -> (tests) Debian chromium -> Debian tesseract-ocr (fra, eng) -> model
# file assembled from PyPI pieces.
# Python steps are skipped when .venv/.stamp-<mode>-<hash> exists; the hash covers
# pyproject.toml and this script, so changing either re-installs.
# LLAMA_AVX512=0 bash scripts/setup.sh: llama.cpp for AVX2 even when the CPU has AVX-512.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MODE=run
for arg in "$@"; do
  case "$arg" in
    --test) MODE=test ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
TORCH_VERSION="2.13.0"
CHROMIUM=/usr/bin/chromium

log() { printf '\n== %s\n' "$*"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

HASH="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
STAMP_RUN="$VENV/.stamp-run-$HASH"
STAMP_TEST="$VENV/.stamp-test-$HASH"
if [[ "$MODE" == test ]]; then STAMP="$STAMP_TEST"; EXTRAS="llm,test"; else STAMP="$STAMP_RUN"; EXTRAS="llm"; fi

started=$SECONDS

# llama.cpp's CPU backend is built for named instruction sets, never -march=native: on hosts
# whose CPU lists AMX that the VM does not enable, the native build segfaults (a general
# protection fault in libggml-cpu) on any prompt longer than a few tokens. AMX stays off.
# AVX-512 (F, CD, BW, DQ, VL, plus VNNI, VBMI and BF16 when listed) when /proc/cpuinfo lists
# it, else AVX2; LLAMA_AVX512=0 forces AVX2. Prompts are read 1.46x faster
# (bench/generation.py --kernel); on the seed test half (live, 175 turns) French model
# answers came 7.4 -> 5.0 s to the first token with no loss of quality (README "Many people
# at once"). The marker names the flags, so a venv holding a build with other flags is
# rebuilt once.
LLAMA_VERSION="0.3.36"
LLAMA_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
LLAMA_ISA=AVX2
cpu_has() { grep -qw -- "$1" /proc/cpuinfo 2>/dev/null; }
if [[ "${LLAMA_AVX512:-1}" == 1 ]] && cpu_has avx512f && cpu_has avx512cd && cpu_has avx512bw \
   && cpu_has avx512dq && cpu_has avx512vl; then
  LLAMA_ISA=AVX-512
  LLAMA_FLAGS="${LLAMA_FLAGS/-DGGML_AVX512=OFF/-DGGML_AVX512=ON}"
  for ext in VNNI:avx512_vnni VBMI:avx512vbmi BF16:avx512_bf16; do
    if cpu_has "${ext#*:}"; then LLAMA_FLAGS+=" -DGGML_AVX512_${ext%%:*}=ON"; fi
  done
fi
LLAMA_MARKER="$VENV/.llama-$LLAMA_VERSION-$(echo "$LLAMA_FLAGS" | sha256sum | cut -c1-12)"
build_llama() {
  [[ -f "$LLAMA_MARKER" ]] && return 0
  log "building llama-cpp-python $LLAMA_VERSION for $LLAMA_ISA (~8 min on 2 cores)"
  CMAKE_ARGS="$LLAMA_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$VPY" -m pip install --progress-bar off --no-cache-dir --force-reinstall --no-deps \
    "llama-cpp-python==$LLAMA_VERSION"
  rm -f "$VENV"/.llama-*
  touch "$LLAMA_MARKER"
}

# --- 1. virtualenv --------------------------------------------------------------------------
if ! "$VPY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
    || die "$PYTHON must be Python >= 3.11 (set PYTHON=/path/to/python3.11)"
  log "creating virtualenv $VENV"
  rm -f "$VENV"/.stamp-* 2>/dev/null || true
  "$PYTHON" -m venv "$VENV"
fi

# --- 2. Python packages ---------------------------------------------------------------------
# A test install covers a run install (it is a superset).
[[ "$MODE" == run && ! -f "$STAMP" && -f "$STAMP_TEST" ]] && STAMP="$STAMP_TEST"
if [[ -f "$STAMP" ]]; then
  echo "python packages: up to date ($(basename "$STAMP"))"
else
  # torch first, pinned: the CPU wheel lies on local disk (found through pip's find-links,
  # /opt/wheels on these machines). If pip were left to choose torch while resolving the
  # other packages, it could take the newest build from the index with GBs of CUDA packages.
  TORCH_LINKS=()
  [[ -d /opt/wheels ]] && TORCH_LINKS=(--find-links /opt/wheels)
  log "pip install torch==$TORCH_VERSION (CPU)"
  "$VPY" -m pip install --progress-bar off "${TORCH_LINKS[@]}" "torch==$TORCH_VERSION"
  "$VPY" - "$TORCH_VERSION" <<'EOF'
import sys
import torch
want = sys.argv[1]
if not torch.__version__.startswith(want) or torch.version.cuda is not None:
    sys.exit(f"setup.sh: unexpected torch {torch.__version__} (cuda={torch.version.cuda}), "
             f"want the CPU build of {want}")
EOF

  # Everything else, with torch held to the installed version by a constraint.
  CONSTRAINTS="$(mktemp)"
  trap 'rm -f "$CONSTRAINTS"' EXIT
  echo "torch==$TORCH_VERSION" > "$CONSTRAINTS"
  build_llama
  log "pip install -e .[$EXTRAS]"
  # Build llama.cpp on every core; pip keeps the built wheel in its cache for later runs.
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
  "$VPY" -m pip install --progress-bar off -c "$CONSTRAINTS" -e ".[$EXTRAS]"

  # The OpenAI-compatible server of llama-cpp-python ([server] extra) must import offline.
  "$VPY" -c 'import llama_cpp, llama_cpp.server.app' \
    || die "llama-cpp-python or its [server] extra does not import"
  "$VPY" -c 'import torch, sys; sys.exit(0 if torch.version.cuda is None else 1)' \
    || die "a CUDA torch was installed; remove .venv and run again"

  rm -f "$VENV"/.stamp-"$MODE"-*
  touch "$STAMP"
fi
build_llama  # a venv built with other flags gets this CPU's build now

# --- 2b. llama.cpp's own server ------------------------------------------------------------
# llama-server (parallel slots, continuous batching; PASSERELLE_LLM_SERVER=1) is built from
# the llama.cpp sources vendored in the same llama-cpp-python release, with the same flags,
# into .venv/bin (~5 min on 2 cores). Its marker names version and flags, like the library's.
SERVER_MARKER="$VENV/.llama-server-$LLAMA_VERSION-$(echo "$LLAMA_FLAGS" | sha256sum | cut -c1-12)"
if [[ ! -f "$SERVER_MARKER" || ! -x "$VENV/bin/llama-server" ]]; then
  log "building llama-server $LLAMA_VERSION for $LLAMA_ISA (~5 min on 2 cores)"
  if ! command -v cmake >/dev/null; then  # PyPI's cmake, as the library's build uses
    "$VPY" -m pip install --progress-bar off cmake >/dev/null
    export PATH="$VENV/bin:$PATH"
  fi
  SRC="$(mktemp -d)"
  "$VPY" -m pip download --progress-bar off --no-deps --no-binary :all: \
    "llama-cpp-python==$LLAMA_VERSION" -d "$SRC" >/dev/null
  tar -xzf "$SRC"/llama_cpp_python-*.tar.gz -C "$SRC"
  LLAMA_SRC="$(echo "$SRC"/llama_cpp_python-*/vendor/llama.cpp)"
  # shellcheck disable=SC2086  # LLAMA_FLAGS is a list of -D options
  cmake -S "$LLAMA_SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release $LLAMA_FLAGS \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DBUILD_SHARED_LIBS=OFF >/dev/null
  cmake --build "$SRC/build" --target llama-server -j "$(nproc)" >/dev/null
  install -m 755 "$SRC/build/bin/llama-server" "$VENV/bin/llama-server"
  rm -rf "$SRC" "$VENV"/.llama-server-*
  touch "$SERVER_MARKER"
fi

# --- 3. Browser for the browser tests -------------------------------------------------------
# Debian's chromium, driven by Playwright with executable_path=/usr/bin/chromium; never
# `playwright install`, which downloads a browser build from outside the package registries.
if [[ "$MODE" == test && ! -x "$CHROMIUM" ]]; then
  log "installing Debian chromium (browser tests)"
  SUDO=()
  [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo)
  if "${SUDO[@]}" apt-get update -qq && \
     DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium; then
    :
  elif [[ -n "${CI:-}" ]]; then
    die "could not install chromium (needed by the browser tests in CI)"
  else
    echo "setup.sh: warning: chromium not installed; browser tests will be skipped" >&2
  fi
fi

# --- 3b. Tesseract OCR (French and English) for scanned PDF pages ---------------------------
# Debian's tesseract-ocr with its fra and eng data (~25 MB installed, ~10 s); the DejaVu font is
# what the OCR tests print their scanned pages with.
OCR_PACKAGES=()
if ! { command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx fra \
       && tesseract --list-langs 2>/dev/null | grep -qx eng; }; then
  OCR_PACKAGES+=(tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng)
fi
[[ "$MODE" == test && ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] \
  && OCR_PACKAGES+=(fonts-dejavu-core)
if (( ${#OCR_PACKAGES[@]} )); then
  log "installing Debian ${OCR_PACKAGES[*]} (OCR of scanned PDFs)"
  SUDO=()
  [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo)
  if "${SUDO[@]}" apt-get update -qq && \
     DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${OCR_PACKAGES[@]}"; then
    :
  elif [[ -n "${CI:-}" ]]; then
    die "could not install ${OCR_PACKAGES[*]} (needed by the OCR tests in CI)"
  else
    echo "setup.sh: warning: Tesseract not installed; scanned PDFs will be reported, not read" >&2
  fi
fi

# --- 4. Local language model ----------------------------------------------------------------
log "local language model"
"$VPY" scripts/assemble_model.py

echo
echo "setup ($MODE) done in $((SECONDS - started)) s"
