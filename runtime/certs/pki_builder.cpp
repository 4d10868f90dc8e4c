#include "runtime/certs/pki_builder.hpp"
