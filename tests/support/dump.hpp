// Stable text dumps of parsed messages for the golden tests (tests/data/golden/*.expected).
//
//   std::string d = test::dump_parse(bytes);   // parse as a datagram, then dump_message()
//
// Format, one fact per line (non-printable bytes escaped as \r \n \t \xHH, '\' as \\):
//   request INVITE method=Invite
//   ruri sip:... scheme=Sip user=... host=... port=5060 params=;user=phone headers=
//   status 200 reason=OK
//   header <i> <Id>|<name as written>|@<value offset>+<value length>|<value>
//   via_fields N                                   (Message::via_count(): Via fields)
//   top_via protocol=SIP version=2.0 transport=UDP host=... port=5060 ipv6=0 branch=...
//   via <k> transport=UDP host=... port=5060 branch=...   (every Via value, in order)
//   from display="..." quoted=1 bracketed=1 uri=... tag=... params=...
//   to ...
//   call_id ...
//   cseq 102 INVITE method=Invite
//   max_forwards 70 | max_forwards none
//   content_length 240 | content_length none
//   header_section 512
//   body_length 240
// A failed parse dumps as "error <code> offset=<n> header=<Id>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace test {

std::string escape(std::string_view s);
std::string_view errc_name(sip::Errc c);
std::string_view header_id_name(sip::HeaderId id);  // "Via", "Other", "None"
std::string_view method_enum_name(sip::Method m);   // "Invite", "Unknown"
std::string_view scheme_name(sip::Uri::Scheme s);   // "Sip", "Sips", "Tel", "Other"

// Number of Via values in every Via field, parsed on demand; nullopt if one does not parse.
std::optional<std::size_t> via_values(const sip::Message& m);

std::string dump_error(const sip::Error& e);
std::string dump_message(const sip::Message& m);
std::string dump_parse(std::string_view bytes, sip::Framing framing = sip::Framing::Datagram);

}  // namespace test
