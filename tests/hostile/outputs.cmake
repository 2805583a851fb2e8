# Outputs that never destroy, and signals that leave nothing behind (issue 18): see outputs.sh.
# A scenario that needs a command the build left out (cmake/PkFeatures.cmake) skips (77).
foreach(s IN ITEMS devices transform inputs stdout sig_transform sig_files sig_fetch sig_factsum
                  sig_report)
  add_test(NAME hostile.outputs_${s}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/outputs.sh $<TARGET_FILE:parkit>
                   "$<$<TARGET_EXISTS:httpd>:$<TARGET_FILE:httpd>>"
                   "${PK_SANITIZE}" ${s})
  set_tests_properties(hostile.outputs_${s} PROPERTIES LABELS hostile TIMEOUT 120 SKIP_RETURN_CODE 77)
endforeach()
