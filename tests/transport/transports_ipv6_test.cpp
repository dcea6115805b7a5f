// sip::uv::Transports over the IPv6 loopback: UDP, TCP and TLS round trips to ::1 (ports
// 28002, 28012, 28022). A machine that cannot bind ::1 (a container without IPv6) cannot run
// them: the executable then exits 77, which meson reports as SKIP and tools/test_summary.py
// counts as skipped, never as passed. Where ::1 exists every case must pass.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "harness.hpp"
#include "round_trip.hpp"

using sip::Transport;

TEST_CASE("transports: UDP round trip over IPv6", "[transport][udp][ipv6]") {
    tt::round_trip(Transport::Udp, "::1", 28002);
}

TEST_CASE("transports: TCP round trip over IPv6", "[transport][tcp][ipv6]") {
    tt::round_trip(Transport::Tcp, "::1", 28012);
}

TEST_CASE("transports: TLS round trip over IPv6 with SNI", "[transport][tls][ipv6]") {
    tt::round_trip(Transport::Tls, "::1", 28022, "localhost");
}

int main(int argc, char** argv) {
    if (!tt::have_ipv6()) {
        std::fprintf(stderr, "SKIP: ::1 cannot be bound on this machine (no IPv6 loopback)\n");
        return 77;  // meson: skipped
    }
    return Catch::Session().run(argc, argv);
}
