// Shared assertion helpers for the sipcore tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>

#include "dump.hpp"
#include "sip/result.hpp"

// Asserts a failed Result with exactly this code and offset; prints both on failure.
#define REQUIRE_ERR(expr, errc, off)                                          \
    do {                                                                      \
        INFO(#expr);                                                          \
        auto r_ = (expr);                                                     \
        REQUIRE_FALSE(r_.has_value());                                        \
        CHECK(test::errc_name(r_.error().code) == test::errc_name(errc));     \
        CHECK(r_.error().offset == std::uint32_t(off));                       \
    } while (false)

// Same, and checks the header the error names.
#define REQUIRE_ERR_H(expr, errc, off, hdr)                                          \
    do {                                                                             \
        INFO(#expr);                                                                 \
        auto r_ = (expr);                                                            \
        REQUIRE_FALSE(r_.has_value());                                               \
        CHECK(test::errc_name(r_.error().code) == test::errc_name(errc));            \
        CHECK(r_.error().offset == std::uint32_t(off));                              \
        CHECK(test::header_id_name(r_.error().header) == test::header_id_name(hdr)); \
    } while (false)
