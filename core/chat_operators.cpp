// chat_hub server operators: OPER (accounts from hub_config, passwords as crypt(3) hashes) and KILL.
// Operators may also KICK in any room (chat_channels.cpp) and send WALLOPS (chat_messages.cpp).
#include <crypt.h>

#include <memory>
#include <string>

#include "core/chat_context.hpp"
#include "core/irc_mask.hpp"

namespace simul::core {
namespace {

// True when crypt(password, hash) reproduces hash. crypt_r is reentrant; its scratch data is large.
bool password_matches(std::string_view password, const std::string& hash) {
  if (hash.empty() || hash.front() == '*' || hash.front() == '!') return false;  // locked entries
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;  // unsupported or malformed hash
  const std::string_view got(out);
  if (got.size() != hash.size()) return false;
  unsigned diff = 0;  // compare every byte: no early exit on the first difference
  for (std::size_t i = 0; i < got.size(); ++i) diff |= static_cast<unsigned char>(got[i] ^ hash[i]);
  return diff == 0;
}

bool is_supported_hash(const std::string& hash) {
  if (hash.size() < 3 || hash.front() != '$') return false;
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r("probe", hash.c_str(), data.get());
  return out != nullptr && out[0] == '$';
}

}  // namespace

std::string parse_oper_accounts(std::string_view text, std::vector<oper_account>& out) {
  std::vector<oper_account> found;
  std::string error;
  for_each_in_list(text, [&](std::string_view entry) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < entry.size()) {
      if (entry[i] == ' ' || entry[i] == '\t' || entry[i] == '\n') {
        ++i;
        continue;
      }
      auto end = entry.find_first_of(" \t\n", i);
      if (end == std::string_view::npos) end = entry.size();
      words.emplace_back(entry.substr(i, end - i));
      i = end;
    }
    if (!error.empty() || words.empty()) return;
    if (words.size() < 2 || words.size() > 3) {
      error = "each operator must be \"name hash [host_mask]\" (got " + std::to_string(words.size()) + " words)";
    } else if (!is_supported_hash(words[1])) {
      error = "operator " + words[0] + ": the password must be a crypt(3) hash such as $6$... or $y$... "
              "(make one with `openssl passwd -6`), not a password";
    } else {
      found.push_back({words[0], words[1], words.size() == 3 ? words[2] : std::string("*")});
    }
  });
  if (error.empty()) out.insert(out.end(), found.begin(), found.end());
  return error;
}

void chat_hub::context::on_oper(const irc_message& m) {
  const oper_account* account = nullptr;
  for (const auto& a : cfg().operators) {
    if (a.name == m.param(0)) account = &a;
  }
  if (account == nullptr) return reply(num::err_passwdmismatch);  // do not tell which names exist
  if (!mask_match(account->host_mask.empty() ? "*" : account->host_mask, c_->prefix)) {
    return reply(num::err_nooperhost);
  }
  if (!password_matches(m.param(1), account->password_hash)) return reply(num::err_passwdmismatch);
  if (!c_->oper) {
    st_.set_oper(*c_, true);
    send_self(user_line("MODE", {c_->nick, "+o"}));
  }
  reply(num::rpl_youreoper);
}

void chat_hub::context::on_kill(const irc_message& m) {
  if (!c_->oper) return reply(num::err_noprivileges);
  chat_client* victim = st_.find_user(m.param(0));
  if (victim == nullptr) return reply(num::err_nosuchnick, {clip(m.param(0))});
  const std::string reason(clip(m.param(1), kick_len));
  const std::string killed = "Killed (" + c_->nick + " (" + reason + "))";
  out_.deliveries.push_back({make_shared_line(user_line("KILL", {victim->nick, reason})), {victim->id}});
  kill_client(*victim, killed, "Closing Link: " + victim->host + " (" + killed + ")");
}

}  // namespace simul::core
