// The async model's chat sessions.
#include "server/async_chat.hpp"

#include "server/async_server.hpp"

namespace simul::server {

asio::awaitable<void> async_server::chat_session(tcp::socket socket) {
  asio::error_code ec;
  socket.close(ec);
  co_return;
}

}  // namespace simul::server
