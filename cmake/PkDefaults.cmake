# Interface targets that carry the project's flags, so no target touches CMAKE_C_FLAGS.
add_library(parkit_warnings INTERFACE)
add_library(parkit::warnings ALIAS parkit_warnings)
# Tables (options, commands) name their leading fields by position and leave the rest zero,
# as getopt's struct option tables do: that is not a missing initialiser.
target_compile_options(parkit_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
  -Wno-missing-field-initializers
  $<$<BOOL:${PK_WERROR}>:-Werror>)

add_library(parkit_sanitize INTERFACE)
add_library(parkit::sanitize ALIAS parkit_sanitize)
if(PK_SANITIZE)
  target_compile_options(parkit_sanitize INTERFACE -fsanitize=${PK_SANITIZE} -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=all)
  target_link_options(parkit_sanitize INTERFACE -fsanitize=${PK_SANITIZE})
endif()

# Floating-point contraction is fixed explicitly: results must not change with the compiler's
# default, and the same binary must give the same bits on every thread and rank.
add_library(parkit_tuning INTERFACE)
target_compile_options(parkit_tuning INTERFACE -ffp-contract=off $<$<BOOL:${PK_NATIVE}>:-march=native>)
target_compile_definitions(parkit_tuning INTERFACE _POSIX_C_SOURCE=200809L)

function(pk_target_defaults target)
  target_link_libraries(${target} PRIVATE parkit_warnings parkit_sanitize parkit_tuning)
endfunction()
