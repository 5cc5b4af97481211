# _posnative as a MicroPython user C module for CMake-based ports (rp2, esp32):
#   make USER_C_MODULES=<smartpos>/native/micropython/micropython.cmake
add_library(usermod_posnative INTERFACE)
target_sources(usermod_posnative INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/mod_posnative.c
    ${CMAKE_CURRENT_LIST_DIR}/../src/posnative.c
    ${CMAKE_CURRENT_LIST_DIR}/../src/pn_crypto.c
    ${CMAKE_CURRENT_LIST_DIR}/../src/pn_rsa.c
    ${CMAKE_CURRENT_LIST_DIR}/../src/pn_qr.c)
target_include_directories(usermod_posnative INTERFACE ${CMAKE_CURRENT_LIST_DIR}/../include)
target_link_libraries(usermod INTERFACE usermod_posnative)
