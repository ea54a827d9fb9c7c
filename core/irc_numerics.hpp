// The catalogue of IRC numeric replies the chat hub sends: each one's code and, where the RFCs
// (RFC 2812, RFC 2811) and the modern client protocol docs fix it, its trailing text. Handlers
// name replies by these constants, so a code and its text are written in one place only.
// Constants only; nothing to run.
#pragma once

#include <string_view>

namespace simul::core {

/// A numeric reply: its three-digit code and its fixed trailing text ("" when the text varies and
/// the caller supplies it as the last parameter).
struct numeric_reply {
  std::string_view code;
  std::string_view text;
};

namespace num {
// Registration and server information.
inline constexpr numeric_reply rpl_welcome{"001", ""};
inline constexpr numeric_reply rpl_yourhost{"002", ""};
inline constexpr numeric_reply rpl_created{"003", ""};
inline constexpr numeric_reply rpl_myinfo{"004", ""};
inline constexpr numeric_reply rpl_isupport{"005", "are supported by this server"};
inline constexpr numeric_reply rpl_umodeis{"221", ""};
inline constexpr numeric_reply rpl_luserclient{"251", ""};
inline constexpr numeric_reply rpl_luserop{"252", "operator(s) online"};
inline constexpr numeric_reply rpl_luserunknown{"253", "unknown connection(s)"};
inline constexpr numeric_reply rpl_luserchannels{"254", "channels formed"};
inline constexpr numeric_reply rpl_luserme{"255", ""};
inline constexpr numeric_reply rpl_localusers{"265", ""};
inline constexpr numeric_reply rpl_globalusers{"266", ""};
inline constexpr numeric_reply rpl_motdstart{"375", ""};
inline constexpr numeric_reply rpl_motd{"372", ""};
inline constexpr numeric_reply rpl_endofmotd{"376", "End of MOTD command"};
inline constexpr numeric_reply err_nomotd{"422", "MOTD File is missing"};

// Users.
inline constexpr numeric_reply rpl_away{"301", ""};
inline constexpr numeric_reply rpl_userhost{"302", ""};
inline constexpr numeric_reply rpl_ison{"303", ""};
inline constexpr numeric_reply rpl_unaway{"305", "You are no longer marked as being away"};
inline constexpr numeric_reply rpl_nowaway{"306", "You have been marked as being away"};
inline constexpr numeric_reply rpl_whoisuser{"311", ""};
inline constexpr numeric_reply rpl_whowasuser{"314", ""};
inline constexpr numeric_reply rpl_whoisserver{"312", ""};
inline constexpr numeric_reply rpl_whoisoperator{"313", "is an IRC operator"};
inline constexpr numeric_reply rpl_endofwho{"315", "End of WHO list"};
inline constexpr numeric_reply rpl_whoisidle{"317", "seconds idle, signon time"};
inline constexpr numeric_reply rpl_endofwhois{"318", "End of WHOIS list"};
inline constexpr numeric_reply rpl_whoischannels{"319", ""};
inline constexpr numeric_reply rpl_whoreply{"352", ""};
inline constexpr numeric_reply rpl_endofwhowas{"369", "End of WHOWAS"};
inline constexpr numeric_reply rpl_youreoper{"381", "You are now an IRC operator"};

// Channels.
inline constexpr numeric_reply rpl_liststart{"321", "Users  Name"};
inline constexpr numeric_reply rpl_list{"322", ""};
inline constexpr numeric_reply rpl_listend{"323", "End of LIST"};
inline constexpr numeric_reply rpl_channelmodeis{"324", ""};
inline constexpr numeric_reply rpl_creationtime{"329", ""};
inline constexpr numeric_reply rpl_notopic{"331", "No topic is set"};
inline constexpr numeric_reply rpl_topic{"332", ""};
inline constexpr numeric_reply rpl_topicwhotime{"333", ""};
inline constexpr numeric_reply rpl_inviting{"341", ""};
inline constexpr numeric_reply rpl_namreply{"353", ""};
inline constexpr numeric_reply rpl_endofnames{"366", "End of NAMES list"};
inline constexpr numeric_reply rpl_banlist{"367", ""};
inline constexpr numeric_reply rpl_endofbanlist{"368", "End of channel ban list"};

// Errors.
inline constexpr numeric_reply err_unknownerror{"400", ""};
inline constexpr numeric_reply err_nosuchnick{"401", "No such nick/channel"};
inline constexpr numeric_reply err_nosuchchannel{"403", "No such channel"};
inline constexpr numeric_reply err_cannotsendtochan{"404", "Cannot send to channel"};
inline constexpr numeric_reply err_toomanychannels{"405", "You have joined too many channels"};
inline constexpr numeric_reply err_wasnosuchnick{"406", "There was no such nickname"};
inline constexpr numeric_reply err_toomanytargets{"407", "Too many recipients"};
inline constexpr numeric_reply err_noorigin{"409", "No origin specified"};
inline constexpr numeric_reply err_invalidcapcmd{"410", "Invalid CAP command"};
inline constexpr numeric_reply err_norecipient{"411", ""};
inline constexpr numeric_reply err_notexttosend{"412", "No text to send"};
inline constexpr numeric_reply err_inputtoolong{"417", "Input line was too long"};
inline constexpr numeric_reply err_unknowncommand{"421", "Unknown command"};
inline constexpr numeric_reply err_nonicknamegiven{"431", "No nickname given"};
inline constexpr numeric_reply err_erroneusnickname{"432", "Erroneous nickname"};
inline constexpr numeric_reply err_nicknameinuse{"433", "Nickname is already in use"};
inline constexpr numeric_reply err_usernotinchannel{"441", "They aren't on that channel"};
inline constexpr numeric_reply err_notonchannel{"442", "You're not on that channel"};
inline constexpr numeric_reply err_useronchannel{"443", "is already on channel"};
inline constexpr numeric_reply err_notregistered{"451", "You have not registered"};
inline constexpr numeric_reply err_needmoreparams{"461", "Not enough parameters"};
inline constexpr numeric_reply err_alreadyregistered{"462", "You may not reregister"};
inline constexpr numeric_reply err_passwdmismatch{"464", "Password incorrect"};
inline constexpr numeric_reply err_channelisfull{"471", "Cannot join channel (+l)"};
inline constexpr numeric_reply err_unknownmode{"472", "is unknown mode char to me"};
inline constexpr numeric_reply err_inviteonlychan{"473", "Cannot join channel (+i)"};
inline constexpr numeric_reply err_bannedfromchan{"474", "Cannot join channel (+b)"};
inline constexpr numeric_reply err_badchannelkey{"475", "Cannot join channel (+k)"};
inline constexpr numeric_reply err_banlistfull{"478", "Channel list is full"};
inline constexpr numeric_reply err_noprivileges{"481", "Permission Denied- You're not an IRC operator"};
inline constexpr numeric_reply err_chanoprivsneeded{"482", "You're not channel operator"};
inline constexpr numeric_reply err_nooperhost{"491", "No O-lines for your host"};
inline constexpr numeric_reply err_umodeunknownflag{"501", "Unknown MODE flag"};
inline constexpr numeric_reply err_usersdontmatch{"502", "Cant change mode for other users"};
}  // namespace num

}  // namespace simul::core
