# The two commands (see README.md): `make demo` and `make test`. Both install missing Debian
# packages first. CMake presets do the real work; this file only sequences them.
.PHONY: all deps build demo package test test-release test-minimal test-asan test-tsan clean

all: build

deps:
	@cmake/deps.sh

build: deps
	cmake --preset release
	cmake --build --preset release

demo: build
	./build/release/drivers/parkit demo

# the Debian package, build/release/parkit_<version>_<arch>.deb (cmake/PkPackage.cmake)
package: build
	cmake --build --preset release --target package

# Every test: the optimised build with warnings as errors, the suite again under AddressSanitizer
# + UBSan (less the multi-host cluster, the installed tree and the manual, which hold no code of
# ours to instrument, the bit-identity checks (invariance.*: the same kernels run instrumented in
# their canaries and unit tests), and the sleep calibration, a timing check that ASan's late
# wake-ups can skew, and advise's labelled workloads, label stress, which measure the machine
# rather than our memory use), and the pthreads code (label io) under TSan. test-minimal builds
# without the optional parts (MPI, curl, SLEEF, images) and runs the unit, hostile, install and
# docs tests there, the front door of every command and the main job (label parts); ASan also
# leaves out the demo at its quick size (the tiny demo runs the same code), the usage errors of
# tests/ (label usage: the option tables, which test_opt covers instrumented), the 2- and 3-rank
# runs of test_dist (1 and 4 ranks stay), sumsq --range 1e9 on 4 ranks (24 s of one loop), the
# option tables' front door (cli.options: test_opt runs the parser instrumented) and the
# repetition plan (cli.reps_*: a rule of counts, not of memory). ASan and TSan run fetch's
# scenarios on the event loop for its own paths only (basic, errors, retry, sigint, silent): the
# others check what both engines share, and run instrumented on the threads engine.
test: deps test-release test-minimal test-asan test-tsan

test-release:
	cmake --preset ci
	cmake --build --preset ci
	ctest --preset ci

test-minimal:
	cmake --preset minimal
	cmake --build --preset minimal
	ctest --preset minimal

test-asan:
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan

test-tsan:
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --preset tsan

clean:
	rm -rf build
