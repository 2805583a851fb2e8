# Sourced by the hostile scenarios: `needs CMD...` skips the scenario (exit 77) when the parkit
# under test ($parkit) was built without a command's optional part (cmake/PkFeatures.cmake).
needs() {
    local c
    for c in "$@"; do
        "$parkit" "$c" --help > /dev/null 2>&1 || { echo "skipped: parkit $c is not in this build"; exit 77; }
    done
}
