# Turns a file into a C++ header holding its bytes: cmake -DINPUT= -DOUTPUT= -DSYMBOL= -P
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
file(WRITE ${OUTPUT} "#pragma once\n#include <string_view>\nnamespace camstream::web {\n"
     "inline constexpr char ${SYMBOL}_bytes[] = {${bytes} 0};\n"
     "inline constexpr std::string_view ${SYMBOL}{${SYMBOL}_bytes, sizeof(${SYMBOL}_bytes) - 1};\n"
     "}  // namespace camstream::web\n")
