// A fixture for the test layout.check_fails: every include below goes against the arrows.
#include "camstream/stream/frame_hub.hpp"
#include "http/route.hpp"
#include "camstream/frame.hpp"
#include <libcamera/camera.h>
