#include "trace/trace-hw_misc_lumen.h"
