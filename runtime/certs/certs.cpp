#include "runtime/certs/certs.hpp"
