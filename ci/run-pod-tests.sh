#!/usr/bin/env bash
# What a Jenkins node runs against a real pod (jenkins/*.yaml and jenkins/Jenkinsfile call it):
# reads the OPNFV environment, runs the kvmfornfv-test suite on the pod, copies this build's
# run into results/ for the JUnit publisher and the archive, and returns the exit code that
# gates the job.
#
# Usage: ci/run-pod-tests.sh [--mode gate|nightly]
#   gate     every non-zero exit code of the suite fails the job.
#   nightly  68 (a threshold missed) and 71 (a regression) return 0, and a failing JUnit testcase
#            marks the build UNSTABLE; 2 (bad input), 69 (push failed), 70 (not measured) and any
#            other code still fail it. 68 and 71 outrank 69 in the suite's exit code, so a run
#            that missed a threshold and also failed its push returns 69 here: results.json
#            says which pushes failed.
#   Default: nightly when CI_LOOP is daily or weekly, gate otherwise.
#   SIGTERM, SIGINT and SIGHUP (a Jenkins abort) are passed on to the suite as SIGTERM; the script
#   waits for the suite's cleanup and reports its exit code (70). A run of this build whose
#   results.json never reached a verdict (status running) fails the job with 70.
#
# Environment:
#   POD_FILE            pod.yaml of the pod; default $POD_DIR/$NODE_NAME.yaml
#   NODE_NAME           the pod (OPNFV; on OPNFV CI the Jenkins agent is named after its pod)
#   POD_DIR             default /etc/kvmfornfv/pods
#   THRESHOLDS          threshold profile name or file; default: the suite's own default
#   TEST_SELECTION      a case, a tier or all; default all
#   BASELINE            last | path of a results.json; empty: no regression comparison; default last
#   COMPARE_ACROSS      with BASELINE: compare even across these changes, e.g. kernel,qemu for
#                       the verify job, which tests a new kernel or QEMU build; default empty
#   PUSH_RESULTS        true: push to TEST_DB_URL (-r); false: do not; default true
#   KFN_RESULTS_STORE   results root kept across builds (history.jsonl and earlier runs, which
#                       `--baseline last` needs); default $HOME/kvmfornfv-results/<pod name>
#   RESULTS_DIR         this build's copy for Jenkins, inside the workspace, emptied first;
#                       default <repo>/results
#   INSTALLER_TYPE, DEPLOY_SCENARIO, BUILD_TAG, CI_LOOP, TEST_DB_URL, TEST_DB_EXT_URL: read by the suite;
#   TEST_DB_TOKEN       the TestAPI access token (X-Auth-Token) where auth is on: bind it from a Jenkins secret.
set -euo pipefail

readonly EXIT_BAD_INPUT=2
readonly EXIT_NOT_MEASURED=70

readonly EXIT_PUSH_FAILED=69

# The gating rule, in one place: mode, the suite's exit code and whether a push failed in,
# the job's exit code out.
gate_exit_code() {
  local mode=$1 code=$2 push_failed=$3
  if [[ $code -eq 0 ]]; then
    echo 0
  elif [[ $mode == nightly && ( $code -eq 68 || $code -eq 71 ) ]]; then
    if [[ $push_failed == yes ]]; then echo "$EXIT_PUSH_FAILED"; else echo 0; fi
  else
    echo "$code"
  fi
}

# yes when a results.json of this build records a failed push (its `pushes` list).
push_failed_in() {
  local file
  for file in "$1"/*/results.json; do
    [[ -f $file ]] || continue
    if node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit((r.pushes ?? []).some((p) => p.state === "failed") ? 0 : 1)' "$file"; then
      echo yes
      return
    fi
  done
  echo no
}

# The run ids of this build whose results.json has no verdict (status running), space-separated.
unfinished_runs_in() {
  local file found=()
  for file in "$1"/*/results.json; do
    [[ -f $file ]] || continue
    if node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(r.status === "running" ? 0 : 1)' "$file"; then
      found+=("$(basename "$(dirname "$file")")")
    fi
  done
  echo "${found[*]}"
}

describe_exit_code() {
  case $1 in
    0) echo 'ok' ;;
    2) echo 'bad input' ;;
    68) echo 'a threshold was missed' ;;
    69) echo 'the result push failed' ;;
    70) echo 'something could not be measured' ;;
    71) echo 'a regression against the baseline' ;;
    *) echo 'unexpected exit code' ;;
  esac
}

die() {
  echo "run-pod-tests: $2" >&2
  exit "$1"
}

# A failing testcase of its own, so a nightly 68/71 mapped to 0 still shows as UNSTABLE
# even if the suite's junit.xml did not carry the failure.
write_gate_junit() {
  local dir=$1 code=$2 text
  text="kvmfornfv-test exited ${code} ($(describe_exit_code "$code")); nightly mode reports it as UNSTABLE, not FAILED"
  mkdir -p "$dir"
  cat >"$dir/junit.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="kvmfornfv-ci">
  <testsuite name="kvmfornfv.ci" tests="1" failures="1" errors="0" skipped="0">
    <testcase classname="kvmfornfv.ci.gate" name="suite exit code" time="0">
      <failure message="${text}"/>
    </testcase>
  </testsuite>
</testsuites>
EOF
}

mode=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --mode) mode=${2:-}; shift 2 || die "$EXIT_BAD_INPUT" '--mode needs a value: gate or nightly' ;;
    --mode=*) mode=${1#--mode=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "$EXIT_BAD_INPUT" "unknown argument \"$1\"; usage: ci/run-pod-tests.sh [--mode gate|nightly]" ;;
  esac
done
if [[ -z $mode ]]; then
  case ${CI_LOOP:-} in daily | weekly) mode=nightly ;; *) mode=gate ;; esac
fi
[[ $mode == gate || $mode == nightly ]] || die "$EXIT_BAD_INPUT" "--mode must be gate or nightly, got \"$mode\""

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"

if [[ -n ${POD_FILE:-} ]]; then
  pod_file=$POD_FILE
elif [[ -n ${NODE_NAME:-} ]]; then
  pod_file=${POD_DIR:-/etc/kvmfornfv/pods}/${NODE_NAME}.yaml
else
  # shellcheck disable=SC2016 # the variable names are the message
  die "$EXIT_BAD_INPUT" 'set POD_FILE, or NODE_NAME to use $POD_DIR/$NODE_NAME.yaml'
fi
[[ -f $pod_file ]] || die "$EXIT_BAD_INPUT" "pod file $pod_file does not exist"
pod_name=$(basename "$pod_file" .yaml)

store=${KFN_RESULTS_STORE:-${HOME:?}/kvmfornfv-results/${NODE_NAME:-$pod_name}}
results=${RESULTS_DIR:-$repo/results}
store=$(realpath -m -- "$store")
results=$(realpath -m -- "$results")
# results/ is emptied every build: it must be inside the workspace, and must not hold the store.
[[ $results == "$repo"/* ]] || die "$EXIT_BAD_INPUT" "RESULTS_DIR ($results) must lie inside the workspace $repo: it is emptied every build"
[[ $store != "$results" && $store != "$results"/* ]] ||
  die "$EXIT_BAD_INPUT" "KFN_RESULTS_STORE ($store) must lie outside RESULTS_DIR ($results)"
mkdir -p "$store" "$results"
find "$results" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +

if [[ ! -d node_modules ]]; then
  echo "run-pod-tests: node_modules is missing; running npm ci"
  npm ci --no-audit --no-fund || die "$EXIT_NOT_MEASURED" 'npm ci failed; the suite could not be installed'
fi

args=(run -t "${TEST_SELECTION:-all}" --pod "$pod_file" --results "$store")
[[ -n ${THRESHOLDS:-} ]] && args+=(--thresholds "$THRESHOLDS")
baseline=${BASELINE-last}
[[ -n $baseline ]] && args+=(--baseline "$baseline")
[[ -n $baseline && -n ${COMPARE_ACROSS:-} ]] && args+=(--compare-across "$COMPARE_ACROSS")
[[ ${PUSH_RESULTS:-true} == true ]] && args+=(-r)

declare -A before=()
for d in "$store"/*/; do [[ -d $d ]] && before[$d]=1; done

echo "run-pod-tests: mode $mode, pod $pod_file, results in $store"
# The suite runs in the background so that a signal to this script reaches it: bash runs no trap
# while a foreground command runs, and npm passes SIGINT and SIGTERM on but not SIGHUP. Each is
# passed on as SIGTERM; the suite then stops its measurement, cleans every node, writes its
# results and exits 70, and this script waits for that and reports it like any other exit code.
suite_pid=''
# shellcheck disable=SC2317 # called from the traps below
pass_signal_on() {
  echo "run-pod-tests: $1 received; passing SIGTERM to the suite (npm, pid ${suite_pid:-none}) and waiting for its cleanup"
  if [[ -n $suite_pid ]]; then kill -TERM "$suite_pid" 2>/dev/null || true; fi
}
trap 'pass_signal_on SIGTERM' TERM
trap 'pass_signal_on SIGINT' INT
trap 'pass_signal_on SIGHUP' HUP
set +e
npm exec --offline -- kvmfornfv-test "${args[@]}" &
suite_pid=$!
# A trapped signal ends `wait` early (status > 128) while the suite still cleans up: wait again
# until it is gone; bash keeps its exit status for the last `wait`.
while wait "$suite_pid"; kill -0 "$suite_pid" 2>/dev/null; do :; done
wait "$suite_pid"
code=$?
set -e
trap - TERM INT HUP

# Only this build's run goes to Jenkins: JUnit ignores nothing new, the archive stays small.
for d in "$store"/*/; do
  [[ -d $d && -z ${before[$d]:-} ]] && cp -a -- "$d" "$results/"
done

# A run that never reached its verdict (its harness killed before the end) fails the job whatever
# the exit code says: its results.json still says "running".
unfinished=$(unfinished_runs_in "$results")
if [[ -n $unfinished && $code -ne $EXIT_BAD_INPUT ]]; then
  echo "run-pod-tests: run(s) $unfinished never reached a verdict (results.json says running); reporting $EXIT_NOT_MEASURED"
  [[ $code -eq 0 || $code -eq 68 || $code -eq 69 || $code -eq 71 ]] && code=$EXIT_NOT_MEASURED
fi

job_code=$(gate_exit_code "$mode" "$code" "$(push_failed_in "$results")")
if [[ $code -ne 0 && $job_code -eq 0 ]]; then
  write_gate_junit "$results/ci-gate" "$code"
fi
if [[ $job_code -eq $EXIT_PUSH_FAILED && $code -ne $EXIT_PUSH_FAILED ]]; then
  echo "run-pod-tests: a result push failed (see the notes in results.json); the job fails even in nightly mode"
fi
echo "run-pod-tests: kvmfornfv-test exited $code ($(describe_exit_code "$code")); $mode mode: job exit code $job_code"
exit "$job_code"
