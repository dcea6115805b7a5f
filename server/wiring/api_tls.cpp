#include "wiring/api_tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace wiring {

namespace {

// A certificate chain or a key is a few KB; anything this large is the wrong file.
constexpr std::size_t kMaxFile = 1 << 20;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// The whole file, or why not ("No such file or directory", "Is a directory", "too large").
std::optional<std::string> read_file(const std::string& path, std::string* why) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        *why = std::strerror(errno);
        return std::nullopt;
    }
    std::string out;
    char buf[8192];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
        out.append(buf, n);
        if (out.size() > kMaxFile) {
            *why = "larger than 1 MiB: not a PEM file";
            return std::nullopt;
        }
    }
    if (std::ferror(f.get())) {
        *why = std::strerror(errno);
        return std::nullopt;
    }
    return out;
}

std::unique_ptr<BIO, BioFree> mem_bio(const std::string& text) {
    return std::unique_ptr<BIO, BioFree>(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// OpenSSL's default password callback prompts on the terminal: a service must never wait for
// one, so the configured password is the only one tried ("" fails at once).
int password_cb(char* buf, int size, int, void* u) {
    const auto* pw = static_cast<const std::string*>(u);
    if (pw->empty() || pw->size() > static_cast<std::size_t>(size)) return -1;
    std::memcpy(buf, pw->data(), pw->size());
    return static_cast<int>(pw->size());
}

std::nullopt_t fail(ApiTlsError* error, ApiTlsFile file, std::string what) {
    // the queue is per thread and shared with the SIP TLS transport: leave it empty
    ERR_clear_error();
    if (error) *error = {file, std::move(what)};
    return std::nullopt;
}

std::unique_ptr<EVP_PKEY, PkeyFree> parse_key(const ApiTlsFiles& f, const std::string& pem,
                                              ApiTlsError* error) {
    auto bio = mem_bio(pem);
    std::string password = f.key_password;
    std::unique_ptr<EVP_PKEY, PkeyFree> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, &password_cb, &password) : nullptr);
    if (key) return key;
    // "BEGIN ENCRYPTED PRIVATE KEY" (PKCS#8) or "Proc-Type: 4,ENCRYPTED" (traditional)
    std::string why = ": not a PEM private key";
    if (pem.find("ENCRYPTED") != std::string::npos)
        why = f.key_password.empty() ? ": the key is encrypted: set api.tls_key_password"
                                     : ": api.tls_key_password does not decrypt it";
    fail(error, ApiTlsFile::key, f.key_file + why);
    return nullptr;
}

}  // namespace

std::optional<ApiTlsPem> read_api_tls(const ApiTlsFiles& files, ApiTlsError* error) {
    std::string why;
    auto cert = read_file(files.cert_file, &why);
    if (!cert) return fail(error, ApiTlsFile::cert, files.cert_file + ": cannot read: " + why);
    auto key = read_file(files.key_file, &why);
    if (!key) return fail(error, ApiTlsFile::key, files.key_file + ": cannot read: " + why);
    auto bio = mem_bio(*cert);
    std::unique_ptr<X509, X509Free> x509(
        bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!x509)
        return fail(error, ApiTlsFile::cert,
                    files.cert_file + ": not a PEM certificate (BEGIN CERTIFICATE)");
    auto pkey = parse_key(files, *key, error);
    if (!pkey) return std::nullopt;
    if (X509_check_private_key(x509.get(), pkey.get()) != 1)
        return fail(error, ApiTlsFile::key,
                    files.key_file + ": not the key of the certificate in " + files.cert_file);
    ERR_clear_error();
    return ApiTlsPem{std::move(*cert), std::move(*key), files.key_password};
}

}  // namespace wiring
