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

# Every test: the optimised build with warnings as errors; the suite again under AddressSanitizer
# + UBSan; the pthreads code (label io) under TSan; and test-minimal, a build without the
# optional parts (MPI, curl, SLEEF, images) running the unit, hostile, install and docs tests,
# the front door of every command and the main job (label parts).
# ASan leaves out what holds no code of ours to instrument (the multi-host cluster, the
# installed tree, the manual), what measures the machine rather than our memory use (label
# stress: advise's labelled workloads, the sleep calibration), and what repeats, at cost, a path
# that other tests run instrumented:
#   - the bit-identity checks (invariance.*) and test_factsum's 20,000-limb products: the same
#     kernels run instrumented in their canaries and unit tests (factsum_canary_threaded_root
#     runs FLINT's root product);
#   - the option tables' front door (label usage, cli.options, *_help_lists): test_opt runs the
#     parser instrumented; the repetition plan (cli.reps_*), a rule of counts;
#   - the driver-level MPI runs but the canaries, gmp_cap, a missing file and scale run's ranks
#     (the dist code runs instrumented in test_dist at 4 ranks; 1 to 3 ranks are left out), and
#     sumsq --range 1e9 on 4 ranks (24 s of one loop);
#   - the demo at its quick size (the tiny demo runs the same code), resize_invariance, the api
#     lessons' closed forms, scale run's modes and --target-ci, scale grain's CSV;
#   - fetch's scenarios on the event loop but its own paths (basic, errors, retry, sigint,
#     silent), which TSan leaves out too: the others check what both engines share, and run
#     instrumented on the threads engine.
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
