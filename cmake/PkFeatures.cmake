# The optional parts of parkit. Each PK_WITH_<F> is AUTO (on when found), ON (required: configure
# fails without it) or OFF (not looked for). A feature that is off takes its commands out of the
# program: parkit lists them as not in this build and refuses them with exit 2, never a link
# error. GMP, GSL, jansson, OpenMP and threads are always required. The result is
# PK_HAVE_<F> (ON/OFF), PK_WHY_<F> (one line for the configure summary and `parkit --version`)
# and the generated header parkit/features.h (PK_FEATURE_<F> 0 or 1), installed with the library.
include_guard(GLOBAL)

# pk_feature_option(F DOC): the cache entry PK_WITH_F.
macro(pk_feature_option f doc)
  set(PK_WITH_${f} AUTO CACHE STRING "${doc}: AUTO (when found), ON (required) or OFF")
  set_property(CACHE PK_WITH_${f} PROPERTY STRINGS AUTO ON OFF)
  if(NOT PK_WITH_${f} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "PK_WITH_${f} must be AUTO, ON or OFF, not '${PK_WITH_${f}}'")
  endif()
  if(PK_WITH_${f} STREQUAL "ON")
    set(_pk_req REQUIRED)
  else()
    set(_pk_req)
  endif()
endmacro()

# pk_feature_result(F FOUND FOUND_TEXT WHAT PACKAGE): PK_HAVE_F and PK_WHY_F from what was found.
macro(pk_feature_result f found found_text what package)
  if(PK_WITH_${f} STREQUAL "OFF")
    set(PK_HAVE_${f} OFF)
    set(PK_WHY_${f} "off (PK_WITH_${f}=OFF)")
  elseif(${found})
    set(PK_HAVE_${f} ON)
    set(PK_WHY_${f} "on (${found_text})")
  else()
    set(PK_HAVE_${f} OFF)
    set(PK_WHY_${f} "off (${what} not found: install ${package}, or add where it is to CMAKE_PREFIX_PATH)")
  endif()
  if(PK_HAVE_${f})
    set(PK_FEATURE_${f} 1)
  else()
    set(PK_FEATURE_${f} 0)
  endif()
endmacro()

pk_feature_option(MPI "Build with MPI (ranks)")
if(NOT PK_WITH_MPI STREQUAL "OFF")
  find_package(MPI ${_pk_req} COMPONENTS C)
endif()
pk_feature_result(MPI MPI_C_FOUND "MPI ${MPI_C_VERSION}" "MPI" "libopenmpi-dev")

# libcurl: real HTTP for `parkit fetch`; zlib for the saved body's CRC-32 read-back
pk_feature_option(CURL "Build parkit fetch (libcurl)")
if(NOT PK_WITH_CURL STREQUAL "OFF")
  find_package(CURL ${_pk_req})
  find_package(ZLIB ${_pk_req})
endif()
set(_pk_found_curl OFF)
if(CURL_FOUND AND ZLIB_FOUND)
  set(_pk_found_curl ON)
endif()
pk_feature_result(CURL _pk_found_curl
                  "libcurl ${CURL_VERSION_STRING}, zlib ${ZLIB_VERSION_STRING}" "libcurl and zlib" "libcurl4-openssl-dev zlib1g-dev")

# SLEEF: vectorised transcendental functions with full-range argument reduction (transform)
pk_feature_option(SLEEF "Build parkit transform (SLEEF)")
if(NOT PK_WITH_SLEEF STREQUAL "OFF")
  pkg_check_modules(SLEEF ${_pk_req} IMPORTED_TARGET sleef)
endif()
pk_feature_result(SLEEF SLEEF_FOUND "SLEEF ${SLEEF_VERSION}" "SLEEF" "libsleef-dev")

# libpng and libjpeg-turbo: images (io/image.c, parkit resize)
pk_feature_option(IMAGES "Build parkit resize (libpng, libjpeg-turbo)")
if(NOT PK_WITH_IMAGES STREQUAL "OFF")
  find_package(PNG ${_pk_req})
  find_package(JPEG ${_pk_req})
endif()
set(_pk_found_images OFF)
if(PNG_FOUND AND JPEG_FOUND)
  set(_pk_found_images ON)
endif()
pk_feature_result(IMAGES _pk_found_images
                  "libpng ${PNG_VERSION_STRING}, libjpeg ${JPEG_VERSION}" "libpng and libjpeg" "libpng-dev libjpeg62-turbo-dev")

# hwloc: the machine's topology in every record (physical cores against hardware threads, NUMA
# nodes, the CPU model); without it records say only the logical CPUs
pk_feature_option(HWLOC "Record the machine topology (hwloc)")
if(NOT PK_WITH_HWLOC STREQUAL "OFF")
  pkg_check_modules(HWLOC ${_pk_req} IMPORTED_TARGET hwloc)
endif()
pk_feature_result(HWLOC HWLOC_FOUND "hwloc ${HWLOC_VERSION}" "hwloc" "libhwloc-dev")

# the commands each feature brings (the rest of the program needs none of them), and the
# libraries the features on add to libparkit
set(PK_COMMANDS_OFF)
set(PK_FEATURE_LIBS)
if(PK_HAVE_CURL)
  list(APPEND PK_FEATURE_LIBS CURL::libcurl ZLIB::ZLIB)
else()
  list(APPEND PK_COMMANDS_OFF fetch)
endif()
if(PK_HAVE_SLEEF)
  list(APPEND PK_FEATURE_LIBS PkgConfig::SLEEF)
else()
  list(APPEND PK_COMMANDS_OFF transform)
endif()
if(PK_HAVE_IMAGES)
  list(APPEND PK_FEATURE_LIBS PNG::PNG JPEG::JPEG)
else()
  list(APPEND PK_COMMANDS_OFF resize)
endif()

message(STATUS "parkit features:")
message(STATUS "  MPI     ${PK_WHY_MPI}")
message(STATUS "  curl    ${PK_WHY_CURL}")
message(STATUS "  SLEEF   ${PK_WHY_SLEEF}")
message(STATUS "  images  ${PK_WHY_IMAGES}")
message(STATUS "  hwloc   ${PK_WHY_HWLOC}")
if(PK_COMMANDS_OFF)
  list(JOIN PK_COMMANDS_OFF ", " _pk_off)
  message(STATUS "  not in this build: ${_pk_off} (parkit refuses them with exit 2)")
endif()
if(NOT PK_HAVE_MPI)
  message(STATUS "  without MPI every command runs as one process (started as one of N ranks, it refuses)")
endif()

set(PK_FEATURES_INCLUDE ${PROJECT_BINARY_DIR}/features)
configure_file(${CMAKE_CURRENT_LIST_DIR}/features.h.in ${PK_FEATURES_INCLUDE}/parkit/features.h @ONLY)
