// Throw-away PKI for the TLS tests, generated at test time with OpenSSL into a temp dir.
//
//   const tt::Pki& pki = tt::pki();          // made once per test process
//   cfg.tls = {.cert_file = pki.server_cert, .key_file = pki.server_key, .ca_file = pki.ca};
//
// Why generated and not committed: no private key (not even a test one) lives in the tree,
// nothing expires in two years and breaks CI, and each run gets fresh keys. Two independent
// CAs exist so a test can make verification fail ("wrong CA").
#pragma once

#include <string>

namespace tt {

struct Pki {
    std::string dir;
    std::string ca;           // CA certificate (PEM) that signed the server and client certs
    std::string other_ca;     // an unrelated CA: verifying against it must fail
    std::string server_cert;  // CN sip.test; SAN DNS:sip.test, DNS:localhost, IP 127.0.0.1, ::1
    std::string server_key;
    std::string client_cert;  // CN client.test, signed by `ca`
    std::string client_key;
};

// Generated on first use; the directory is removed at process exit.
const Pki& pki();

}  // namespace tt
