#include "runtime/mime/mime.hpp"
