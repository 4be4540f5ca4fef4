#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer targets with clang, make the seed
# corpora, replay tests/fuzz/regress/, then fuzz each target.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]   default 60
#   tests/fuzz/run.sh regress                build and replay regress/ only
#
# Environment:
#   TP_FUZZ_BUILD     build directory (default: build-fuzz at the top)
#   TP_FUZZ_TARGETS   targets to run (default: "decode core")
#   TP_FUZZ_PARALLEL  1: run the targets side by side (default when the
#                     machine has 2+ CPUs), 0: one after the other
#   TP_FUZZ_FORK      N > 1: libFuzzer -fork=N per target (more CPUs)
#   TP_FUZZ_RSS_MB    -rss_limit_mb (default 2048)
#
# The corpus grows across runs in $TP_FUZZ_BUILD/fuzz-corpus/<target>; crash
# inputs land in $TP_FUZZ_BUILD/fuzz-artifacts/<target>/, logs in fuzz-logs/.
# Exits non-zero if a regression input or the fuzzing found a crash (or the
# build failed). Needs root for apt-get only if clang is missing.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${TP_FUZZ_BUILD:-$ROOT/build-fuzz}
TARGETS=${TP_FUZZ_TARGETS:-decode core}
RSS=${TP_FUZZ_RSS_MB:-2048}
NCPU=$(nproc 2>/dev/null || echo 1)
PARALLEL=${TP_FUZZ_PARALLEL:-$([ "$NCPU" -ge 2 ] && echo 1 || echo 0)}
FORK=${TP_FUZZ_FORK:-0}

MODE=${1:-60}
case $MODE in
regress) SECS=0 ;;
*[!0-9]* | '') echo "usage: $0 [SECONDS_PER_TARGET | regress]" >&2; exit 2 ;;
*) SECS=$MODE ;;
esac

say() { printf '%s\n' "run.sh: $*" >&2; }

# ---- clang with libFuzzer ---------------------------------------------------
if ! command -v clang >/dev/null 2>&1; then
	say "clang not found: apt-get install -y clang"
	apt-get install -y clang >&2 || { apt-get update >&2 && apt-get install -y clang >&2; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$tmp/t.c"
if ! clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" 2>"$tmp/err"; then
	cat "$tmp/err" >&2
	say "clang cannot link -fsanitize=fuzzer (Debian: the clang package pulls libclang-common-NN-dev, which has libFuzzer)"
	exit 2
fi

# ---- configure and build ----------------------------------------------------
# Through the top-level project once it has add_subdirectory(tests/fuzz),
# else tests/fuzz on its own. A build dir made the other way, or with
# another compiler, is started afresh.
if grep -q 'tests/fuzz' "$ROOT/CMakeLists.txt"; then
	SRC=$ROOT
	CONF="-DTP_FUZZ=ON -DTP_BUILD_PLUGIN=OFF -DTP_BUILD_TESTS=OFF"
else
	SRC=$HERE
	CONF=""
fi
if [ -f "$BUILD/CMakeCache.txt" ]; then
	home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")
	cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
	if [ "$home" != "$SRC" ] || ! "$cc" --version 2>/dev/null | grep -q clang; then
		say "reconfiguring $BUILD from scratch (was: $home, $cc)"
		rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
	fi
fi
# shellcheck disable=SC2086
CC=clang cmake -S "$SRC" -B "$BUILD" $CONF >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; exit 2; }
cmake --build "$BUILD" -j"$NCPU" --target fuzz_core fuzz_decode fuzz_replay_core fuzz_replay_decode >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; exit 2; }
if [ "$SRC" = "$ROOT" ]; then BIN=$BUILD/tests/fuzz; else BIN=$BUILD; fi

# ---- replay the regression inputs ----------------------------------------
fail=0
for t in $TARGETS; do
	files=$(find "$HERE/regress/$t" -type f ! -name 'README*' ! -name '.*' 2>/dev/null | sort)
	[ -n "$files" ] || continue
	n=$(printf '%s\n' "$files" | wc -l)
	# a libFuzzer binary given files runs each once
	# shellcheck disable=SC2086
	if "$BIN/fuzz_$t" $files >"$tmp/regress-$t.log" 2>&1; then
		say "regress $t: $n input(s) clean"
	else
		cat "$tmp/regress-$t.log" >&2
		say "regress $t: FAILED"
		fail=1
	fi
done
[ "$SECS" -gt 0 ] || exit $fail

# ---- seeds, then fuzz ----------------------------------------------------------
python3 "$HERE/make-seeds.py" "$ROOT/test-captures" "$BUILD/fuzz-seeds" >&2

run_target() {
	t=$1
	corpus=$BUILD/fuzz-corpus/$t
	art=$BUILD/fuzz-artifacts/$t
	log=$BUILD/fuzz-logs/$t.log
	mkdir -p "$corpus" "$art" "$(dirname "$log")"
	case $t in
	decode) maxlen=4096 ;;
	*) maxlen=4100 ;; # 4-byte header + 512 records
	esac
	extra=""
	[ "$FORK" -gt 1 ] && extra="-fork=$FORK -ignore_crashes=0"
	start=$(date +%s)
	rc=0
	# shellcheck disable=SC2086
	"$BIN/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb="$RSS" -timeout=30 -max_len=$maxlen \
		-print_final_stats=1 -artifact_prefix="$art/" $extra "$corpus" "$BUILD/fuzz-seeds/$t" \
		>"$log" 2>&1 || rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ -z "$execs" ]; then # fork mode: the last status line
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	fi
	secs=$((end - start))
	rate=$([ "$secs" -gt 0 ] && echo $((${execs:-0} / secs)) || echo "${execs:-0}")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$t: ran ${secs} s, ${execs:-?} executions (${rate}/s), corpus $(ls "$corpus" | wc -l) inputs: clean"
	else
		echo "fuzz_$t: ran ${secs} s, ${execs:-?} executions: CRASH (exit $rc), see $log"
		grep -E 'invariant violated|ERROR: |runtime error|SUMMARY' "$log" | head -n 5
		ls "$art" | sed "s|^|  artifact: $art/|"
		return 1
	fi
}

if [ "$PARALLEL" = 1 ]; then
	pids=""
	for t in $TARGETS; do
		(run_target "$t" >"$tmp/res-$t" 2>&1; echo $? >"$tmp/rc-$t") &
		pids="$pids $!"
	done
	say "fuzzing $TARGETS side by side for $SECS s each"
	# shellcheck disable=SC2086
	wait $pids
	for t in $TARGETS; do
		cat "$tmp/res-$t"
		[ "$(cat "$tmp/rc-$t")" = 0 ] || fail=1
	done
else
	for t in $TARGETS; do
		say "fuzzing $t for $SECS s"
		run_target "$t" || fail=1
	done
fi
exit $fail
