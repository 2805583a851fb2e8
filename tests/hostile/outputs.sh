#!/usr/bin/env bash
# outputs.sh PARKIT HTTPD SANITIZE SCENARIO: outputs must never destroy what they should not
# (issue 18). Each scenario works in a fresh temporary directory and failed before its fix:
#   devices     --digits, --output, --summary given a character device or a FIFO write it in
#               place (the node stays); a directory or an unseekable --output is exit 2
#   transform   --output uses an exclusive temporary: a planted OUT.tmp (file or symlink) is
#               untouched, and two runs writing one OUT leave one whole result
#   inputs      an output that is one of the inputs is exit 2 (files --summary, transform
#               --output by another spelling, resize --out in the images' directory)
#   stdout      a failed write to stdout (/dev/full, a closed pipe) is exit 1 with a message
#   sig_*       SIGTERM, and a second signal, leave no temporary file behind and exit as the
#               project says (a polling command 1 after the first signal, else 128 + signal);
#               report's plots: gnuplot stopped and its temporary plots removed
set -euo pipefail
parkit=$1 httpd=$2 sanitize=$3 scenario=$4
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/parkit-outputs.XXXXXX")
server=""
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL ($scenario): $*" >&2; exit 1; }
cd "$work"
# a scenario that needs a command of an optional part skips (77) in a build without it
. "$here/needs.sh"
case $scenario in
devices | transform | stdout | sig_transform) needs transform ;;
inputs) needs transform resize ;;
sig_fetch) needs fetch ;;
esac

# run EXPECTED_RC ARGS...: runs parkit, stdout and stderr kept in $work/out and $work/err.
run() {
    local want=$1 rc=0
    shift
    "$parkit" "$@" > out 2> err || rc=$?
    [[ $rc == "$want" ]] || { cat out err; fail "parkit $* exited $rc, expected $want"; }
}
expect_err() { grep -Eq -- "$1" err || { cat err; fail "no /$1/ in stderr"; }; }
# no_temps DIR: nothing but the expected names (temporaries are hidden or end in .tmp*)
no_temps() {
    local left
    left=$(find "$1" -name '.*' -o -name '*.tmp*' | grep -v "^$1\$" || true)
    [[ -z $left ]] || fail "temporary file left behind: $left"
}
# a character device like /dev/null made here (as root, where the file system allows devices),
# else a symlink to /dev/null
make_null() {
    if ! mknod "$1" c 1 3 2>/dev/null || ! (echo > "$1") 2>/dev/null; then
        rm -f "$1"
        ln -s /dev/null "$1"
    fi
}
is_null() { [[ -c $1 ]] && { [[ -L $1 ]] || [[ $(stat -c %t:%T "$1") == 1:3 ]]; }; }

# sig_wait PID SIGNALS...: stops PID, sends the signals up to a "then" (so that each is a second
# signal after the first: two of one kind would merge while it is stopped), lets it go on, sends
# the rest 50 ms apart, and waits for it; its exit status in $rc.
sig_wait() {
    local p=$1 s stopped=1
    shift
    rc=0
    kill -STOP "$p"
    for s in "$@"; do
        if [[ $s == "then" ]]; then
            ((stopped)) && kill -CONT "$p"
            stopped=0
            sleep 0.05
            continue
        fi
        kill "-$s" "$p" 2>/dev/null || true
    done
    ((stopped)) && kill -CONT "$p"
    wait "$p" || rc=$?
}
case $scenario in
devices)
    # the value once, written to a regular file: what the device or FIFO must receive
    run 0 factsum 1000 --digits want.txt
    make_null null
    run 0 factsum 1000 --digits null
    is_null null || fail "factsum --digits replaced the device node"
    run 0 fib 1000 --digits null
    is_null null || fail "fib --digits replaced the device node"
    run 0 transform -n 1000 --chunk 100 --output null
    is_null null || fail "transform --output replaced the device node"
    run 0 files --make set --count 2 --rows 10
    run 0 files set --summary null
    is_null null || fail "files --summary replaced the device node"
    mkfifo fifo
    cat fifo > got &
    reader=$!
    run 0 factsum 1000 --digits fifo
    wait $reader
    [[ -p fifo ]] || fail "factsum --digits replaced the FIFO"
    cmp want.txt got || fail "the FIFO's reader did not get the digits"
    # /dev/stdout into a pipe: the pipe gets them (stdout to a file would resolve to that file)
    "$parkit" factsum 1000 --digits /dev/stdout | cat > piped
    grep -qxF "$(cat want.txt)" piped || fail "--digits /dev/stdout did not print them"
    # a symlink stays one: the file it points to gets the digits
    echo old > real.txt
    ln -s real.txt link.txt
    run 0 factsum 1000 --digits link.txt
    [[ -L link.txt ]] || fail "--digits replaced the symlink by a file"
    cmp want.txt real.txt || fail "the symlink's target did not get the digits"
    # transform writes at offsets: a FIFO is refused at once (no reader needed, no hang)
    timeout 10 "$parkit" transform -n 1000 --output fifo > out 2> err && rc=0 || rc=$?
    [[ $rc == 2 ]] || fail "transform --output FIFO exited $rc, expected 2"
    expect_err "'fifo' cannot seek"
    mkdir dir
    run 2 factsum 10 --digits dir
    expect_err "--digits: 'dir' is a directory"
    run 2 files set --summary dir
    no_temps "$work"
    ;;
transform)
    echo keep > victim
    ln -s victim out.f64.tmp
    echo mine > .out.f64.tmp
    run 0 transform -n 100000 --chunk 1000 --output out.f64
    [[ $(cat victim) == keep ]] || fail "the symlink OUT.tmp made parkit overwrite its target"
    [[ -L out.f64.tmp && $(cat .out.f64.tmp) == mine ]] || fail "an existing OUT.tmp was touched"
    rm out.f64.tmp .out.f64.tmp
    # two runs at once into one OUT: it holds one of the two results whole
    run 0 transform -n 2000000 --chunk 100000 --op chunk --output a.f64 -t 1 --no-verify
    run 0 transform -n 2000000 --chunk 100000 --op heavy --output b.f64 -t 1 --no-verify
    for i in 1 2 3; do
        "$parkit" transform -n 2000000 --chunk 100000 --op chunk --output ab.f64 -t 1 \
            --no-verify > /dev/null 2> e1 &
        p1=$!
        "$parkit" transform -n 2000000 --chunk 100000 --op heavy --output ab.f64 -t 1 \
            --no-verify > /dev/null 2> e2 || true
        wait $p1 || true
        cmp -s ab.f64 a.f64 || cmp -s ab.f64 b.f64 || fail "round $i: OUT mixes both runs"
    done
    no_temps "$work"
    ;;
inputs)
    run 0 files --make set --count 2 --rows 10
    sum=$(md5sum < set/sales_001.csv)
    run 2 files set --summary set/sales_001.csv
    expect_err "--summary 'set/sales_001.csv' would overwrite the input"
    run 2 files set --summary ./set/../set/sales_002.csv
    run 2 files set --summary set/parkit-manifest.json
    [[ $(md5sum < set/sales_001.csv) == "$sum" ]] || fail "an input was replaced"
    run 0 transform -n 1000 --output raw.f64
    run 2 transform --input raw.f64 --output ./raw.f64
    expect_err "would overwrite --input"
    # --record appends: never to an input, nor to another output of the run
    cp raw.f64 raw.keep
    run 2 sumsq --file raw.f64 --record ./raw.f64
    expect_err "--record './raw.f64' would overwrite --file 'raw.f64'"
    run 2 transform --input raw.f64 --record raw.f64
    run 2 transform -n 100 --output o.f64 --record o.f64
    cmp raw.f64 raw.keep || fail "an input got a record appended"
    run 2 files set --record set/sales_002.csv
    run 2 files set --summary s.csv --record s.csv
    run 2 factsum 10 --digits d.txt --record d.txt
    run 2 fib 10 --digits d.txt --record ./d.txt
    mkdir photos
    run 2 resize photos --out photos/
    expect_err "--out 'photos/' is the directory of the input"
    run 2 resize photos/x.jpg --out photos
    ;;
stdout)
    for args in "--version" "--help" "sumsq --help" "info" "factsum 10" \
        "files --make set --count 2 --rows 5" "transform -n 1000 --format json"; do
        rm -rf set
        # shellcheck disable=SC2086 # the words of args are the arguments
        "$parkit" $args > /dev/full 2> err && rc=0 || rc=$?
        [[ $rc == 1 ]] || fail "'$args > /dev/full' exited $rc, expected 1"
        expect_err "cannot write the output: No space left on device"
    done
    # a closed pipe with SIGPIPE ignored (as under many supervisors): EPIPE, exit 1
    for args in "--version" "sumsq --help"; do
        # shellcheck disable=SC2086 # the words of args are the arguments
        rc=$(trap '' PIPE; { sleep 0.3; "$parkit" $args 2> err; echo $? > rc; } | true; cat rc)
        [[ $rc == 1 ]] || fail "'$args | (closed)' exited $rc, expected 1"
        expect_err "cannot write the output: Broken pipe"
    done
    ;;
sig_transform)
    [[ -n $sanitize ]] && { echo "skip: signal timing under a sanitizer"; exit 77; }
    for sigs in TERM "INT then INT" KILL; do
        "$parkit" transform -n 1e7 --reps 1000 --output o.f64 -t 1 --no-verify > out 2> err &
        p=$!
        sleep 1 # writing: the first repetition takes about 0.2 s
        # shellcheck disable=SC2086
        sig_wait $p $sigs
        want=$(case $sigs in TERM) echo 143 ;; KILL) echo 137 ;; *) echo 130 ;; esac)
        [[ $rc == "$want" ]] || fail "transform after $sigs exited $rc, expected $want"
        [[ $(find . -mindepth 1 | sort | paste -sd' ') == "./err ./out" ]] ||
            fail "left after $sigs: $(ls -A)"
    done
    ;;
sig_files)
    [[ -n $sanitize ]] && { echo "skip: signal timing under a sanitizer"; exit 77; }
    # TERM is Ctrl-C: a graceful stop with a manifest of the reports written (exit 1); a second
    # signal exits at once (143) and takes the unlisted reports with it. Either way nothing
    # is left that the next --make refuses.
    for sigs in TERM "INT TERM" "INT then INT"; do
        rm -rf set
        "$parkit" files --make set --count 5000 --rows 2000 > out 2> err &
        p=$!
        for _ in $(seq 200); do
            [[ $(find set -name 'sales_*' 2>/dev/null | wc -l) -gt 20 ]] && break
            sleep 0.02
        done
        # shellcheck disable=SC2086
        sig_wait $p $sigs
        # (the second Ctrl-C may come after the graceful stop finished: 1 then)
        case $sigs in TERM) want=1 ;; "INT TERM") want="143|130" ;; *) want="130|1" ;; esac
        [[ $rc =~ ^($want)$ ]] || { cat err; fail "files --make after $sigs exited $rc, expected $want"; }
        no_temps set
        if [[ -e set/parkit-manifest.json ]]; then
            n=$(find set -name 'sales_*' | wc -l)
            grep -q "\"count\":$n," set/parkit-manifest.json || fail "the manifest does not list the $n reports"
        else
            left=$(find set -mindepth 1 | head -3)
            [[ -z $left ]] || fail "reports without a manifest after $sigs: $left"
        fi
        run 0 files --make set --count 3 --rows 10
    done
    ;;
sig_fetch)
    [[ -n $sanitize ]] && { echo "skip: signal timing under a sanitizer"; exit 77; }
    mkdir root dl
    "$httpd" --port-file port --root root --idle-exit 60 &
    server=$!
    for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
    base="http://127.0.0.1:$(cat port)"
    for i in $(seq 40); do echo "$base/slow/3000?$i"; done > urls
    for sigs in TERM "INT TERM" "INT then INT"; do
        "$parkit" fetch --url-file urls --workers 4 --out dl --quiet > out 2> err &
        p=$!
        sleep 1 # the transfers are under way (each waits 3 s for its reply)
        # shellcheck disable=SC2086
        sig_wait $p $sigs
        case $sigs in TERM) want=1 ;; "INT TERM") want="143|130" ;; *) want=130 ;; esac
        [[ $rc =~ ^($want)$ ]] || { cat err; fail "fetch after $sigs exited $rc, expected $want"; }
        [[ -z $(ls -A dl) ]] || fail "left in the output directory after $sigs: $(ls -A dl)"
    done
    ;;
sig_report)
    [[ -n $sanitize ]] && { echo "skip: signal timing under a sanitizer"; exit 77; }
    sh "$here/../drivers/mkrecords.sh" rin > /dev/null
    # a gnuplot that writes its plots under the temporary prefix, then takes its time
    mkdir bin
    cat > bin/gnuplot <<'GP'
#!/bin/sh
prefix=${2#out=\'}
prefix=${prefix%\'}
for p in time speedup efficiency; do echo x > "$prefix$p.png"; echo x > "$prefix$p.svg"; done
echo $$ > gnuplot.pid
exec sleep 30
GP
    chmod +x bin/gnuplot
    mkdir plots
    PATH="$work/bin:$PATH" "$parkit" report rin/ideal.jsonl --plots plots > out 2> err &
    p=$!
    for _ in $(seq 200); do [[ -s plots/gnuplot.pid ]] && break; sleep 0.05; done
    [[ -s plots/gnuplot.pid ]] || fail "the fake gnuplot did not run"
    gp=$(cat plots/gnuplot.pid)
    sig_wait $p TERM
    kill -0 "$gp" 2>/dev/null && { kill "$gp"; fail "gnuplot left running"; }
    [[ $rc == 143 ]] || fail "report after TERM exited $rc, expected 143"
    [[ -z $(find plots -name '.tmp*') ]] || fail "plots left under temporary names: $(ls -A plots)"
    ;;
sig_factsum)
    [[ -n $sanitize ]] && { echo "skip: signal timing under a sanitizer"; exit 77; }
    for sigs in TERM "INT then INT"; do
        for delay in 0.2 0.6; do
            "$parkit" factsum 4e5 4e5 --digits d.txt -t 1 > out 2> err &
            p=$!
            sleep $delay
            # shellcheck disable=SC2086
            sig_wait $p $sigs
            want=$([[ $sigs == TERM ]] && echo 143 || echo 130)
            [[ $rc == "$want" || $rc == 0 ]] || fail "factsum after $sigs exited $rc, expected $want"
            left=$(find . -mindepth 1 ! -name out ! -name err ! -name d.txt)
            [[ -z $left ]] || fail "left after $sigs: $left"
            rm -f d.txt
        done
    done
    # SIGTERM while the digits are written: caught when a named temporary shows (an unnamed one
    # never does; the run then ends normally, and nothing may be left either way)
    "$parkit" factsum 5e5 5e5 5e5 5e5 --digits d.txt -t 2 > out 2> err &
    p=$!
    while kill -0 $p 2>/dev/null; do
        if compgen -G 'd.txt.tmp*' > /dev/null || compgen -G '.d.txt.parkit-*' > /dev/null; then
            sig_wait $p TERM
            [[ $rc == 143 ]] || fail "factsum TERM while writing exited $rc, expected 143"
            break
        fi
    done
    wait $p 2>/dev/null || true
    left=$(find . -mindepth 1 ! -name out ! -name err ! -name d.txt)
    [[ -z $left ]] || fail "left after TERM while writing the digits: $left"
    ;;
*)
    fail "unknown scenario"
    ;;
esac
echo "ok ($scenario)"
