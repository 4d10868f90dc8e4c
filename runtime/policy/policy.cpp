#include "runtime/policy/policy.hpp"
