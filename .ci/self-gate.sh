#!/usr/bin/env bash
# The regression gate run on this project itself: the step benchmarks and a small suite
# (.ci/self-gate.yaml) for the previous landed commit (HEAD^) and for this one, interleaved on
# this machine (previous, this, then this, previous), then `optbench compare` of the two windows.
# The suite's comparison FAILS CI (exit 1) on a regression that holds on an interleaved re-run
# (--confirm, two rounds a side): its false-alarm rate on this machine was measured at 0 in 100
# A/A pairs with --confirm 2, 1 in 100 without (benchmarks/bench_gate_aa.py, docs/PERFORMANCE.md).
# The step benchmarks' comparison stays reporting only: its A/A rate is not measured yet.
# "Insufficient data" (a busy machine) and "not comparable" never fail CI. Whatever stops the
# gate itself (no previous commit, an old commit that cannot run these) is said in one line, and
# CI goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
PY=${PY:-$here/.venv/bin/python}
started=$(date +%s)
say() { echo "self-gate: $*"; }

previous=$(git rev-parse --verify -q HEAD^) || { say "skipped: no previous commit"; exit 0; }
work=$(mktemp -d)
cleanup() { git worktree remove --force "$work/previous-code" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
if ! git worktree add -q --detach "$work/previous-code" "$previous" 2>"$work/worktree.log"; then
  say "skipped: cannot check out $previous: $(tail -1 "$work/worktree.log")"; exit 0
fi

# One side's measurements for one round: $1 previous|this, $2 its code's directory, $3 round.
measure() {
  local side=$1 code=$2 round=$3
  ( cd "$code" && PYTHONPATH="$code" "$PY" -m pytest -q -p no:cacheprovider tests/benchmarks --benchmark-only \
      --benchmark-json="$work/$side-steps-$round.json" --benchmark-max-time=0.1 --benchmark-min-rounds=50 \
      --benchmark-warmup=on --benchmark-warmup-iterations=20 ) >"$work/$side-steps-$round.log" 2>&1 \
    || { say "$side step benchmarks failed (round $round): $(tail -1 "$work/$side-steps-$round.log")"; return 1; }
  ( cd "$code" && PYTHONPATH="$code" "$PY" -m bench run "$here/.ci/self-gate.yaml" --results "$work/$side" \
      --run-id "round-$round" ) >"$work/$side-suite-$round.log" 2>&1 \
    || { say "$side suite run failed (round $round): $(tail -1 "$work/$side-suite-$round.log")"; return 1; }
}

this_code=$here
for round in 1 2; do
  if [ "$round" = 1 ]; then order="previous this"; else order="this previous"; fi
  for side in $order; do
    if [ "$side" = previous ]; then code="$work/previous-code"; else code=$this_code; fi
    measure "$side" "$code" "$round" || { say "skipped: the comparison needs both sides"; exit 0; }
  done
done

echo "self-gate: previous $(git log -1 --format='%h %s' "$previous" | cut -c1-70)"
echo "self-gate: this     $(git log -1 --format='%h %s' HEAD | cut -c1-70)"
"$PY" -m bench compare "$work/previous-steps-1.json,$work/previous-steps-2.json" \
  "$work/this-steps-1.json,$work/this-steps-2.json" | sed 's/^/self-gate: steps: /'
steps=${PIPESTATUS[0]}
"$PY" -m bench compare "$work/previous/self-gate/round-1,$work/previous/self-gate/round-2" \
  "$work/this/self-gate/round-1,$work/this/self-gate/round-2" \
  --confirm 2 --baseline-checkout "$work/previous-code" --confirm-dir "$work/confirm" 2>&1 \
  | sed 's/^/self-gate: suite: /'
suite=${PIPESTATUS[0]}
say "exit codes: step benchmarks $steps (reporting only), suite $suite after --confirm (0 no regression,"\
" 1 regressed, 3 not comparable or insufficient data) ($(( $(date +%s) - started ))s)"
if [ "$suite" = 1 ]; then
  say "FAILED: the suite regressed against the previous commit, and the regression held on the re-run"
  exit 1
fi
exit 0
