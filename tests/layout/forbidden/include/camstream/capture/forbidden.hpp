// A fixture for the test layout.check_fails: a public header including a private one.
#pragma once

#include "font.hpp"
