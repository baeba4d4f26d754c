# Debian packages (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_package(rapidcheck REQUIRED)
find_package(tl-expected REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(date REQUIRED)
find_package(ZLIB REQUIRED)
# Debian's libzip CMake config references tools from another package: find it directly.
find_library(LIBZIP_LIBRARY zip REQUIRED)
find_path(LIBZIP_INCLUDE_DIR zip.h REQUIRED)
add_library(libzip_zip INTERFACE)
target_link_libraries(libzip_zip INTERFACE ${LIBZIP_LIBRARY})
target_include_directories(libzip_zip INTERFACE ${LIBZIP_INCLUDE_DIR})
add_library(libzip::zip ALIAS libzip_zip)
find_package(OpenSSL REQUIRED)
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
# The signal service: Boost.Beast/Asio (header-only in 1.74) and prometheus-cpp's core (exposition).
find_package(Boost 1.74 REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)

if(NOT TARGET rapidcheck_gtest)
  # Debian's rapidcheck ships the gtest integration as a header only.
  add_library(rapidcheck_gtest INTERFACE)
endif()

# npm packages unpacked by scripts/fetch_npm.sh into third_party/.
set(QUANT_THIRD_PARTY ${PROJECT_SOURCE_DIR}/third_party)
foreach(lib duckdb onnxruntime)
  if(NOT EXISTS ${QUANT_THIRD_PARTY}/${lib}/include)
    message(FATAL_ERROR "third_party/${lib} is missing: run scripts/setup.sh (or make setup)")
  endif()
endforeach()

add_library(third_party_duckdb SHARED IMPORTED GLOBAL)
set_target_properties(third_party_duckdb PROPERTIES
  IMPORTED_LOCATION ${QUANT_THIRD_PARTY}/duckdb/lib/libduckdb.so
  IMPORTED_NO_SONAME TRUE
  INTERFACE_INCLUDE_DIRECTORIES ${QUANT_THIRD_PARTY}/duckdb/include)
add_library(DuckDB::duckdb ALIAS third_party_duckdb)

add_library(third_party_onnxruntime SHARED IMPORTED GLOBAL)
set_target_properties(third_party_onnxruntime PROPERTIES
  IMPORTED_LOCATION ${QUANT_THIRD_PARTY}/onnxruntime/lib/libonnxruntime.so.1
  INTERFACE_INCLUDE_DIRECTORIES ${QUANT_THIRD_PARTY}/onnxruntime/include)
add_library(onnxruntime::onnxruntime ALIAS third_party_onnxruntime)

# The imported .so files live outside the build tree: keep them on the run path.
set(CMAKE_BUILD_RPATH ${QUANT_THIRD_PARTY}/duckdb/lib ${QUANT_THIRD_PARTY}/onnxruntime/lib)
set(CMAKE_INSTALL_RPATH ${QUANT_THIRD_PARTY}/duckdb/lib ${QUANT_THIRD_PARTY}/onnxruntime/lib)

# XGBoost 1.7.4 (libxgboost-dev). Debian's CMake config also imports a `runxgboost`
# executable that the package does not ship, so find_package(xgboost) fails: find the
# header and the library directly.
find_path(XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
find_library(XGBOOST_LIBRARY xgboost REQUIRED)
add_library(third_party_xgboost SHARED IMPORTED GLOBAL)
set_target_properties(third_party_xgboost PROPERTIES
  IMPORTED_LOCATION ${XGBOOST_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${XGBOOST_INCLUDE_DIR})
add_library(xgboost::xgboost ALIAS third_party_xgboost)

# QuickFIX 1.15 (libquickfix-dev): headers that compile only as C++14 (src/fix).
find_path(QUICKFIX_INCLUDE_DIR quickfix/Session.h REQUIRED)
find_library(QUICKFIX_LIBRARY quickfix REQUIRED)
