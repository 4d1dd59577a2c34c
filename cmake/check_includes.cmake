# Fails when a module includes a header it may not (docs/architecture.md, "Modules"):
#   cmake -DROOT=<source dir> -P cmake/check_includes.cmake
# Each module is src/<module>/ (its sources and private headers) plus include/camstream/<module>/
# (its public headers). In every one of their files, an #include "camstream/<other>/..." must
# name a module below it (the arrows in `allowed` below), an #include "<other>/..." (another
# module's private header) is never allowed, a public header includes no private header, and
# only src/capture/libcamera/ includes libcamera. The tests (tests/unit) may reach private
# headers and are not checked.
cmake_minimum_required(VERSION 3.25)
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -P check_includes.cmake")
endif()

set(modules core capture encode stream access web http app)
# The modules each one may include, besides itself.
set(allowed_core "")
set(allowed_capture core)
set(allowed_encode core)
set(allowed_stream core capture encode)
set(allowed_access core)
set(allowed_web "")
set(allowed_http core capture encode stream access web)
set(allowed_app core capture encode stream access web http)
set(allowed_main app)

set(problems "")

# check_file(FILE MODULE PUBLIC): appends to `problems` what FILE includes against the rules.
function(check_file file module public)
  file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  file(RELATIVE_PATH shown ${ROOT} ${file})
  set(found "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(header ${CMAKE_MATCH_1})
      if(header MATCHES "^camstream/([^/]+)/")
        set(target ${CMAKE_MATCH_1})
        if(NOT target STREQUAL module AND NOT target IN_LIST allowed_${module})
          list(APPEND found "${shown}: ${module} may not include ${header} (module ${target})")
        endif()
      elseif(header MATCHES "^camstream/")
        list(APPEND found "${shown}: ${header} is in no module's folder (include/camstream/<module>/)")
      elseif(header MATCHES "^([^/]+)/" AND CMAKE_MATCH_1 IN_LIST modules)
        list(APPEND found "${shown}: ${header} is a private header of module ${CMAKE_MATCH_1}")
      elseif(public)
        list(APPEND found "${shown}: a public header includes the private header ${header}")
      endif()
    elseif(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<libcamera/")
      if(NOT file MATCHES "/src/capture/libcamera/")
        list(APPEND found "${shown}: only src/capture/libcamera/ includes libcamera")
      endif()
    endif()
  endforeach()
  set(problems ${problems} ${found} PARENT_SCOPE)
endfunction()

foreach(module IN LISTS modules)
  file(GLOB_RECURSE private_files ${ROOT}/src/${module}/*.cpp ${ROOT}/src/${module}/*.hpp)
  foreach(file IN LISTS private_files)
    check_file(${file} ${module} FALSE)
  endforeach()
  file(GLOB_RECURSE public_files ${ROOT}/include/camstream/${module}/*.hpp)
  foreach(file IN LISTS public_files)
    check_file(${file} ${module} TRUE)
  endforeach()
endforeach()
if(EXISTS ${ROOT}/src/main.cpp)
  check_file(${ROOT}/src/main.cpp main FALSE)
endif()

# A header straight under include/camstream/ belongs to no module.
file(GLOB loose ${ROOT}/include/camstream/*.hpp)
foreach(file IN LISTS loose)
  file(RELATIVE_PATH shown ${ROOT} ${file})
  list(APPEND problems "${shown}: not in a module's folder (include/camstream/<module>/)")
endforeach()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "includes against the module arrows (docs/architecture.md):\n  ${text}")
endif()
list(LENGTH modules count)
message(STATUS "includes follow the module arrows (${count} modules)")
