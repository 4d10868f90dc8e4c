#include "runtime/cms/cms.hpp"
