# expertflow_embed(TARGET <target> NAMESPACE <ns> HEADER <header> BASE <dir> FILES <files...>)
# Generates a source file that holds each file's bytes and a lookup table
#   std::span<const EmbeddedFile> <ns>::EmbeddedFiles();
# declared in <header> (which defines EmbeddedFile {name, data} in <ns>).
# so data (workflow definitions, reference data) ships inside the binary.
set(EXPERTFLOW_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)

function(expertflow_embed)
  cmake_parse_arguments(E "" "TARGET;NAMESPACE;BASE;HEADER" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_TARGET}_embedded.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${E_NAMESPACE} -DBASE=${E_BASE} -DHEADER=${E_HEADER}
            "-DFILES=${E_FILES}" -P ${EXPERTFLOW_EMBED_SCRIPT}
    DEPENDS ${E_FILES} ${EXPERTFLOW_EMBED_SCRIPT}
    COMMENT "Embedding data files into ${E_TARGET}"
    VERBATIM)
  target_sources(${E_TARGET} PRIVATE ${out})
endfunction()
