#!/usr/bin/env bash
# Reproduce the experiments, or test them. Sets up .venv on first use (and again when pyproject.toml changes).
#   ./run_all.sh [--profile smoke|default|paper] [--only NAME] [--run RUN] [--jobs N] [-p KEY VALUE]...   run them
#   ./run_all.sh --test                                                            unit tests + smoke notebooks
#   ./run_all.sh [--profile P] --bench                                             the speed/memory benchmark only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

VENV=.venv
PY=$VENV/bin/python

usage() {
  cat <<'USAGE'
Usage:
  ./run_all.sh [--profile smoke|default|paper] [--only NAME] [--run RUN_NAME] [--jobs N] [-p KEY VALUE]...
      Execute notebooks/NN_*.ipynb with papermill (python -m llcore.repro.runner): executed copies go to
      runs/<profile>/, numbers, tables and figures to results/<profile>/, the index to results/README.md.
      --profile   smoke (minutes, CI), default (CPU, the committed results; the default), paper (GPU and
                  real assets, all checked before any notebook runs: python -m llcore.repro.assets lists them)
      --only      one notebook, by stem or prefix: 00 or 00_toy
      --run       only the runs of that name in the profile's params file: --only 01 --run faces
      --jobs      notebooks run at once (default: one per core on the default profile, where each notebook
                  runs on one thread, so the numbers do not depend on --jobs; 1 on the others)
      -p          override a parameter in every run, VALUE read as YAML: -p seed 3 -p n_seeds 2 -p device cpu
      A full run (no --only, no -p) ends with the benchmark (benchmarks/bench.py → results/<profile>/bench/).
  ./run_all.sh [--profile P] --bench
      The speed and memory benchmark alone (quick on smoke), after the notebooks whose metrics it reads.
  ./run_all.sh --test
      Unit tests, then the smoke-profile notebooks executed by pytest --nbval-lax.
  ./run_all.sh -h | --help
      This message.
USAGE
}

die_usage() {
  echo "run_all.sh: $*" >&2
  echo "Try './run_all.sh --help'." >&2
  exit 2
}

sha256_of() {   # of the files given, together
  cat "$@" | { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; } | cut -d' ' -f1
}

# What the reproduction installs: llcore with its `repro` extra, at the exact versions of the constraints file.
INSTALL=(-c constraints/repro.txt -e ".[repro]")

# Create or update .venv when it is missing or pyproject.toml or the constraints changed since it was installed;
# silent otherwise.
ensure_env() {
  local want have="" base start
  want=$(sha256_of pyproject.toml constraints/repro.txt)
  [[ -f $VENV/.pyproject.sha256 ]] && have=$(<"$VENV/.pyproject.sha256")
  [[ -x $PY && $want == "$have" ]] && return 0

  base=$(command -v python3.11 || command -v python3) || {
    echo "run_all.sh: found neither python3.11 nor python3" >&2
    exit 1
  }
  echo "setting up .venv (first run takes ~2-3 minutes) ..."
  start=$SECONDS
  mkdir -p "$VENV"
  if ! { "$base" -m venv "$VENV" &&
         "$PY" -m pip install -q --upgrade pip &&
         "$PY" -m pip install -q "${INSTALL[@]}"; } >"$VENV/install.log" 2>&1; then
    echo "run_all.sh: setting up .venv failed; the end of $VENV/install.log:" >&2
    tail -n 40 "$VENV/install.log" >&2
    exit 1
  fi
  echo "$want" >"$VENV/.pyproject.sha256"
  echo ".venv ready after $((SECONDS - start)) s (pip output: $VENV/install.log)"
}

# run_tier TITLE COMMAND...: run one test tier with a header and its duration; returns the command's status.
run_tier() {
  local title=$1 start=$SECONDS status=0
  shift
  echo "=== $title: $*"
  "$@" || status=$?
  echo "=== $title: $([[ $status == 0 ]] && echo passed || echo "FAILED (status $status)") in $((SECONDS - start)) s"
  echo
  return "$status"
}

run_tests() {
  local failed=() notebooks=()
  run_tier "unit tests" "$PY" -m pytest tests -q -p no:cacheprovider || failed+=("unit tests")

  rm -rf runs/smoke  # only the notebooks prepared now are tested, never stale ones
  if run_tier "prepare smoke notebooks" "$PY" -m llcore.repro.runner --profile smoke --prepare-only; then
    shopt -s nullglob
    notebooks=(runs/smoke/*.ipynb)
    shopt -u nullglob
    if ((${#notebooks[@]} == 0)); then
      echo "=== smoke notebooks: FAILED, nothing in runs/smoke/ to test"
      failed+=("smoke notebooks")
    else
      run_tier "smoke notebooks" "$PY" -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=1200 \
        -q -p no:cacheprovider "${notebooks[@]}" || failed+=("smoke notebooks")
    fi
  else
    failed+=("prepare smoke notebooks")
    echo "=== smoke notebooks: skipped, preparing them failed"
  fi

  if ((${#failed[@]})); then
    echo "FAILED test tiers:" >&2
    printf '  - %s\n' "${failed[@]}" >&2
    exit 1
  fi
  echo "all test tiers passed"
}

# The speed and memory benchmark (benchmarks/bench.py) → results/<profile>/bench/; quick on the smoke profile.
run_bench() {
  local quick=()
  [[ $1 == smoke ]] && quick=(--quick)
  echo "=== benchmark: benchmarks/bench.py --profile $1 ${quick[*]-}"
  "$PY" benchmarks/bench.py --profile "$1" ${quick[@]+"${quick[@]}"}
}

main() {
  local profile=default test=0 bench=0 args=() jobs=()
  while (($#)); do
    case $1 in
      -h | --help) usage; exit 0 ;;
      --test) test=1; shift ;;
      --bench) bench=1; shift ;;
      --profile)
        (($# >= 2)) || die_usage "--profile needs a value: smoke, default or paper"
        profile=$2; shift 2 ;;
      --only)
        (($# >= 2)) || die_usage "--only needs a notebook name, e.g. 00 or 00_toy"
        args+=(--only "$2"); shift 2 ;;
      --run)
        (($# >= 2)) || die_usage "--run needs a run name, e.g. faces"
        args+=(--run "$2"); shift 2 ;;
      --jobs)
        (($# >= 2)) || die_usage "--jobs needs a number, e.g. 2"
        jobs=(--jobs "$2"); shift 2 ;;
      -p)
        (($# >= 3)) || die_usage "-p needs a KEY and a VALUE, e.g. -p seed 3"
        args+=(-p "$2" "$3"); shift 3 ;;
      *) die_usage "unknown option '$1'" ;;
    esac
  done
  case $profile in
    smoke | default | paper) ;;
    *) die_usage "unknown profile '$profile' (smoke, default or paper)" ;;
  esac
  if ((test)); then
    [[ $profile == default && ${#args[@]} == 0 ]] || die_usage "--test takes no other options"
    ensure_env
    run_tests
  elif ((bench)); then
    [[ ${#args[@]} == 0 ]] || die_usage "--bench takes only --profile"
    ensure_env
    run_bench "$profile"
  else
    ensure_env
    local status=0 started notebooks_done cached
    started=$(date +%s)
    # cached artifacts (trained θ, generators, ...) at the start: 0 means the run builds everything from scratch
    cached=0
    if [[ -d ${LLCORE_CACHE:-.cache} ]]; then
      cached=$(find "${LLCORE_CACHE:-.cache}" -maxdepth 1 -name '*.pt' | wc -l)
    fi
    "$PY" -m llcore.repro.runner --profile "$profile" ${jobs[@]+"${jobs[@]}"} ${args[@]+"${args[@]}"} || status=$?
    # a full reproduction (no --only, no -p) ends with the benchmark, which reads the metrics just written; when
    # both pass, its wall clock heads results/<profile>/run_times.md
    if ((status == 0 && ${#args[@]} == 0)); then
      notebooks_done=$(date +%s)
      run_bench "$profile" || status=1
      if ((status == 0)); then
        "$PY" -m llcore.repro.runner --profile "$profile" ${jobs[@]+"${jobs[@]}"} \
          --record-full-run "$started" "$notebooks_done" "$cached" || status=1
      fi
    fi
    exit "$status"
  fi
}

main "$@"
