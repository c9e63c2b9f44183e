#!/usr/bin/env bash
# The GPU check in one command: the CUDA-marked tests, then the full-size benchmarks with
# random weights (nothing is downloaded, no network is needed), then ONE table of stage,
# setting and time. Each step has a time limit; together they stay under 8 minutes.
#
#   bash benchmarks/gpu_check.sh            run it (on a machine with a CUDA GPU)
#   bash benchmarks/gpu_check.sh --dry-run  print the steps and their limits, run nothing
#
# Steps:
#   CUDA tests  pytest -m cuda on the test files that have CUDA-marked tests
#   find        Segment Anything ViT-H + CLIP ViT-L/14: first query, re-query, the reference
#               proposals and SamAutomaticMaskGenerator (benchmarks/bench_find.py --full)
#   replace     SD 2 inpainting at 512 x 512, 25 steps, fp16, on a 512 px and a 24-megapixel
#               photo, memory profiles keep-loaded and model offload
#               (benchmarks/bench_replace.py --full)
#   guided      CLIP-guided against plain SD 2 inpainting per step at 512 x 512, CLIP ViT-L/14
#               and LPIPS's AlexNet, and the guided run's peak GPU memory
#               (benchmarks/bench_guided.py --full)
#
# What the machine needs: Python 3.10+ with torch (a CUDA build), torchvision, transformers,
# accelerate, safetensors, numpy, Pillow, OpenCV (opencv-python or -headless), pytest and
# hypothesis. PySide6 is not needed. diffusers and segment-anything are often missing on
# GPU machines without a network; both are pure-Python wheels, so carry them:
#   here, with a network, in the repository's root:
#     echo /.whl/ >> .git/info/exclude
#     python3 -m pip download --no-deps --only-binary=:all: -d .whl \
#         diffusers==0.42.1 segment-anything==1.0 lpips==0.1.4
#     (lpips imports scipy: add `scipy` with --python-version and --platform of that machine
#     when it has none; without lpips only the guided step fails)
#   there: this script installs .whl/*.whl (or $GPU_CHECK_WHEELS/*.whl) into a temporary
#     folder when those imports fail; by hand that is
#     python3 -m pip install --no-index --no-deps --target /tmp/site .whl/*.whl
#     export PYTHONPATH=/tmp/site
#
# Environment: PYTHON (default python3), GPU_CHECK_WHEELS (default .whl), GPU_CHECK_LOGS (a
# folder for the logs and the table, default a new temporary one).
# Exit status: 0 every step passed; 1 a step failed or ran out of time; 2 no CUDA GPU;
# 3 a package is missing.

set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

# name, time limit in seconds, command; the limits add up to 480 s.
STEP_NAMES=("CUDA tests" "find (SAM ViT-H + CLIP ViT-L)" "replace (SD 2 inpainting)"
            "guided (SD 2 + CLIP ViT-L + LPIPS)")
STEP_LIMITS=(60 135 200 85)
cuda_test_files() {
    grep -rl --include='test_*.py' "pytest.mark.cuda" tests | sort
}
step_command() {
    case $1 in
        0) echo "$PY -m pytest -q -p no:cacheprovider -m cuda $(cuda_test_files | tr '\n' ' ')" ;;
        1) echo "$PY benchmarks/bench_find.py --full --repeats 3" ;;
        2) echo "$PY benchmarks/bench_replace.py --full --steps 25 --repeats 1 --profile keep,offload" ;;
        3) echo "$PY benchmarks/bench_guided.py --full --steps 10" ;;
    esac
}

if [[ ${1:-} == "--dry-run" ]]; then
    for i in "${!STEP_NAMES[@]}"; do
        echo "step ${STEP_NAMES[$i]} (limit ${STEP_LIMITS[$i]} s): $(step_command "$i")"
    done
    exit 0
elif [[ $# -gt 0 ]]; then
    echo "usage: bash benchmarks/gpu_check.sh [--dry-run]" >&2
    exit 64
fi

if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "no CUDA GPU: nothing to check"
    exit 2
fi

NEEDED="import diffusers, segment_anything, transformers, accelerate, cv2, pytest, hypothesis"
if ! "$PY" -c "$NEEDED" 2>/dev/null; then
    WHEELS=${GPU_CHECK_WHEELS:-.whl}
    if compgen -G "$WHEELS/*.whl" >/dev/null; then
        SITE=$(mktemp -d)
        echo "installing the carried wheels from $WHEELS into $SITE"
        "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl \
            || exit 3
        export PYTHONPATH="$SITE:$PYTHONPATH"
    fi
    if ! "$PY" -c "$NEEDED"; then
        echo "a package the check needs is missing (above); see the top of $0 for how to carry it"
        exit 3
    fi
fi

LOGS=${GPU_CHECK_LOGS:-$(mktemp -d)}
mkdir -p "$LOGS"
: >"$LOGS/steps.tsv"
"$PY" -c "import torch; print('GPU:', torch.cuda.get_device_name(0), '| torch', torch.__version__)"
for i in "${!STEP_NAMES[@]}"; do
    name=${STEP_NAMES[$i]}
    limit=${STEP_LIMITS[$i]}
    log="$LOGS/step$i.log"
    echo
    echo "=== $name (limit $limit s): $(step_command "$i")"
    start=$(date +%s.%N)
    # shellcheck disable=SC2046  # the command is split into words on purpose
    timeout --kill-after=10 "$limit" $(step_command "$i") 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    seconds=$("$PY" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
        "$start" "$(date +%s.%N)")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$seconds" "$limit" "$log" >>"$LOGS/steps.tsv"
done

echo
"$PY" benchmarks/gpu_table.py "$LOGS" | tee "$LOGS/table.txt"
result=${PIPESTATUS[0]}
echo "(logs and this table: $LOGS)"
exit "$result"
