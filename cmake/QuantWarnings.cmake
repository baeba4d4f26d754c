# One interface target carries the project's warnings; every module links it.
add_library(quant_warnings INTERFACE)
add_library(quant::warnings ALIAS quant_warnings)
target_compile_options(quant_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wold-style-cast -Wno-sign-conversion)
if(QUANT_WERROR)
  target_compile_options(quant_warnings INTERFACE -Werror)
endif()

# quant_add_library(name SOURCES ... DEPS ...): one CMake library per module,
# target quant_<name> with alias quant::<name>.
function(quant_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(quant_${name} STATIC ${ARG_SOURCES})
  add_library(quant::${name} ALIAS quant_${name})
  target_include_directories(quant_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(quant_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE quant::warnings ${ARG_PRIVATE_DEPS})
endfunction()

# quant_add_test(name SOURCES ... DEPS ... [LABELS ...] [PREFIX p.]): a GoogleTest binary registered
# with CTest; PREFIX goes before each test name (ctest -R selects a module by it).
function(quant_add_test name)
  cmake_parse_arguments(ARG "" "PREFIX" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} quant::warnings GTest::gtest_main rapidcheck rapidcheck_gtest)
  target_compile_definitions(${name} PRIVATE
    QUANT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    QUANT_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_PREFIX}" PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# quant_add_bench(name SOURCES ... DEPS ...): a Google Benchmark binary (not a test).
function(quant_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT QUANT_BENCH)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} quant::warnings benchmark::benchmark benchmark::benchmark_main)
endfunction()

# quant_add_fuzzer(name SOURCES ... DEPS ...): a libFuzzer target, only with -DQUANT_FUZZ=ON (clang).
function(quant_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT QUANT_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
endfunction()
