# The installed parkit: bin/parkit, one libparkit (static and shared, made of the kernels,
# kernels/dist and io objects), its public headers, parkit.pc, the CMake package parkit::parkit,
# and the job scripts under share/parkit/jobs. `cmake --install build/release --prefix P`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_pk_objs $<TARGET_OBJECTS:parkit_kernels_obj> $<TARGET_OBJECTS:parkit_dist_obj>
             $<TARGET_OBJECTS:parkit_io_obj>)
set(_pk_inc ${PROJECT_SOURCE_DIR}/kernels/include ${PROJECT_SOURCE_DIR}/kernels/dist/include
            ${PROJECT_SOURCE_DIR}/io/include ${PK_FEATURES_INCLUDE})
# 0.x releases promise nothing between minors: the SONAME carries major.minor until 1.0.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(PK_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(PK_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

add_library(parkit_shared SHARED ${_pk_objs})
add_library(parkit_static STATIC ${_pk_objs})
set_target_properties(parkit_shared PROPERTIES OUTPUT_NAME parkit EXPORT_NAME parkit
                      VERSION ${PROJECT_VERSION} SOVERSION ${PK_SOVERSION})
set_target_properties(parkit_static PROPERTIES OUTPUT_NAME parkit EXPORT_NAME parkit_static)
foreach(t parkit_shared parkit_static)
  foreach(d IN LISTS _pk_inc)
    target_include_directories(${t} PUBLIC $<BUILD_INTERFACE:${d}>)
  endforeach()
  target_include_directories(${t} PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # gmp.h is in the public headers (factsum, fib); the rest is the library's own business
  target_link_libraries(${t} PUBLIC PkgConfig::GMP Threads::Threads
                        PRIVATE OpenMP::OpenMP_C GSL::gsl PkgConfig::UV ${PK_FEATURE_LIBS} m)
  if(PK_HAVE_MPI)
    target_link_libraries(${t} PRIVATE MPI::MPI_C)
  endif()
endforeach()
if(PK_SANITIZE)
  target_link_options(parkit_shared PRIVATE -fsanitize=${PK_SANITIZE})
endif()
add_library(parkit::parkit ALIAS parkit_shared)
add_library(parkit::parkit_static ALIAS parkit_static)

install(TARGETS parkit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS parkit_shared parkit_static EXPORT parkitTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# dist.h is the MPI API without mpi.h: only kernels/dist/dist.c includes mpi.h. The headers of
# the parts left out are not installed; parkit/features.h says which are in.
set(_pk_hdr_off)
foreach(part_header IN ITEMS "CURL;http.h" "SLEEF;transform.h" "IMAGES;image.h")
  list(GET part_header 0 part)
  list(GET part_header 1 header)
  if(NOT PK_HAVE_${part})
    list(APPEND _pk_hdr_off PATTERN ${header} EXCLUDE)
  endif()
endforeach()
foreach(d IN LISTS _pk_inc)
  install(DIRECTORY ${d}/parkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h"
          ${_pk_hdr_off})
endforeach()

set(_pk_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/parkit)
install(EXPORT parkitTargets NAMESPACE parkit:: DESTINATION ${_pk_cmakedir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/parkitConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/parkitConfig.cmake INSTALL_DESTINATION ${_pk_cmakedir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/parkitConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/parkitConfig.cmake ${PROJECT_BINARY_DIR}/parkitConfigVersion.cmake
        DESTINATION ${_pk_cmakedir})

# pkg-config: gmp is public (gmp.h in the headers); the rest only for static linking
set(PK_PC_LIBS_PRIVATE "${OpenMP_C_FLAGS} -pthread -lm")
if(PK_HAVE_MPI)
  foreach(l IN LISTS MPI_C_LIBRARIES)
    string(APPEND PK_PC_LIBS_PRIVATE " ${l}")
  endforeach()
endif()
if(PK_HAVE_FLINT) # no pkg-config file of its own in Debian
  string(APPEND PK_PC_LIBS_PRIVATE " ${FLINT_LIBRARY}")
endif()
# relocatable: the prefix is found from the .pc file's own place, so --prefix P at install
# time (not CMAKE_INSTALL_PREFIX at configure time) is what the file describes
file(RELATIVE_PATH PK_PC_UP /pk/${CMAKE_INSTALL_LIBDIR}/pkgconfig /pk)
string(REGEX REPLACE "/$" "" PK_PC_UP "${PK_PC_UP}")
set(PK_PC_REQUIRES_PRIVATE "gsl libuv")
# libcurl is loaded at run time (io/curl_lazy.c), not linked
foreach(part_pc IN ITEMS "SLEEF;sleef" "CURL;zlib" "IMAGES;libpng libjpeg")
  list(GET part_pc 0 part)
  list(GET part_pc 1 pc)
  if(PK_HAVE_${part})
    string(APPEND PK_PC_REQUIRES_PRIVATE " ${pc}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/parkit.pc.in ${PROJECT_BINARY_DIR}/parkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/parkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/jobs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/parkit/jobs
        USE_SOURCE_PERMISSIONS PATTERN __pycache__ EXCLUDE)
