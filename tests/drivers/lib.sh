# Sourced by the command scripts here, after they set parkit and scenario:
#   . "$(dirname "$0")/lib.sh" NAME [COMMAND]
# gives $work (a fresh directory, removed at exit), `fail MESSAGE`, and `run EXPECTED_RC ARGS...`
# (parkit [COMMAND] ARGS with its stdout and stderr kept in $work and shown, the exit code
# checked).
work=$(mktemp -d "${TMPDIR:-/tmp}/parkit-$1.XXXXXX")
trap 'rm -rf "$work"' EXIT
lib_command=("${@:2}")
fail() { echo "FAIL ($scenario): $*" >&2; exit 1; }
run() { # run EXPECTED_RC ARGS...
    local want=$1 rc=0
    shift
    "$parkit" "${lib_command[@]}" "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
    cat "$work/stdout" "$work/stderr"
    [[ $rc == "$want" ]] || fail "exit $rc, expected $want"
}
