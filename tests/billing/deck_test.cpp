// Tests for libbilling/src/deck.cpp and csv.cpp: rate deck import with column mappings,
// one test per kind of bad line, duplicates, all-or-nothing, export round trip,
// auto-created customer rates and the negative-margin alarm list.
#include <catch2/catch.hpp>

#include "billing/csv.hpp"
#include "billing/deck.hpp"

using namespace billing;

namespace {
Money M(const char* s) { return *Money::parse(s); }

// The single error of a deck with one bad data line.
Error only_error(const std::string& text, const DeckFormat& fmt = DeckFormat{}) {
    DeckResult d = parse_rate_deck(text, fmt);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.rates.empty());
    return d.errors[0];
}
}  // namespace

TEST_CASE("csv: quoting, CRLF and BOM", "[billing][csv]") {
    std::vector<std::string> f;
    REQUIRE(split_csv(R"(44, "UK, London" ,"say ""hi""",)", ',', f));
    REQUIRE(f.size() == 4);
    CHECK(f[0] == "44");
    CHECK(f[1] == "UK, London");
    CHECK(f[2] == "say \"hi\"");
    CHECK(f[3].empty());
    CHECK_FALSE(split_csv(R"(44,"open)", ',', f));
    CHECK_FALSE(split_csv(R"(44,"a"b)", ',', f));
    LineReader lr("\xEF\xBB\xBFprefix\r\n44\r\n\nlast");
    std::string_view line;
    std::vector<std::string> lines;
    while (lr.next(line)) lines.emplace_back(line);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "prefix");
    CHECK(lines[1] == "44");
    CHECK(lines[3] == "last");
    CHECK(csv_escape("a,b") == "\"a,b\"");
    CHECK(csv_escape("plain") == "plain");
    CHECK(json_escape("a\"b\n") == "a\\\"b\\n");
}

TEST_CASE("deck: default header names and defaults", "[billing][deck]") {
    const std::string text =
        "prefix,area,type,price,first_period,first_price,increment,connection_fee,effective_from,period\n"
        "44,UK,National,0.0200,30,0.0300,6,0.01,2026-12-01,\n"
        "447,\"UK, Mobile\",International,0.09,,,,,,offpeak\n";
    DeckResult d = parse_rate_deck(text, DeckFormat{});
    REQUIRE(d.ok());
    REQUIRE(d.rates.size() == 2);
    const Rate& a = d.rates[0];
    CHECK(a.prefix == "44");
    CHECK(a.area == "UK");
    CHECK(a.type == RateType::national);
    CHECK(a.price == M("0.02"));
    CHECK(a.first_period_s == 30);
    CHECK(a.first_price == M("0.03"));
    CHECK(a.increment_s == 6);
    CHECK(a.connection_fee == M("0.01"));
    CHECK(a.effective_from == *parse_time("2026-12-01"));
    const Rate& b = d.rates[1];
    CHECK(b.area == "UK, Mobile");
    CHECK(b.first_period_s == 0);
    CHECK(b.increment_s == 60);
    CHECK(b.first_price == M("0.09"));  // empty first price = price
    CHECK(b.period == PeriodKind::offpeak);
}

TEST_CASE("deck: a vendor's own layout through a mapping", "[billing][deck]") {
    // A typical vendor sheet: skip a title line, ';' delimiter, decimal commas.
    const std::string text =
        "Carrier X rates valid from 1 Dec\n"
        "Destination;Code;Rate/min;Billing;Date\n"
        "Germany;49;0,0150;60;2026-12-01\n"
        "Germany Mobile;4915;0,0800;1;2026-12-01\n";
    DeckFormat fmt;
    fmt.delimiter = ';';
    fmt.decimal_comma = true;
    fmt.skip_lines = 1;
    REQUIRE(parse_mapping("prefix=Code,area=Destination,price=Rate/min,increment=#4,effective_from=Date", fmt));
    DeckResult d = parse_rate_deck(text, fmt);
    REQUIRE(d.ok());
    REQUIRE(d.rates.size() == 2);
    CHECK(d.rates[1].prefix == "4915");
    CHECK(d.rates[1].price == M("0.08"));
    CHECK(d.rates[1].increment_s == 1);
    CHECK(d.rates[0].area == "Germany");
    // Headerless with numbers.
    DeckFormat nh;
    nh.header = false;
    REQUIRE(parse_mapping("prefix=1,price=2", nh));
    DeckResult e = parse_rate_deck("33,0.01\n34,0.02\n", nh);
    REQUIRE(e.ok());
    CHECK(e.rates.size() == 2);
    DeckFormat bad;
    CHECK_FALSE(parse_mapping("colour=3", bad));
    CHECK_FALSE(parse_mapping("prefix", bad));
}

TEST_CASE("deck: every kind of bad line names its line and field", "[billing][deck]") {
    const std::string h = "prefix,area,price,increment,first_period,effective_from,effective_until,type,period\n";
    struct Case {
        const char* line;
        const char* field;
        ErrorCode code;
    } cases[] = {
        {",UK,0.01,60,0,,,,", "prefix", ErrorCode::invalid_argument},          // missing prefix
        {"44a,UK,0.01,60,0,,,,", "prefix", ErrorCode::invalid_argument},       // non-digit prefix
        {"44,UK,,60,0,,,,", "price", ErrorCode::invalid_argument},             // missing price
        {"44,UK,0.0x1,60,0,,,,", "price", ErrorCode::invalid_argument},        // not a number
        {"44,UK,-0.01,60,0,,,,", "price", ErrorCode::invalid_argument},        // negative
        {"44,UK,0.0000001,60,0,,,,", "price", ErrorCode::invalid_argument},    // > 6 decimals
        {"44,UK,99999999999999,60,0,,,,", "price", ErrorCode::overflow},       // overflowing amount
        {"44,UK,0.01,0,0,,,,", "increment", ErrorCode::invalid_argument},      // increment 0
        {"44,UK,0.01,six,0,,,,", "increment", ErrorCode::invalid_argument},    // not an integer
        {"44,UK,0.01,60,-5,,,,", "first_period", ErrorCode::invalid_argument}, // negative period
        {"44,UK,0.01,60,0,2026-13-01,,,", "effective_from", ErrorCode::invalid_argument},
        {"44,UK,0.01,60,0,2026-12-01,2026-11-01,,", "effective_until", ErrorCode::invalid_argument},
        {"44,UK,0.01,60,0,,,Galactic,", "type", ErrorCode::invalid_argument},
        {"44,UK,0.01,60,0,,,,midnight", "period", ErrorCode::invalid_argument},
        {"44,\"UK,0.01,60,0,,,,", "", ErrorCode::parse_error},                 // broken quoting
    };
    for (const Case& c : cases) {
        INFO(c.line);
        const Error e = only_error(h + "33,FR,0.01,60,0,,,,\n" + c.line + "\n");
        CHECK(e.line == 3);
        CHECK(e.field == c.field);
        CHECK(e.code == c.code);
        CHECK(e.describe().find("line 3") == 0);
    }
}

TEST_CASE("deck: duplicates are found and the import is all or nothing", "[billing][deck]") {
    const std::string text =
        "prefix,price,effective_from,period\n"
        "44,0.01,,\n"
        "44,0.02,2026-12-01,\n"   // another version: fine
        "44,0.02,,offpeak\n"      // a period variant: fine
        "45,0.01,,\n"
        "44,0.03,,\n";            // duplicate of line 2
    DeckResult d = parse_rate_deck(text, DeckFormat{});
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].code == ErrorCode::duplicate);
    CHECK(d.errors[0].line == 6);
    CHECK(d.errors[0].message.find("line 2") != std::string::npos);
    CHECK(d.rates.empty());  // nothing to import
    // Several errors are all reported, capped by max_errors.
    DeckFormat fmt;
    fmt.max_errors = 2;
    DeckResult many = parse_rate_deck("prefix,price\nx,1\ny,1\nz,1\n", fmt);
    CHECK(many.error_count == 3);
    CHECK(many.errors.size() == 2);
    // Structural problems.
    CHECK(parse_rate_deck("", DeckFormat{}).errors[0].message.find("header") != std::string::npos);
    CHECK(parse_rate_deck("area,price\nUK,1\n", DeckFormat{}).errors[0].field == "prefix");
    DeckFormat m;
    REQUIRE(parse_mapping("price=Tarif", m));
    CHECK(parse_rate_deck("prefix,price\n44,1\n", m).errors[0].field == "price");
}

TEST_CASE("deck: export re-imports to the same rates", "[billing][deck]") {
    const std::string text =
        "prefix,area,type,price,first_period,first_price,increment,connection_fee,effective_from,effective_until,period\n"
        "44,\"UK, all\",National,0.0200,30,0.0300,6,0.0100,2026-12-01 00:00:00,2027-01-01 00:00:00,peak\n"
        "49,Germany,International,0.015,0,0.015,60,0,,,any\n";
    DeckResult d = parse_rate_deck(text, DeckFormat{});
    REQUIRE(d.ok());
    const std::string out = format_rate_deck(d.rates);
    DeckResult again = parse_rate_deck(out, DeckFormat{});
    REQUIRE(again.ok());
    CHECK(format_rate_deck(again.rates) == out);
    CHECK(out.find("44,\"UK, all\",National,0.0200,30,0.0300,6,0.0100,2026-12-01 00:00:00,2027-01-01 00:00:00,peak") !=
          std::string::npos);
}

TEST_CASE("deck: auto-create customer rates from vendor decks", "[billing][deck]") {
    RateTable a("vendorA"), b("vendorB");
    auto add = [](RateTable& t, const char* p, const char* price, int inc = 60) {
        Rate r;
        r.prefix = p;
        r.area = std::string("area ") + p;
        r.price = M(price);
        r.first_price = M(price);
        r.increment_s = inc;
        REQUIRE(t.add(r));
    };
    add(a, "44", "0.0100");
    add(a, "447", "0.0500", 6);
    add(b, "44", "0.0090");
    add(b, "49", "0.0123");
    AutocreateOptions o;
    o.margin_ppm = 150000;  // 15 %
    const RateTable* vendors[] = {&a, &b};
    auto c = autocreate_rates(vendors, o);
    REQUIRE(c);
    REQUIRE(c->size() == 3);
    // 44: cheapest vendor B 0.0090 / (1 - 0.15) = 0.010588... -> up to 4 dp: 0.0106
    CHECK((*c)[0].prefix == "44");
    CHECK((*c)[0].price == M("0.0106"));
    // 447: only A has it (B's 44 covers 447 at 0.0090, cheaper!) -> 0.0090/0.85 -> 0.0106,
    // and it keeps B's 60 s increment.
    CHECK((*c)[1].prefix == "447");
    CHECK((*c)[1].price == M("0.0106"));
    CHECK((*c)[1].increment_s == 60);
    // 49: 0.0123 / 0.85 = 0.0144705... -> 0.0145
    CHECK((*c)[2].price == M("0.0145"));
    // Markup mode: 0.0090 * 1.15 = 0.01035 -> up 0.0104
    o.markup = true;
    auto m = autocreate_rates(vendors, o);
    REQUIRE(m);
    CHECK((*m)[0].price == M("0.0104"));
    // Margin 100 % is impossible.
    o.markup = false;
    o.margin_ppm = 1000000;
    CHECK(autocreate_rates(vendors, o).error().field == "margin");
}

TEST_CASE("deck: negative-margin alarms", "[billing][deck]") {
    RateTable cust("retail"), vend("carrier");
    auto add = [](RateTable& t, const char* p, const char* price) {
        Rate r;
        r.prefix = p;
        r.price = M(price);
        REQUIRE(t.add(r));
    };
    add(cust, "44", "0.0200");
    add(cust, "49", "0.0100");
    add(vend, "44", "0.0100");
    add(vend, "447", "0.0500");  // mobiles cost more than the customer's 44 rate
    add(vend, "49", "0.0120");
    const RateTable* vendors[] = {&vend};
    auto alarms = negative_margin_alarms(cust, vendors, 0);
    REQUIRE(alarms.size() == 2);
    CHECK(alarms[0].prefix == "447");
    CHECK(alarms[0].customer_price == M("0.0200"));
    CHECK(alarms[0].vendor_price == M("0.0500"));
    CHECK(alarms[1].prefix == "49");
    CHECK(alarms[1].vendor == "carrier");
}

// --- issue 14: import must never be silently wrong ---------------------------------------

TEST_CASE("deck: a line with more or fewer fields than the header is an error", "[billing][deck]") {
    // A decimal comma in a ','-delimited deck would read as price 0 and increment 123.
    DeckResult d = parse_rate_deck("prefix,area,price,increment\n33,FR,0.01,60\n44,UK,0,0123,60\n"
                                   "45,DE,0.02,60,,\n46,ES,0.02\n",
                                   DeckFormat{});
    REQUIRE(d.errors.size() == 2);
    CHECK(d.errors[0].line == 3);
    CHECK(d.errors[0].describe() ==
          "line 3: 5 fields, the header has 4 (a delimiter or decimal comma inside an unquoted value?)");
    CHECK(d.errors[1].line == 5);  // line 4's trailing empty fields are harmless
    CHECK(d.errors[1].message.find("3 fields, the header has 4") == 0);
    CHECK(d.rates.empty());
    // Without a header the first data line sets the width.
    DeckFormat nh;
    nh.header = false;
    REQUIRE(parse_mapping("prefix=1,price=2", nh));
    DeckResult e = parse_rate_deck("33,0.01,60\n34,0,0125,60\n", nh);
    REQUIRE(e.errors.size() == 1);
    CHECK(e.errors[0].line == 2);
    CHECK(e.errors[0].message.find("the first line has 3") != std::string::npos);
}

TEST_CASE("deck: a zero price must be declared", "[billing][deck]") {
    const std::string text = "prefix,price,first_period,first_price\n33,0.01,0,\n44,0,0,\n45,0.01,30,0\n46,0.01,0,0\n";
    DeckResult d = parse_rate_deck(text, DeckFormat{});
    REQUIRE(d.errors.size() == 2);
    CHECK(d.errors[0].describe() == "line 3, field price: zero price (free calls) not declared as allowed");
    CHECK(d.errors[1].line == 4);
    CHECK(d.errors[1].field == "first_price");  // line 5: no first period, its price is unused
    CHECK(d.hints.zero_price);
    DeckFormat ok;
    ok.allow_zero_price = true;
    DeckResult a = parse_rate_deck(text, ok);
    REQUIRE(a.ok());
    CHECK(a.rates[1].price.micros() == 0);
}

TEST_CASE("deck: text that is not UTF-8 is refused or converted when declared", "[billing][deck][csv]") {
    const std::string latin1 = "prefix,area,price\n33,Fran\xE7" "e,0.01\n34,Espa\xF1" "a,0.01\n";
    DeckResult d = parse_rate_deck(latin1, DeckFormat{});
    REQUIRE(d.errors.size() == 2);  // every bad line, not only the first
    CHECK(d.errors[0].describe() == "line 2: invalid UTF-8 at byte 8 of the line (0xE7, file offset 25)");
    CHECK(d.errors[1].line == 3);
    CHECK(d.hints.encoding);
    DeckFormat fmt;
    fmt.encoding = TextEncoding::latin1;
    DeckResult c = parse_rate_deck(latin1, fmt);
    REQUIRE(c.ok());
    CHECK(c.rates[0].area == "Fran\xC3\xA7" "e");
    CHECK(c.rates[1].area == "Espa\xC3\xB1" "a");
    // A bad header line too.
    CHECK(parse_rate_deck("prefix,pr\xFF" "ce\n1,1\n", DeckFormat{}).errors[0].message.find("invalid UTF-8") == 0);
}

TEST_CASE("csv: UTF-8 check and latin1/cp1252 conversion", "[billing][csv]") {
    CHECK(check_utf8("plain, \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x9E"));
    for (const char* bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3", "\x80", "\xFE"}) {
        INFO(bad);
        auto r = check_utf8(std::string("ab\n") + bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().line == 2);
        CHECK(r.error().message.find("at byte 1 of the line") != std::string::npos);
        CHECK(r.error().message.find("file offset 3") != std::string::npos);
    }
    CHECK(find_invalid_utf8("ok") == std::string_view::npos);
    CHECK(*to_utf8("\xE9\x80", TextEncoding::latin1) == "\xC3\xA9\xC2\x80");
    CHECK(*to_utf8("\x80\x93\x9F", TextEncoding::cp1252) == "\xE2\x82\xAC\xE2\x80\x9C\xC5\xB8");
    auto undefined = to_utf8("x\x81", TextEncoding::cp1252);
    REQUIRE_FALSE(undefined);
    CHECK(undefined.error().message.find("byte undefined in cp1252 at byte 2") == 0);
    CHECK_FALSE(to_utf8("\xE9", TextEncoding::utf8));
    CHECK(*parse_encoding("ISO-8859-1") == TextEncoding::latin1);
    CHECK(*parse_encoding("Windows-1252") == TextEncoding::cp1252);
    CHECK(*parse_encoding("utf8") == TextEncoding::utf8);
    CHECK(parse_encoding("ebcdic").error().field == "encoding");
}

TEST_CASE("deck: errors name the column as the file writes it", "[billing][deck]") {
    DeckFormat fmt;
    REQUIRE(parse_mapping("prefix=Code,price=Rate,effective_from=From,effective_until=Until", fmt));
    DeckResult d = parse_rate_deck("Code,Rate,From,Until\n44,abc,,\n45,0.01,2026-12-01,2026-11-01\n4x,0.01,,\n"
                                   "46,0.01,,\n46,0.01,,\n",
                                   fmt);
    REQUIRE(d.errors.size() == 4);
    CHECK(d.errors[0].field == "Rate");
    CHECK(d.errors[1].field == "Until");  // validate() names effective_until: mapped back
    CHECK(d.errors[2].field == "Code");
    CHECK(d.errors[3].field == "Code");
    CHECK(d.errors[3].code == ErrorCode::duplicate);
    DeckFormat nh;
    nh.header = false;
    REQUIRE(parse_mapping("prefix=1,price=#2", nh));
    CHECK(parse_rate_deck("44,x\n", nh).errors[0].field == "#2");
}

TEST_CASE("deck: a wrong delimiter gets a hint; a header alone is no deck", "[billing][deck]") {
    DeckResult d = parse_rate_deck("Code;Destination;Rate\n44;UK;0.01\n", DeckFormat{});
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].field == "prefix");
    CHECK(d.errors[0].message.find("looks delimited by ';', not ','") != std::string::npos);
    CHECK(d.hints.delimiter == ';');
    DeckFormat semi;
    semi.delimiter = ';';
    CHECK(parse_rate_deck("prefix\tprice\n44\t0.01\n", semi).hints.delimiter == '\t');
    CHECK(parse_rate_deck("area,cost\nUK,0.01\n", DeckFormat{}).hints.delimiter == 0);  // no better guess
    DeckResult h = parse_rate_deck("prefix,price\n\n", DeckFormat{});
    REQUIRE(h.errors.size() == 1);
    CHECK(h.errors[0].message == "no rates: the deck has no data lines");
    CHECK_FALSE(h.ok());
}

TEST_CASE("deck: a billing column 'first/increment'", "[billing][deck]") {
    DeckResult d = parse_rate_deck("prefix,price,billing\n44,0.01,30/6\n49,0.02,60/60\n1,0.03,1/1\n7,0.04,6\n",
                                   DeckFormat{});
    REQUIRE(d.ok());
    CHECK(d.rates[0].first_period_s == 30);
    CHECK(d.rates[0].increment_s == 6);
    CHECK(d.rates[0].first_price == d.rates[0].price);
    CHECK(d.rates[1].first_period_s == 60);
    CHECK(d.rates[1].increment_s == 60);
    CHECK(d.rates[2].first_period_s == 1);
    CHECK(d.rates[2].increment_s == 1);
    CHECK(d.rates[3].first_period_s == 0);
    CHECK(d.rates[3].increment_s == 6);
    DeckResult bad = parse_rate_deck("prefix,price,increment,first_period\n44,0.01,30/0,\n45,0.01,/6,\n"
                                     "46,0.01,30/6,60\n47,0.01,30/6,30\n",
                                     DeckFormat{});
    REQUIRE(bad.errors.size() == 3);
    CHECK(bad.errors[0].field == "increment");
    CHECK(bad.errors[1].line == 3);
    CHECK(bad.errors[2].message.find("contradicts first_period 60") != std::string::npos);
}

TEST_CASE("deck: dates in a declared format (VOS3000 dateFormat)", "[billing][deck]") {
    const Timestamp dec1 = *parse_time("2026-12-01");
    CHECK(*parse_time_format("01/12/2026", "dd/MM/yyyy") == dec1);
    CHECK(*parse_time_format("1/12/2026", "dd/MM/yyyy") == dec1);
    CHECK(*parse_time_format("12/01/2026", "MM/dd/yyyy") == dec1);
    CHECK(*parse_time_format("20261201", "yyyyMMdd") == dec1);
    CHECK(*parse_time_format("01.12.2026 13:05", "dd.MM.yyyy HH:mm") == *parse_time("2026-12-01 13:05"));
    CHECK(*parse_time_format("2026-12-01", "") == dec1);
    CHECK_FALSE(parse_time_format("2026121", "yyyyMMdd"));
    CHECK_FALSE(parse_time_format("31/02/2026", "dd/MM/yyyy"));
    CHECK_FALSE(parse_time_format("01/12/2026 x", "dd/MM/yyyy"));
    CHECK_FALSE(parse_time_format("2026-12-01", "dd/MM/yyyy"));
    CHECK(check_time_format("dd/MM/yyyy"));
    CHECK_FALSE(check_time_format("dd/MM/yy"));
    CHECK_FALSE(check_time_format("MM/yyyy"));
    DeckFormat fmt;
    fmt.date_format = "dd/MM/yyyy";
    DeckResult d = parse_rate_deck("prefix,price,effectiveDate\n44,0.01,01/12/2026\n45,0.01,2026-12-01\n", fmt);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].field == "effectiveDate");
    CHECK(d.errors[0].message.find("expected dd/MM/yyyy") != std::string::npos);
}

TEST_CASE("deck: a template's mapping is written back as parse_mapping reads it", "[billing][deck]") {
    DeckFormat fmt;
    REQUIRE(parse_mapping(R"(prefix=areaCode,"price=Rate, EUR",increment=#5)", fmt));
    const std::string m = format_mapping(fmt);
    DeckFormat again;
    REQUIRE(parse_mapping(m, again));
    CHECK(format_mapping(again) == m);
    CHECK(again.columns[static_cast<int>(DeckField::price)] == "Rate, EUR");
    CHECK(again.columns[static_cast<int>(DeckField::increment)] == "#5");
    CHECK(format_mapping(DeckFormat{}).empty());
}
