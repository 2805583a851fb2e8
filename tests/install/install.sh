#!/bin/sh
# install.sh BUILD_DIR SOURCE_DIR SANITIZE STEP: the installed parkit, in a prefix under the
# test's working directory (tests/install-prefix, made by STEP=prefix).
#   prefix     cmake --install BUILD_DIR --prefix P; the tree has bin, lib, include, share
#   demo       P/bin/parkit demo --tiny, found on a PATH without the build tree, from elsewhere
#   pkgconfig  docs/example_pool.c and example_pipeline.c with `pkg-config --cflags --libs parkit`
#              (libparkit.so)
#   cmake      the same with find_package(parkit) (CMAKE_PREFIX_PATH=P): parkit::parkit (shared)
#              and parkit::parkit_static (libparkit.a)
#   jobs       the installed job scripts find P/bin/parkit
# Under a sanitizer the example steps are skipped (77): libparkit is then instrumented and a
# program built without -fsanitize cannot load or link it.
set -eu
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) sanitize=$3 step=$4
P=$PWD/install-prefix
export PATH="$P/bin:/usr/local/bin:/usr/bin:/bin" OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
fail() { echo "install.sh $step: $*" >&2; exit 1; }
case $step in
prefix)
    rm -rf "$P"
    cmake --install "$build" --prefix "$P" > install.log || { cat install.log; fail "install failed"; }
    for f in bin/parkit include/parkit/pool.h include/parkit/pipeline.h include/parkit/queue.h \
             include/parkit/status.h include/parkit/dist.h lib/libparkit.a lib/libparkit.so \
             lib/pkgconfig/parkit.pc lib/cmake/parkit/parkitConfig.cmake \
             lib/cmake/parkit/parkitConfigVersion.cmake share/parkit/jobs/ranks-sweep.sh \
             share/parkit/jobs/slurm/common.sh; do
        [ -e "$P/$f" ] || fail "$f not installed"
    done
    soname=$(objdump -p "$P/lib/libparkit.so" | sed -n 's/^ *SONAME *//p')
    [ "$soname" = "libparkit.so.0.1" ] || fail "SONAME '$soname', expected libparkit.so.0.1"
    [ -e "$P/lib/$soname" ] || fail "$soname not installed"
    # no installed header may pull in mpi.h: a non-MPI user includes them all
    ! grep -l '#include *[<"]mpi.h' "$P"/include/parkit/*.h || fail "a header includes mpi.h"
    # README's Install section shows docs/example_pool.c verbatim
    python3 -c 'import sys; r = open(sys.argv[1]).read(); e = open(sys.argv[2]).read()
sys.exit(0 if "```c\n" + e + "```\n" in r else 1)' "$src/README.md" "$src/docs/example_pool.c" \
        || fail "README.md does not show docs/example_pool.c verbatim"
    # each header compiles alone, as C17 with POSIX (clock.h's clock_gettime is POSIX)
    for h in "$P"/include/parkit/*.h; do
        echo "#include <parkit/$(basename "$h")>" \
            | cc -std=c17 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -fsyntax-only -I"$P/include" -x c - \
            || fail "$h does not compile on its own"
    done ;;
demo)
    case $(command -v parkit) in "$P/bin/parkit") ;; *) fail "parkit on PATH is $(command -v parkit)" ;; esac
    rm -rf demo-run && mkdir demo-run && cd demo-run
    parkit --version
    parkit demo --tiny --reps 1 --warmup 0 --out out > demo.out || { cat demo.out; fail "demo failed"; }
    cat demo.out
    grep -Eq '^pipeline .* yes' demo.out && grep -Eq 'fib .tutorial.* yes' demo.out || fail "demo rows missing"
    [ -s out/records.jsonl ] || fail "no records" ;;
pkgconfig)
    [ -z "$sanitize" ] || { echo "skipped: libparkit is built with -fsanitize=$sanitize"; exit 77; }
    export PKG_CONFIG_PATH="$P/lib/pkgconfig"
    for e in pool pipeline; do
        cc -std=c17 -Wall -Wextra -Werror "$src/docs/example_$e.c" -o "example_$e" \
           $(pkg-config --cflags --libs parkit)
        LD_LIBRARY_PATH="$P/lib" "./example_$e"
        LD_LIBRARY_PATH="$P/lib" ldd "./example_$e" | grep -q "$P/lib/libparkit.so" \
            || fail "example_$e is not linked to the installed libparkit.so"
    done
    # a fully static link (pkg-config --static) needs static builds of libcurl's own
    # dependencies, which Debian does not ship: libparkit.a is linked by the cmake step
    ;;
cmake)
    [ -z "$sanitize" ] || { echo "skipped: libparkit is built with -fsanitize=$sanitize"; exit 77; }
    for kind in shared static; do
        st=OFF; [ $kind = static ] && st=ON
        rm -rf "consumer-$kind"
        cmake -S "$src/tests/install/consumer" -B "consumer-$kind" -DCMAKE_PREFIX_PATH="$P" \
              -DPK_DOCS="$src/docs" -DPK_STATIC=$st > "consumer-$kind.log" 2>&1 \
            && cmake --build "consumer-$kind" >> "consumer-$kind.log" 2>&1 \
            || { cat "consumer-$kind.log"; fail "find_package(parkit) build ($kind) failed"; }
        "consumer-$kind/example_pool"
        "consumer-$kind/example_pipeline"
    done
    ldd consumer-shared/example_pool | grep -q "$P/lib/libparkit.so" || fail "not linked to $P/lib/libparkit.so" ;;
jobs)
    # from a directory with no build tree: the scripts must find the installed parkit
    rm -rf jobs-run && mkdir jobs-run && cd jobs-run
    "$P/share/parkit/jobs/ranks-sweep.sh" --help > /dev/null
    "$P/share/parkit/jobs/ranks-sweep.sh" --dry-run --cores 1 --splits 1x1 -- sumsq --range 1e4 \
        > sweep.log 2>&1 || { cat sweep.log; fail "ranks-sweep.sh failed"; }
    cat sweep.log
    grep -q "$P/bin/parkit" sweep.log || fail "ranks-sweep.sh did not find $P/bin/parkit" ;;
*) fail "unknown step" ;;
esac
