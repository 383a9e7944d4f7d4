#!/usr/bin/env bash
# A/B of two sealstore binaries under the same loadgen workloads, interleaved (A then B in odd
# rounds, B then A in even ones) so that drift on a shared machine, and whatever one run leaves
# behind for the next, hits both alike. Each run gets a fresh server on a fresh
# --data-dir; one JSON line per run (loadgen's, with "label" set to "<A|B> <workload>").
#
#   A=/tmp/sealstore-before B=target/release/sealstore ROUNDS=3 benches/ab_binaries.sh
#
# VERSIONED=1 also runs B's workloads in a bucket with versioning enabled (label "B+versioned"):
# what enabling versioning costs a workload, next to what the versioning code costs one that
# never enables it (A vs B). Needs python3 with boto3 for that bucket set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
A=${A:?path of binary A}
B=${B:?path of binary B}
LG=${LG:-target/release/examples/loadgen}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WORKLOADS=(
    "put-4k-c1|--op put --size 4KiB --concurrency 1"
    "put-4k-c16|--op put --size 4KiB --concurrency 16"
    "get-4k-c16|--op get --size 4KiB --concurrency 16"
    "put-1m-c8|--op put --size 1MiB --concurrency 8"
)
if [ -n "${ONLY:-}" ]; then # e.g. ONLY=put-4k: the workloads whose name contains it
    kept=()
    for w in "${WORKLOADS[@]}"; do
        case "${w%%|*}" in *"$ONLY"*) kept+=("$w") ;; esac
    done
    WORKLOADS=("${kept[@]}")
fi

run() { # label binary versioned workload-args...
    local label=$1 bin=$2 versioned=$3
    shift 3
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/sealstore-ab.XXXXXX")
    local out="$dir/ready"
    SEALSTORE_LOG=warn "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" >"$out" 2>/dev/null &
    local pid=$!
    local endpoint=""
    for _ in $(seq 1 200); do
        endpoint=$(sed -n 's/^sealstore listening on \(http:[^ ]*\).*/\1/p' "$out")
        [ -n "$endpoint" ] && break
        sleep 0.05
    done
    local bucket="ab-$RANDOM"
    if [ "$versioned" = 1 ]; then
        python3 - "$endpoint" "$bucket" <<'EOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket=sys.argv[2])
s3.put_bucket_versioning(Bucket=sys.argv[2], VersioningConfiguration={"Status": "Enabled"})
EOF
    fi
    "$LG" --endpoint "$endpoint" --bucket "$bucket" --duration "$DURATION" --warmup 1 \
        --pid "$pid" --label "$label" "$@" 2>/dev/null || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}

for round in $(seq 1 "$ROUNDS"); do
    for w in "${WORKLOADS[@]}"; do
        name=${w%%|*}
        read -r -a args <<<"${w#*|}"
        if [ $((round % 2)) = 1 ]; then
            run "A $name r$round" "$A" 0 "${args[@]}"
            run "B $name r$round" "$B" 0 "${args[@]}"
        else
            run "B $name r$round" "$B" 0 "${args[@]}"
            run "A $name r$round" "$A" 0 "${args[@]}"
        fi
        if [ "${VERSIONED:-0}" = 1 ]; then
            run "B+versioned $name r$round" "$B" 1 "${args[@]}"
        fi
    done
done
