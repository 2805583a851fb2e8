# Man pages and shell completions, generated after parkit is built from its declared option
# tables (`parkit CMD --options-json`) and the hand-written descriptions in docs/man/*.txt, by
# docs/gen_docs.py; installed under share/man/man1, share/bash-completion/completions and
# share/zsh/site-functions. Only this file installs them: the program and libraries are installed
# elsewhere.
include(GNUInstallDirs)

set(_pk_docs_default ON)
if(CMAKE_CROSSCOMPILING)
  set(_pk_docs_default OFF) # the generator runs the parkit just built
endif()
option(PK_DOCS "Generate and install the man pages and shell completions (needs python3)"
       ${_pk_docs_default})
if(PK_DOCS)
  find_package(Python3 COMPONENTS Interpreter)
  if(NOT Python3_Interpreter_FOUND)
    message(STATUS "parkit: man pages and completions off (no python3)")
    set(PK_DOCS OFF)
  endif()
endif()

if(PK_DOCS)
  set(PK_DOCS_DIR ${PROJECT_BINARY_DIR}/docs)
  # One page per description: parkit.txt -> parkit.1, CMD.txt -> parkit-CMD.1 (scale-grain.txt
  # -> parkit-scale-grain.1). The generator refuses a command without a description and a
  # description without a command (one not in this build aside), so this list is the pages it
  # writes.
  file(GLOB _pk_doc_texts CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.txt)
  set(PK_MAN_PAGES)
  foreach(t IN LISTS _pk_doc_texts)
    get_filename_component(n ${t} NAME_WE)
    if(n IN_LIST PK_COMMANDS_OFF) # a command this build leaves out has no page
      continue()
    elseif(n STREQUAL "parkit")
      list(APPEND PK_MAN_PAGES ${PK_DOCS_DIR}/parkit.1)
    else()
      list(APPEND PK_MAN_PAGES ${PK_DOCS_DIR}/parkit-${n}.1)
    endif()
  endforeach()
  set(PK_COMPLETIONS ${PK_DOCS_DIR}/parkit.bash ${PK_DOCS_DIR}/_parkit)
  # Sanitizer builds: leak reports of a run that only prints a table are not the generator's
  # business (the tests check parkit under the sanitizers).
  add_custom_command(
    OUTPUT ${PK_MAN_PAGES} ${PK_COMPLETIONS}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 OMP_NUM_THREADS=1
            OMP_WAIT_POLICY=passive
            ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/docs/gen_docs.py $<TARGET_FILE:parkit>
            ${PROJECT_SOURCE_DIR}/docs/man ${PK_DOCS_DIR} ${PROJECT_VERSION}
    DEPENDS parkit ${PROJECT_SOURCE_DIR}/docs/gen_docs.py ${_pk_doc_texts}
    COMMENT "Generating the man pages and shell completions"
    VERBATIM)
  add_custom_target(parkit_docs ALL DEPENDS ${PK_MAN_PAGES} ${PK_COMPLETIONS})

  install(FILES ${PK_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT docs)
  install(FILES ${PK_DOCS_DIR}/parkit.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME parkit
          COMPONENT docs)
  install(FILES ${PK_DOCS_DIR}/_parkit DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions
          COMPONENT docs)
endif()
