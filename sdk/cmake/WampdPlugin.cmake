# wampd_add_plugin(NAME SOURCES src... MANIFEST file.yml [ROUTING file.yml] [NO_INSTALL])
#
# Builds NAME.so, a wampd plugin, and puts its manifest beside it as NAME.yml, where the
# plugin host looks for it. Used in the wampd tree and, through find_package(wampd), by
# plugins built outside it.
#
# Constraint: plugins are built with hidden visibility, so only the symbols WAMPD_PLUGIN
# exports are seen by the host and template instantiations stay private to the library.
function(wampd_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "MANIFEST;ROUTING;OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES OR NOT ARG_MANIFEST)
    message(FATAL_ERROR "wampd_add_plugin(${name}): SOURCES and MANIFEST are required")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    if(DEFINED WAMPD_BUILD_PLUGIN_DIR)
      set(ARG_OUTPUT_DIRECTORY "${WAMPD_BUILD_PLUGIN_DIR}")
    else()
      set(ARG_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    endif()
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE wampd::sdk)
  # GCC marks some standard-library statics STB_GNU_UNIQUE, which makes a library impossible
  # to dlclose; a plugin must be unloadable for hot reload to replace it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${name} PRIVATE -fno-gnu-unique)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  get_filename_component(manifest "${ARG_MANIFEST}" ABSOLUTE)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E copy_if_different "${manifest}" "${ARG_OUTPUT_DIRECTORY}/${name}.yml"
    VERBATIM)
  # In the wampd tree: relative install dirs. Outside it: the installed wampd's own plugin
  # and routing directories (from find_package), which its default config already scans.
  # In the wampd tree the routes are component `routing`: the Debian package installs them
  # under /etc/wampd/routing instead (config/package).
  if(DEFINED WAMPD_INSTALL_PLUGIN_DIR)
    set(plugin_dest "${WAMPD_INSTALL_PLUGIN_DIR}")
    set(routing_dest "${WAMPD_INSTALL_ROUTING_DIR}")
    set(routing_component COMPONENT routing)
  else()
    set(plugin_dest "${WAMPD_PLUGIN_DIR}")
    set(routing_dest "${WAMPD_ROUTING_DIR}")
    set(routing_component)
  endif()
  if(NOT ARG_NO_INSTALL AND plugin_dest)
    install(TARGETS ${name} LIBRARY DESTINATION "${plugin_dest}")
    install(FILES "${manifest}" DESTINATION "${plugin_dest}" RENAME "${name}.yml")
    if(ARG_ROUTING AND routing_dest)
      install(FILES "${ARG_ROUTING}" DESTINATION "${routing_dest}" RENAME "${name}.yml"
        ${routing_component})
    endif()
  endif()
endfunction()
