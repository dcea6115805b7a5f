// wiring::read_api_tls — the management API's certificate and key ([api] tls_cert, tls_key,
// tls_key_password; DESIGN.md §8 "Management API"), read into memory and checked before
// libmicrohttpd sees them: each file must be readable and hold a PEM certificate (chain) or
// private key, the key must open with the password (if any) and belong to the certificate.
// libmicrohttpd (GnuTLS) only says "Failed to setup x509 certificate/key" and names no file;
// these messages name the file, and the configuration loader adds the key and line.
//
//   wiring::ApiTlsError err;
//   auto tls = wiring::read_api_tls({"/etc/trunkline/api.pem", "/etc/trunkline/api.key"}, &err);
//   if (!tls) die(err.what);  // "/etc/trunkline/api.key: cannot read: Permission denied"
//   http.start("127.0.0.1:8443", &*tls);
//
// ApiTlsError::file says which of the two files is wrong (config.cpp names its key).
#pragma once

#include <optional>
#include <string>

namespace wiring {

// What the configuration names: paths and the key's password ("" = not encrypted).
struct ApiTlsFiles {
    std::string cert_file, key_file, key_password;
};

// The PEM text libmicrohttpd takes (MHD_OPTION_HTTPS_MEM_CERT / _MEM_KEY).
struct ApiTlsPem {
    std::string cert, key, key_password;
};

enum class ApiTlsFile { cert, key };

struct ApiTlsError {
    ApiTlsFile file;
    std::string what;  // names the file: "/etc/trunkline/api.key: not a PEM private key"
};

// The files' contents, checked; or which file is wrong and why.
std::optional<ApiTlsPem> read_api_tls(const ApiTlsFiles& files, ApiTlsError* error);

}  // namespace wiring
