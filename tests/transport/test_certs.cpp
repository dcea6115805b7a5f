#include "test_certs.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace tt {
namespace {

struct Free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    void operator()(X509* x) const { X509_free(x); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

Key make_key() {
    Key k(EVP_EC_gen("P-256"));
    if (!k) throw std::runtime_error("EVP_EC_gen failed");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error("bad extension");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// `issuer`/`issuer_key` null: self-signed CA.
Cert make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial,
               const char* san) {
    Cert c(X509_new());
    X509_set_version(c.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), 7L * 24 * 3600);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Trunkline TEST ONLY"), -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509* iss = issuer ? issuer : c.get();
    X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
    if (!issuer) {
        add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(c.get(), iss, NID_subject_key_identifier, "hash");
    } else {
        add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c.get(), iss, NID_key_usage, "critical,digitalSignature");
        add_ext(c.get(), iss, NID_ext_key_usage, "serverAuth,clientAuth");
        add_ext(c.get(), iss, NID_authority_key_identifier, "keyid");
        if (san) add_ext(c.get(), iss, NID_subject_alt_name, san);
    }
    if (X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0)
        throw std::runtime_error("X509_sign failed");
    return c;
}

void write_cert(const std::string& path, X509* c) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    PEM_write_X509(f, c);
    std::fclose(f);
}

void write_key(const std::string& path, EVP_PKEY* k) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

struct Holder {
    Pki pki;
    Holder() {
        char tmpl[] = "/tmp/trunkline-tls-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        pki.dir = tmpl;
        Key ca_key = make_key();
        Cert ca = make_cert("Trunkline TEST CA", ca_key.get(), nullptr, nullptr, 1, nullptr);
        Key other_key = make_key();
        Cert other = make_cert("Unrelated TEST CA", other_key.get(), nullptr, nullptr, 2, nullptr);
        Key srv_key = make_key();
        Cert srv = make_cert("sip.test", srv_key.get(), ca.get(), ca_key.get(), 3,
                             "DNS:sip.test,DNS:localhost,IP:127.0.0.1,IP:::1");
        Key cli_key = make_key();
        Cert cli =
            make_cert("client.test", cli_key.get(), ca.get(), ca_key.get(), 4, "DNS:client.test");
        pki.ca = pki.dir + "/ca.pem";
        pki.other_ca = pki.dir + "/other-ca.pem";
        pki.server_cert = pki.dir + "/server.pem";
        pki.server_key = pki.dir + "/server.key";
        pki.client_cert = pki.dir + "/client.pem";
        pki.client_key = pki.dir + "/client.key";
        write_cert(pki.ca, ca.get());
        write_cert(pki.other_ca, other.get());
        write_cert(pki.server_cert, srv.get());
        write_key(pki.server_key, srv_key.get());
        write_cert(pki.client_cert, cli.get());
        write_key(pki.client_key, cli_key.get());
    }
    ~Holder() {
        std::error_code ec;
        std::filesystem::remove_all(pki.dir, ec);
    }
};

}  // namespace

const Pki& pki() {
    static const Holder h;
    return h.pki;
}

}  // namespace tt
