# RFC 3261 §25.1 core rules shared by every Trunkline machine.
# Included with `include common "common.rl";`. Actions are never defined here: each machine
# records its own spans, so this file is grammar only.
%%{
machine common;

CRLF = "\r\n";
SP = ' ';
HTAB = '\t';
WSP = SP | HTAB;
# LWS = [*WSP CRLF] 1*WSP ; folded lines stay inside one span (DESIGN.md §4)
LWS = (WSP* CRLF)? WSP+;
SWS = LWS?;

alphanum = alnum;
mark_c = [\-_.!~*'()];
unreserved = alphanum | mark_c;
reserved = [;/?:@&=+$,];
escaped = '%' xdigit xdigit;

token_c = alphanum | [\-.!%*_+`'~];
token = token_c+;
word_c = alphanum | [\-.!%*_+`'~()<>:\\"/\[\]?{}];
word = word_c+;

SEMI = SWS ';' SWS;
EQUAL = SWS '=' SWS;
COMMA = SWS ',' SWS;
SLASH = SWS '/' SWS;
COLON = SWS ':' SWS;
LAQUOT = SWS '<';
RAQUOT = '>' SWS;

# RFC 3629 UTF-8 is accepted loosely: any octet >= 0x80 (validating code points buys
# nothing for routing and costs instructions on every display name).
utf8_high = 0x80..0xff;
qdtext = LWS | 0x21 | 0x23..0x5b | 0x5d..0x7e | utf8_high;
quoted_pair = '\\' (0x00..0x09 | 0x0b..0x0c | 0x0e..0x7f);
quoted_string = '"' (qdtext | quoted_pair)* '"';

# RFC 3261 §25.1 host. IPv4address is RFC 3261's (1*3DIGIT per octet).
dec_octet = digit{1,3};
IPv4address = dec_octet '.' dec_octet '.' dec_octet '.' dec_octet;
# IPv6address is RFC 3986 §3.2.2's (RFC 5954 makes it SIP's): every h16/ls32 form, the
# embedded IPv4 address with RFC 3986's dec-octet (0-255, no leading zero), no zone ID
# (RFC 6874's "%25" is for URIs outside SIP). RFC 3261's own rule (from RFC 2373) allowed
# unbounded groups and no IPv4 right after "::".
h16 = xdigit{1,4};
dec_octet_3986 = digit | [1-9] digit | '1' digit{2} | '2' [0-4] digit | '25' [0-5];
IPv4address_3986 = dec_octet_3986 '.' dec_octet_3986 '.' dec_octet_3986 '.' dec_octet_3986;
ls32 = h16 ':' h16 | IPv4address_3986;
IPv6address =                          (h16 ':'){6} ls32
            |                     '::' (h16 ':'){5} ls32
            | (                h16)? '::' (h16 ':'){4} ls32
            | ((h16 ':'){0,1} h16)? '::' (h16 ':'){3} ls32
            | ((h16 ':'){0,2} h16)? '::' (h16 ':'){2} ls32
            | ((h16 ':'){0,3} h16)? '::' h16 ':' ls32
            | ((h16 ':'){0,4} h16)? '::' ls32
            | ((h16 ':'){0,5} h16)? '::' h16
            | ((h16 ':'){0,6} h16)? '::'
            # RFC 5118 §4.10: RFC 3261's "hexpart ':' IPv4address" with a hexpart ending in
            # "::" gives ":::" before the IPv4 address; tolerated there and nowhere else.
            | ((h16 ':'){0,4} h16)? ':::' IPv4address_3986;
IPv6reference = '[' IPv6address ']';
domainlabel = alphanum (alphanum | '-')*;
toplabel = alpha (alphanum | '-')*;
hostname = (domainlabel '.')* toplabel '.'?;
host = hostname | IPv4address | IPv6reference;
port = digit+;
# The same, held to 0..65535 in the grammar (leading zeros allowed), for machines that
# validate a URI without cutting it up (name_addr.rl): they must agree with parse_uri()'s
# range check, which machines that capture the port do in C++ instead.
port_1_65535 = [1-9] digit{0,3} | [1-5] digit{4} | '6' [0-4] digit{3} | '65' [0-4] digit{2} |
               '655' [0-2] digit | '6553' [0-5];
port_16bit = '0'* (port_1_65535 | '0');

gen_value = token | host | quoted_string;
generic_param = token (EQUAL gen_value)?;
}%%
