// chat_protocol: IRC line parsing, payload format, delivery checking.
#include "client/chat_protocol.hpp"

#include <charconv>

namespace simul::load {

std::optional<irc_line> parse_irc_line(std::string_view line) {
  irc_line out;
  auto skip_spaces = [&] {
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  };
  auto word = [&] {
    auto sp = line.find(' ');
    auto w = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp);
    return w;
  };
  skip_spaces();
  if (!line.empty() && line.front() == ':') {
    line.remove_prefix(1);
    out.prefix = word();
    skip_spaces();
  }
  out.command = word();
  if (out.command.empty()) return std::nullopt;
  for (;;) {
    skip_spaces();
    if (line.empty() || out.param_count == out.params.size()) break;
    if (line.front() == ':') {
      out.params[out.param_count++] = line.substr(1);
      break;
    }
    out.params[out.param_count++] = word();
  }
  return out;
}

std::string_view nick_of(std::string_view prefix) { return prefix.substr(0, prefix.find('!')); }

std::string format_payload(std::string_view tag, std::uint32_t sender, std::uint64_t seq,
                           std::uint64_t sent_ns, std::size_t size) {
  std::string s;
  s.reserve(size);
  s.append(tag).append(" ").append(std::to_string(sender)).append(" ").append(std::to_string(seq));
  s.append(" ").append(std::to_string(sent_ns)).append(" ");
  if (s.size() < size) s.append(size - s.size(), '.');
  return s;
}

std::optional<chat_payload> parse_payload(std::string_view text) {
  std::array<std::string_view, 4> fields;
  for (auto& f : fields) {
    auto sp = text.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    f = text.substr(0, sp);
    text.remove_prefix(sp + 1);
  }
  chat_payload p;
  p.tag = fields[0];
  auto number = [](std::string_view s, auto& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  if (p.tag.empty() || !number(fields[1], p.sender) || !number(fields[2], p.seq) || !number(fields[3], p.sent_ns))
    return std::nullopt;
  return p;
}

delivery_checker::verdict delivery_checker::on_message(std::uint32_t sender, std::uint64_t seq) {
  auto& s = senders_[sender];
  if (seq < s.next || s.ahead.count(seq)) return verdict::duplicate;
  ++distinct_;
  const bool late = s.any && seq < s.max_seen;
  if (!s.any || seq > s.max_seen) s.max_seen = seq;
  s.any = true;
  if (seq == s.next) {
    ++s.next;
    while (!s.ahead.empty() && *s.ahead.begin() == s.next) {
      s.ahead.erase(s.ahead.begin());
      ++s.next;
    }
  } else {
    s.ahead.insert(seq);
  }
  return late ? verdict::reordered : verdict::in_order;
}

}  // namespace simul::load
