# Run by ctest, not by cmake (a TEST_INCLUDE_FILES entry per test executable,
# see CMakeLists.txt): lists the GoogleTest suites of SCENERY_SUITE_EXE and
# makes each suite one ctest entry named FOLDER/Suite. One process per suite,
# not per test: LibTorch loads once per suite (~0.6 s of CPU and a lot of
# page faults each time) and suite fixtures (SetUpTestSuite) run once.
# COST (ctest starts costly entries first) comes from suite_seconds.txt, the
# measured seconds of each suite, so the long suites never run alone at the end.
set(exe "${SCENERY_SUITE_EXE}")
set(folder "${SCENERY_SUITE_FOLDER}")
if(NOT EXISTS "${exe}")
  add_test("${folder}/NOT_BUILT" "${exe}")
  return()
endif()
execute_process(COMMAND "${exe}" --gtest_list_tests OUTPUT_VARIABLE listing
                RESULT_VARIABLE status TIMEOUT 120)
if(NOT status EQUAL 0)
  add_test("${folder}/LISTING_FAILED" "${exe}" --gtest_list_tests)
  return()
endif()

set(costs "")
if(EXISTS "${SCENERY_SUITE_COSTS}")
  file(STRINGS "${SCENERY_SUITE_COSTS}" costs REGEX "^[^#]")
endif()

string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  # Suite lines start in column 0 and end with "." (typed and parameterised
  # suites may carry a "  # TypeParam = ..." comment); test lines are indented.
  if(NOT line MATCHES "^([^ #][^ ]*)\\.( |$)")
    continue()
  endif()
  set(suite "${CMAKE_MATCH_1}")
  set(name "${folder}/${suite}")
  set(cost 1)
  foreach(entry IN LISTS costs)
    if(entry MATCHES "^${name} ([0-9]+)$")
      set(cost "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  add_test("${name}" "${exe}" "--gtest_filter=${suite}.*")
  # One OpenMP thread per suite (LibTorch's and the Python references'): ctest runs one suite
  # per core, and two suites of two threads each on two cores run slower than one each.
  # A test that needs a thread count sets it itself.
  set_tests_properties("${name}" PROPERTIES LABELS "${folder}" SKIP_RETURN_CODE 77
                       COST "${cost}" TIMEOUT 1800 ENVIRONMENT "OMP_NUM_THREADS=1")
endforeach()
