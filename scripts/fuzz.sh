#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (AddressSanitizer + libFuzzer) and runs them.
#
#   scripts/fuzz.sh [TARGET|all] [--runs N | --seconds S] [--debug] [--build-only] [-- LIBFUZZER_ARGS…]
#
# TARGET is one of: idx csv model image prepare request cimageio (all: each in turn, the default).
# Default length: 10 seconds per target. --debug builds without optimisation (quicker to build,
# several times slower to run). Crashes, hangs (an input taking over 10 s) and out-of-memory
# (over 2 GB) stop the run with a non-zero status and leave the input in Fuzz/crashes/TARGET/.
# What a target found is kept in Fuzz/.build/corpus/TARGET (untracked) and grows run after run;
# the seeds in Fuzz/corpus/TARGET are only read. Fuzz/README.md says how to turn a crash into a test.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(idx csv model image prepare request cimageio)
target=all runs="" seconds="" config=release build_only=0 extra=()
while (($#)); do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --debug) config=debug; shift ;;
        --build-only) build_only=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) target="$1"; shift ;;
    esac
done
if [[ -n "$runs" && -n "$seconds" ]]; then echo "fuzz.sh: give --runs or --seconds, not both" >&2; exit 2; fi
if [[ -z "$runs" && -z "$seconds" ]]; then seconds=10; fi
if [[ "$target" == all ]]; then selected=("${TARGETS[@]}"); else selected=("$target"); fi
for t in "${selected[@]}"; do
    [[ " ${TARGETS[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (have: ${TARGETS[*]})" >&2; exit 2; }
done

# The Swift module and corpus name of a short target name.
swift_name() {
    case "$1" in
        idx) echo FuzzIDX ;; csv) echo FuzzCSV ;; model) echo FuzzModel ;;
        image) echo FuzzImage ;; prepare) echo FuzzPrepare ;; request) echo FuzzRequest ;; *) return 1 ;;
    esac
}

# MARK: - Build
# The toolchain's driver keeps only the last of several -sanitize= flags, so SwiftPM's
# `--sanitize fuzzer --sanitize address` compiles Swift without coverage: `--sanitize fuzzer`
# makes SwiftPM link libFuzzer's main, and the flags after it set both sanitizers for Swift and C.
# The linker's "Cannot export local symbol '__asan_…'" warnings are harmless and filtered out.
quiet_link() { grep -v "Cannot export local symbol" || true; }
build_dir=Fuzz/.build
# swiftc runs its coverage pass after AddressSanitizer's, so the comparison tracing that
# -sanitize=fuzzer turns on also traces the shadow-memory check of every load and store (two
# calls per access): most of a pixel loop's time. `prepare`, whose inputs are pixels (its
# decisions are comparisons of floats, which are not traced anyway), is built without comparison
# tracing, in a build folder of its own (Fuzz/.build/prepare), for more inputs a second
# (BENCHMARKS.md, "Fuzzing").
# The other targets keep it: a parser's integer comparisons with magic numbers are worth tracing.
scratch() {  # the build folder of a short target name, relative to Fuzz/
    if [[ "$1" == prepare ]]; then echo .build/prepare; else echo .build; fi
}
swift_build() {  # TARGET
    local coverage=()
    [[ "$1" == prepare ]] && coverage=(-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,indirect-calls)
    (cd Fuzz && swift build -c "$config" --product "$(swift_name "$1")" --scratch-path "$(scratch "$1")" \
        --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address "${coverage[@]}" -Xcc -fsanitize=address 2>&1) | quiet_link
    [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "fuzz.sh: build failed" >&2; exit 1; }
}
if [[ "$target" == all ]]; then
    # Product by product: a plain `swift build` here would also build everything the root package
    # has (the `digits` command, the studio's Hummingbird and SwiftNIO) with the sanitizers.
    echo "fuzz.sh: building the Swift targets ($config, fuzzer + address sanitizer)"
    for t in "${TARGETS[@]}"; do
        [[ "$t" == cimageio ]] || swift_build "$t"
    done
elif [[ "$target" != cimageio ]]; then
    echo "fuzz.sh: building $(swift_name "$target") ($config, fuzzer + address sanitizer)"
    swift_build "$target"
fi
if [[ " ${selected[*]} " == *" cimageio "* ]]; then
    mkdir -p "$build_dir"
    opt=-O1; [[ "$config" == debug ]] && opt=-O0
    echo "fuzz.sh: building the CImageIO target (clang -fsanitize=fuzzer,address)"
    clang -g "$opt" -fsanitize=fuzzer,address -I Sources/CImageIO/include \
        Fuzz/C/fuzz_cimageio.c Sources/CImageIO/*.c -lpng -ljpeg -lz \
        -o "$build_dir/fuzz-cimageio" 2>&1 | quiet_link
    [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "fuzz.sh: build failed" >&2; exit 1; }
fi
((build_only)) && exit 0

# MARK: - Run
status=0
for t in "${selected[@]}"; do
    if [[ "$t" == cimageio ]]; then
        binary="$build_dir/fuzz-cimageio" seeds=Fuzz/corpus/FuzzImage
    else
        name=$(swift_name "$t")
        binary="Fuzz/$(scratch "$t")/$config/$name" seeds="Fuzz/corpus/$name"
    fi
    work="$build_dir/corpus/$t" crashes="Fuzz/crashes/$t"
    mkdir -p "$work" "$crashes"
    dict=(); [[ -f "Fuzz/dict/$t.dict" ]] && dict=(-dict="Fuzz/dict/$t.dict")
    length=(-max_total_time="$seconds"); [[ -n "$runs" ]] && length=(-runs="$runs")
    echo "fuzz.sh: $t (${length[*]})"
    log="$build_dir/fuzz-$t.log"
    set +e
    # Swift's own crash backtracer would read memory under ASan's nose and report itself instead
    # of the trap: leave crashes to libFuzzer.
    # `prepare` allocates a dozen buffers per input: ASan records 5 frames of each allocation's
    # stack instead of 30 (still enough to find the allocation in a report).
    asan=${ASAN_OPTIONS:-}; [[ "$t" == prepare ]] && asan="malloc_context_size=5${asan:+:$asan}"
    SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" ASAN_OPTIONS="$asan" \
    "$binary" "$work" "$seeds" "${dict[@]}" "${length[@]}" -timeout=10 -rss_limit_mb=2048 \
        -max_len=8192 -artifact_prefix="$crashes/" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
    code=$?
    set -e
    # The summary: the last status line and the final statistics.
    grep -E "^#[0-9]+ +(DONE|pulse|NEW|REDUCE)" "$log" | tail -1 || true
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" || true
    if ((code != 0)); then
        echo "fuzz.sh: $t FAILED (exit $code); the log is $log, the input in $crashes/:" >&2
        grep -E "ERROR|SUMMARY|Fatal error|Test unit written|==[0-9]+==" "$log" | head -20 >&2 || true
        status=1
    fi
done
exit "$status"
