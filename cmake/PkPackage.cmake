# The Debian package: `make package` (or `cmake --build build/release --target package`) makes
# parkit_<version>_<arch>.deb from what `cmake --install` puts in a prefix (program, libparkit,
# headers, parkit.pc, the CMake package, job scripts, manual, completions), under /usr.
# Its dependencies are the Debian 12 runtime packages of the parts this build has
# (cmake/PkFeatures.cmake); tests/install/package.sh checks that each shared library the
# program and libparkit need comes from one of them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME parkit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "parkit developers")
set(CPACK_PACKAGE_CONTACT "parkit developers <parkit@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "parallel computing suite: OpenMP and MPI kernels, pthreads I/O drivers, scaling experiments")
set(CPACK_PACKAGE_DESCRIPTION
    "parkit computes sums of squares, exact factorial sums and chunked transforms on OpenMP \
threads and MPI ranks, runs I/O drivers (simulated API calls, CSV reports, HTTP fetches, \
thumbnails) on a pthreads pool and pipeline, and measures strong and weak scaling with \
verified results and provenance. Includes libparkit, its headers, parkit.pc and the CMake \
package.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # parkit_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(_pk_deb_depends libc6 libgomp1 libgmp10 libgsl27 libjansson4 libuv1)
foreach(part_pkgs IN ITEMS "MPI;libopenmpi3" "CURL;libcurl4 zlib1g" "SLEEF;libsleef3"
                           "IMAGES;libpng16-16 libjpeg62-turbo" "HWLOC;libhwloc15"
                           "FLINT;libflint17")
  list(GET part_pkgs 0 part)
  list(GET part_pkgs 1 pkgs)
  if(PK_HAVE_${part})
    string(REPLACE " " ";" pkgs "${pkgs}")
    list(APPEND _pk_deb_depends ${pkgs})
  endif()
endforeach()
list(JOIN _pk_deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
# report draws plots with gnuplot when it is there; mpirun is openmpi-bin's; the job scripts
# and the docs checks are Python
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gnuplot-nox")
if(PK_HAVE_MPI)
  string(APPEND CPACK_DEBIAN_PACKAGE_RECOMMENDS ", openmpi-bin")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3, libgmp-dev, libgsl-dev, pkg-config")
# libparkit.so.0.1 lands in /usr/lib: the ldconfig trigger refreshes the loader's cache
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/deb/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
