// Shared by the tests of the prices applied after rating (tiers_test.cpp, packages_test.cpp):
// a small book with the customer C1 (rate group retail) and the vendor V1 (carrier), and the
// answered calls from C1 through V1 rated against it.
//
//   struct TierFixture : billing_test::RatingFixture { ... };
//   auto [rating, cdr] = f.rated(f.call("442071234567", "2026-11-10 10:00:00", 90));
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/rating.hpp"
#include "billing_fixtures.hpp"

namespace billing_test {

// A time that must parse ("2026-11-10 10:00:00").
inline billing::Timestamp at(const char* t) {
    return *billing::parse_time(t);
}

struct RatingFixture {
    billing::Book book;
    billing::RatingConfig cfg;

    // retail: 44 at 0.0125 per minute in 6 s increments; 447 with a first minute of its own
    // (0.0900, then 0.0600) and a connection fee of 0.0010. carrier: 44 at 0.0050, 6 s.
    RatingFixture() {
        billing::Rate r;
        r.prefix = "44";
        r.price = money("0.0125");
        r.increment_s = 6;
        REQUIRE(book.group("retail").add(r));
        billing::Rate p = r;
        p.prefix = "447";
        p.first_period_s = 60;
        p.first_price = money("0.0900");
        p.price = money("0.0600");
        p.connection_fee = money("0.0010");
        REQUIRE(book.group("retail").add(p));
        billing::Rate v = r;
        v.price = money("0.0050");
        REQUIRE(book.group("carrier").add(v));
        billing::Account c;
        c.id = "C1";
        c.rate_group = "retail";
        REQUIRE(book.add_account(c));
        billing::Account vend;
        vend.id = "V1";
        vend.kind = billing::AccountKind::vendor;
        vend.rate_group = "carrier";
        REQUIRE(book.add_account(vend));
        book.compact();
    }

    // A call from C1 to `callee` through V1, answered at `answer`, lasting `seconds`.
    billing::CallRecord call(const char* callee, const char* answer, std::int64_t seconds) const {
        billing::CallRecord c;
        c.caller = "1";
        c.callee = callee;
        c.customer = "C1";
        c.vendor = "V1";
        c.setup_ms = at(answer);
        c.answer_ms = at(answer);
        c.end_ms = at(answer) + seconds * 1000;
        return c;
    }

    // The call rated with `cfg` (it must rate) and its CDR.
    struct Rated {
        billing::CallRating rating;
        billing::Cdr cdr;
    };
    Rated rated(const billing::CallRecord& call) const {
        billing::Rater rater(book, cfg);
        auto r = rater.rate(call);
        REQUIRE(r);
        return {*r, billing::make_cdr(call, *r)};
    }
};

}  // namespace billing_test
