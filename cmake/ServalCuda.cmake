# SERVAL_CUDA = auto | on | off. auto enables CUDA when the toolkit (nvcc + cudart) is found.
# With CUDA on, execution streams own cudaStream_t's and pinned staging memory; cudart is linked
# statically so the addon still loads on machines without a GPU driver.
set(SERVAL_CUDA "auto" CACHE STRING "Build with CUDA support: auto, on or off")
set_property(CACHE SERVAL_CUDA PROPERTY STRINGS auto on off)

set(SERVAL_WITH_CUDA OFF)
if(NOT SERVAL_CUDA STREQUAL "off")
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(SERVAL_WITH_CUDA ON)
    message(STATUS "serval: CUDA ${CUDAToolkit_VERSION} found, building with CUDA streams")
  elseif(SERVAL_CUDA STREQUAL "on")
    message(FATAL_ERROR "serval: SERVAL_CUDA=on but no CUDA toolkit was found (set CUDAToolkit_ROOT)")
  else()
    message(STATUS "serval: no CUDA toolkit found, building CPU-only")
  endif()
endif()

function(serval_link_cuda target)
  if(SERVAL_WITH_CUDA)
    target_compile_definitions(${target} PUBLIC SERVAL_WITH_CUDA=1)
    target_link_libraries(${target} PUBLIC CUDA::cudart_static)
  endif()
endfunction()
