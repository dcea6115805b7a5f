#include "sip/result.hpp"

namespace sip {

std::string_view errc_text(Errc code) noexcept {
    switch (code) {
        case Errc::ok: return "OK";
        case Errc::empty: return "Empty Message";
        case Errc::incomplete: return "Header Section Not Terminated";
        case Errc::too_large: return "Message Too Large";
        case Errc::too_many_headers: return "Too Many Header Fields";
        case Errc::header_too_long: return "Header Field Too Long";
        case Errc::bad_start_line: return "Malformed Start Line";
        case Errc::bad_method: return "Malformed Method";
        case Errc::bad_request_uri: return "Malformed Request-URI";
        case Errc::uri_headers_in_ruri: return "Headers Not Allowed In Request-URI";
        case Errc::bad_version: return "Malformed SIP-Version";
        case Errc::unsupported_version: return "Version Not Supported";
        case Errc::bad_status_code: return "Malformed Status-Code";
        case Errc::bad_reason_phrase: return "Malformed Reason-Phrase";
        case Errc::bad_header_name: return "Malformed Header Name";
        case Errc::bad_line_end: return "Bare CR or LF";
        case Errc::bad_header_value: return "Malformed Header Value";
        case Errc::missing_header: return "Missing Mandatory Header";
        case Errc::duplicate_header: return "Duplicate Single-Valued Header";
        case Errc::bad_content_length: return "Malformed Content-Length";
        case Errc::body_truncated: return "Content-Length Exceeds Body";
        case Errc::cseq_method_mismatch: return "CSeq Method Does Not Match Request";
        case Errc::value_out_of_range: return "Value Out Of Range";
        case Errc::bad_uri: return "Malformed URI";
        case Errc::unsupported_scheme: return "Unsupported URI Scheme";
        case Errc::bad_param: return "Malformed Parameter";
        case Errc::not_found: return "Not Found";
        case Errc::bad_frame: return "Stream Framing Error";
    }
    return "Unknown Error";
}

}  // namespace sip
