# Provide the targets `llama` and `ggml` from the pinned llama.cpp.
#
# A system llama.cpp of the pinned build is used when CMake finds one
# (find_package(llama) with LLAMA_BUILD_COMMIT matching); otherwise the source that
# scripts/fetch-llama.sh put in third_party/llama.cpp is built as static libraries.

set(RDT_LLAMA_COMMIT "de3ff815ea7d559ee917f063901b8986f038abc6")
set(RDT_LLAMA_SOURCE "${CMAKE_SOURCE_DIR}/third_party/llama.cpp" CACHE PATH
    "llama.cpp source tree at commit ${RDT_LLAMA_COMMIT} (scripts/fetch-llama.sh fetches it)")

find_package(llama QUIET CONFIG)
if(llama_FOUND AND DEFINED LLAMA_BUILD_COMMIT AND LLAMA_BUILD_COMMIT STREQUAL "de3ff81")
    message(STATUS "Using system llama.cpp (commit ${LLAMA_BUILD_COMMIT})")
    return()
endif()

if(NOT EXISTS "${RDT_LLAMA_SOURCE}/include/llama.h")
    message(FATAL_ERROR
        "llama.cpp source not found in ${RDT_LLAMA_SOURCE}. "
        "Run scripts/setup.sh (or scripts/fetch-llama.sh) first, "
        "or set -DRDT_LLAMA_SOURCE=<llama.cpp checkout at ${RDT_LLAMA_COMMIT}>.")
endif()

# Static libraries, only the core: no llama.cpp tools, tests, server or network.
set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TOOLS OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_SERVER OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_APP OFF CACHE BOOL "" FORCE)
set(LLAMA_OPENSSL OFF CACHE BOOL "" FORCE)
set(LLAMA_ALL_WARNINGS OFF CACHE BOOL "" FORCE)
set(GGML_NATIVE ${RDT_NATIVE} CACHE BOOL "" FORCE)
set(GGML_CUDA ${RDT_CUDA} CACHE BOOL "" FORCE)
set(GGML_OPENMP ON CACHE BOOL "" FORCE)

add_subdirectory("${RDT_LLAMA_SOURCE}" "${CMAKE_BINARY_DIR}/llama.cpp" EXCLUDE_FROM_ALL SYSTEM)

# ggml's AMX kernels of the pinned commit segfault in ggml_backend_amx_mul_mat
# when a quantized GGUF of stories260K (Q4_0/Q5_x matrices with rows of 64) is
# loaded from a file on an AMX CPU (Sapphire Rapids); llama.cpp issue 20824
# reports the same crash upstream, unresolved. -march=native turns them on, so
# they are compiled out again unless RDT_AMX asks for them. The test
# QuantizeCli.WritesRunnableGguf decodes such a file and catches the crash.
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag("-mno-amx-int8" RDT_COMPILER_HAS_NO_AMX)
if(RDT_NATIVE AND NOT RDT_AMX AND RDT_COMPILER_HAS_NO_AMX AND TARGET ggml-cpu)
    target_compile_options(ggml-cpu PRIVATE -mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
endif()
