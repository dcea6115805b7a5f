// Rate groups, rates and deck upload through sw::api::Api over wiring::ApiData on a real
// SQLite file: a good deck (stored, the switch told to reload), a bad deck (422 naming every
// bad line, nothing stored), dry run, template and layout options, the group list, the prefix
// search and cursor paging; customer rates auto-created from vendor groups (dry run storing
// nothing, margin and markup, every refused member named).
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "api_fixture.hpp"

using namespace test;

namespace {

struct Fixture : ApiDataFixture {
    Fixture() : ApiDataFixture("tl-api-rates") {
        {
            auto st = billing::sqlite::Store::open(db);
            REQUIRE(st);
            REQUIRE(st->set_currency({"EUR", 4, billing::Rounding::up}));
            add_accounts(*st, {"C1"});
            REQUIRE(st->set_rate_group("C1", "retail"));
        }
        open_data();
    }
    sw::api::Response upload(std::string group, std::string body,
                             std::vector<std::pair<std::string, std::string>> query = {}) {
        return handle({.method = "POST", .path = "/api/rate-groups/" + group + "/deck", .query = std::move(query),
                       .body = std::move(body)});
    }
    sw::api::Response autocreate(std::string group, std::string body, std::string token = kAdmin) {
        return handle({.method = "POST", .path = "/api/rate-groups/" + group + "/autocreate", .body = std::move(body),
                       .token = std::move(token)});
    }
    sw::api::Response rates(std::vector<std::pair<std::string, std::string>> query) {
        return handle({.path = "/api/rates", .query = std::move(query), .token = kRead});
    }
    std::vector<billing::Rate> stored(const std::string& group) {
        auto st = billing::sqlite::Store::open(db);
        REQUIRE(st);
        auto r = st->rates(group);
        REQUIRE(r);
        return *r;
    }
};

std::vector<std::string> prefixes(const std::string& body) {
    std::vector<std::string> out;
    static const std::regex re("\"prefix\":\"([0-9]*)\"");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1]);
    return out;
}

std::string next_of(const std::string& body) {
    static const std::regex re("\"next\":\"([^\"]*)\"");
    std::smatch m;
    return std::regex_search(body, m, re) ? std::string(m[1]) : std::string();
}

const std::string kDeck =
    "prefix,area,price,billing\n"
    "44,UK,0.0100,60/60\n"
    "4420,London,0.0123,30/6\n"
    "447,UK mobile,0.0500,60/60\n"
    "49,Germany,0.0200,1/1\n";

}  // namespace

TEST_CASE("api rates: a good deck is stored and the switch reloads") {
    Fixture f;
    auto r = f.upload("retail", kDeck);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.tables_changed);
    CHECK(has(r.body, "\"rates\":4"));
    CHECK(has(r.body, "\"added\":4"));
    CHECK(has(r.body, "\"warnings\":[]"));
    CHECK(f.stored("retail").size() == 4);
    const auto logs = f.logs();
    REQUIRE(logs.size() == 1);
    CHECK(has(logs[0], "imported 4 rates into rate group 'retail'"));

    // again with one changed price: updated, not added; replace drops the others
    r = f.upload("retail", "prefix,price\n44,0.0110\n", {{"replace", "true"}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "\"updated\":1"));
    CHECK(has(r.body, "\"removed\":3"));
    CHECK(f.stored("retail").size() == 1);

    auto g = f.handle({.path = "/api/rate-groups", .token = kRead});
    INFO(g.body);
    REQUIRE(g.status == 200);
    CHECK(has(g.body, R"({"name":"retail","rates":1,"accounts":1})"));
}

TEST_CASE("api rates: a bad deck lists every bad line and stores nothing") {
    Fixture f;
    REQUIRE(f.upload("retail", kDeck).status == 200);
    auto r = f.upload("retail",
                      "prefix,area,price\n"
                      "44,UK,0.0100\n"
                      "4x4,Bad,0.0100\n"
                      "33,France,abc\n"
                      "34,Spain,0.0300\n",
                      {{"replace", "true"}});
    INFO(r.body);
    REQUIRE(r.status == 422);
    CHECK_FALSE(r.tables_changed);
    CHECK(has(r.body, "\"error_count\":2"));
    CHECK(has(r.body, "\"line\":3"));
    CHECK(has(r.body, "\"line\":4"));
    CHECK(has(r.body, "\"column\":\"prefix\""));
    CHECK(has(r.body, "\"column\":\"price\""));
    CHECK(f.stored("retail").size() == 4);  // the earlier deck, untouched

    // a deck delimited by ';' read with ',': the hint says so
    r = f.upload("other", "prefix;price\n44;0.01\n");
    REQUIRE(r.status == 422);
    CHECK(has(r.body, "delimiter=;"));
    r = f.upload("other", "prefix;price\n44;0,01\n", {{"delimiter", ";"}, {"decimal_comma", "true"}});
    INFO(r.body);
    CHECK(r.status == 200);
}

TEST_CASE("api rates: dry run checks without storing") {
    Fixture f;
    auto r = f.upload("wholesale", kDeck, {{"dry_run", "true"}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.tables_changed);
    CHECK(has(r.body, "\"dry_run\":true"));
    CHECK(has(r.body, "\"rates\":4"));
    CHECK(f.stored("wholesale").empty());
    CHECK(f.rates({{"group", "wholesale"}}).status == 404);
}

TEST_CASE("api rates: options are checked and named") {
    Fixture f;
    CHECK(names_field(f.upload("retail", kDeck, {{"bogus", "1"}}), "bogus"));
    CHECK(names_field(f.upload("retail", kDeck, {{"encoding", "ebcdic"}}), "encoding"));
    CHECK(names_field(f.upload("retail", kDeck, {{"template", "nope"}}), "template"));
    CHECK(f.upload("retail", kDeck, {{"increment", "0"}}).status == 422);
    CHECK(f.handle({.method = "POST", .path = "/api/rate-groups/retail/deck", .body = kDeck, .token = kRead})
              .status == 403);
    CHECK(f.handle({.path = "/api/rate-groups/retail/deck"}).status == 405);
    CHECK(f.handle({.method = "POST", .path = "/api/rate-groups/retail/other"}).status == 404);
    {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        billing::DeckTemplate t;
        t.name = "carrierA";
        t.format.delimiter = ';';
        REQUIRE(billing::parse_mapping("prefix=Code,price=Rate", t.format));
        REQUIRE(st->put_deck_template(t, false));
    }
    auto r = f.upload("retail", "Code;Rate\n44;0.0100\n", {{"template", "carrierA"}});
    INFO(r.body);
    CHECK(r.status == 200);
}

TEST_CASE("api rates: prefix search and paging") {
    Fixture f;
    std::string deck = "prefix,price\n";
    for (int i = 0; i < 25; ++i) deck += "44" + std::to_string(100 + i) + ",0.0" + std::to_string(10 + i) + "\n";
    deck += "44,0.0090\n49,0.0200\n";
    REQUIRE(f.upload("retail", deck).status == 200);

    auto r = f.rates({{"group", "retail"}, {"prefix", "4410"}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(prefixes(r.body) == std::vector<std::string>{"44100", "44101", "44102", "44103", "44104", "44105",
                                                        "44106", "44107", "44108", "44109"});
    CHECK(has(r.body, "\"price\":\"0.0100\""));
    CHECK(has(r.body, "\"next\":null"));

    r = f.rates({{"group", "retail"}, {"prefix", "49"}});
    CHECK(prefixes(r.body) == std::vector<std::string>{"49"});
    CHECK(has(r.body, "\"price\":\"0.0200\""));

    // all 27 in pages of 10
    std::vector<std::string> all;
    std::string after;
    for (int page = 0; page < 5; ++page) {
        std::vector<std::pair<std::string, std::string>> q{{"group", "retail"}, {"limit", "10"}};
        if (!after.empty()) q.emplace_back("after", after);
        r = f.rates(q);
        REQUIRE(r.status == 200);
        for (auto& p : prefixes(r.body)) all.push_back(p);
        after = next_of(r.body);
        if (after.empty()) break;
    }
    REQUIRE(all.size() == 27);
    CHECK(all.front() == "44");
    CHECK(all[1] == "44100");
    CHECK(all.back() == "49");

    CHECK(names_field(f.rates({{"prefix", "44"}}), "group"));
    CHECK(names_field(f.rates({{"group", "retail"}, {"limit", "0"}}), "limit"));
    CHECK(names_field(f.rates({{"group", "retail"}, {"after", "x"}}), "after"));
    CHECK(names_field(f.rates({{"group", "retail"}, {"prefix", "4a"}}), "prefix"));
    CHECK(f.rates({{"group", "nope"}}).status == 404);
}

TEST_CASE("api rates: autocreate dry run answers the rates and stores nothing") {
    Fixture f;
    REQUIRE(f.upload("v9001", kDeck).status == 200);
    f.logs();
    auto r = f.autocreate("retail", R"({"from":["v9001"],"margin":"20%","dry_run":true})");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.tables_changed);
    CHECK(has(r.body, "\"group\":\"retail\""));
    CHECK(has(r.body, "\"dry_run\":true"));
    CHECK(has(r.body, "\"rates\":4"));
    CHECK(has(r.body, "\"added\":4"));
    CHECK(has(r.body, "\"from\":[\"v9001\"]"));
    CHECK(has(r.body, "\"margin\":\"20%\""));
    CHECK(prefixes(r.body) == std::vector<std::string>{"44", "4420", "447", "49"});
    // vendor / (1 - 0.2), rounded up to the currency's 4 decimals
    CHECK(has(r.body, R"("prefix":"44","area":"UK")"));
    CHECK(has(r.body, "\"price\":\"0.0125\""));
    CHECK(has(r.body, "\"price\":\"0.0154\""));  // 0.0123 / 0.8 = 0.015375
    CHECK(has(r.body, "\"price\":\"0.0625\""));
    CHECK(has(r.body, "\"price\":\"0.0250\""));
    CHECK(has(r.body, "\"created_truncated\":false"));
    CHECK(f.stored("retail").empty());
    CHECK(f.logs().empty());
}

TEST_CASE("api rates: autocreate stores the rates and the switch reloads") {
    Fixture f;
    REQUIRE(f.upload("v9001", kDeck).status == 200);
    REQUIRE(f.upload("v9002", "prefix,price\n44,0.0080\n").status == 200);
    f.logs();
    auto r = f.autocreate("retail", R"({"from":"v9001, v9002","markup":"0.5","precision":2})");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.tables_changed);
    CHECK(has(r.body, "\"dry_run\":false"));
    CHECK(has(r.body, "\"markup\":\"0.5\""));
    CHECK(has(r.body, "\"precision\":2"));
    const auto rates = f.stored("retail");
    REQUIRE(rates.size() == 4);
    for (const auto& rate : rates) {
        if (rate.prefix == "44") CHECK(rate.price.to_string(4) == "0.0200");  // 0.0080 * 1.5 = 0.012 -> 0.02
        if (rate.prefix == "49") CHECK(rate.price.to_string(4) == "0.0300");
    }
    const auto logs = f.logs();
    REQUIRE(logs.size() == 1);
    CHECK(has(logs[0], "auto-created 4 rates into rate group 'retail'"));

    // again with replace: the same keys are updated, nothing added
    r = f.autocreate("retail", R"({"from":["v9002"],"margin":"10%","replace":true})");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "\"updated\":1"));
    CHECK(has(r.body, "\"removed\":3"));
    REQUIRE(f.stored("retail").size() == 1);
    CHECK(f.stored("retail")[0].price.to_string(4) == "0.0089");  // 0.0080 / 0.9, rounded up
}

TEST_CASE("api rates: autocreate names the refused member") {
    Fixture f;
    REQUIRE(f.upload("v9001", kDeck).status == 200);
    auto refused = [&](const std::string& body, std::string_view field) {
        auto r = f.autocreate("retail", body);
        INFO(body << " -> " << r.body);
        CHECK(r.status == 422);
        CHECK_FALSE(r.tables_changed);
        CHECK(names_field(r, field));
    };
    refused(R"({"from":["v9001"],"margin":"abc"})", "margin");
    refused(R"({"from":["v9001"],"margin":"100%"})", "margin");
    refused(R"({"from":["v9001"],"margin":"-5%"})", "margin");
    refused(R"({"from":["v9001"],"margin":true})", "margin");
    refused(R"({"from":["v9001"]})", "margin");
    refused(R"({"from":["v9001"],"margin":"5%","markup":"5%"})", "markup");
    refused(R"({"from":["v9001"],"markup":"x"})", "markup");
    refused(R"({"margin":"5%"})", "from");
    refused(R"({"from":[],"margin":"5%"})", "from");
    refused(R"({"from":["nope"],"margin":"5%"})", "from");
    refused(R"({"from":["v9001","v9001"],"margin":"5%"})", "from");
    refused(R"({"from":42,"margin":"5%"})", "from");
    refused(R"({"from":["v9001"],"margin":"5%","precision":9})", "precision");
    refused(R"({"from":["v9001"],"margin":"5%","precision":"2"})", "precision");
    refused(R"({"from":["v9001"],"margin":"5%","dry_run":"yes"})", "dry_run");
    refused(R"({"from":["v9001"],"margin":"5%","bogus":1})", "bogus");
    CHECK(f.stored("retail").empty());
    CHECK(f.autocreate("retail", "[1]").status == 400);
    CHECK(f.autocreate("retail", R"({"from":["v9001"],"margin":"5%"})", kRead).status == 403);
    CHECK(f.handle({.path = "/api/rate-groups/retail/autocreate"}).status == 405);
}
