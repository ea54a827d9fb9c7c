// The transport seam of the async model. Sessions (echo, chat) are templates over a Stream,
// as Boost.Beast's run_session<Stream> is: plain TCP is asio::ip::tcp::socket itself, and a
// TLS stream is one more type with the same few members, not a third copy of the sessions.
//
// The sessions wait for readiness and then read or write without waiting, so an idle
// connection holds no buffer (the read buffer is the server's one scratch area). A Stream
// therefore offers the readiness-style subset of tcp::socket, all on the loop thread:
//   async_wait(wait_read | wait_write, token)  completes when a non-blocking read_some /
//                                              write_some may make progress (a TLS stream also
//                                              completes a read wait when decrypted bytes wait)
//   read_some(buffers, ec), write_some(buffers, ec)
//                                              never block: would_block when they cannot progress
//   cancel(ec)                                 ends every pending wait with operation_aborted
//   shutdown(shutdown_send, ec)                ends the sending side after the last bytes
//   remote_endpoint(ec), non_blocking(bool, ec), set_option(no_delay, ec), get_executor()
#pragma once

#include <concepts>
#include <cstddef>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>

namespace simul::server {

template <class S>
concept session_stream = requires(S& s, asio::error_code& ec, asio::mutable_buffer in, asio::const_buffer out) {
  { s.read_some(in, ec) } -> std::convertible_to<std::size_t>;
  { s.write_some(out, ec) } -> std::convertible_to<std::size_t>;
  s.cancel(ec);
  s.shutdown(asio::socket_base::shutdown_send, ec);
  s.remote_endpoint(ec);
  s.non_blocking(true, ec);
  s.get_executor();
};

/// Plain TCP.
using tcp_stream = asio::ip::tcp::socket;
static_assert(session_stream<tcp_stream>);

}  // namespace simul::server
