// Compiles standalone Asio once for this component (ASIO_SEPARATE_COMPILATION).
#include <asio/impl/src.hpp>
