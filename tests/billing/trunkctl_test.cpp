// End-to-end test of tools/trunkctl: runs the built binary (fork + exec) on a temporary
// SQLite file and checks outputs and exit codes (0 ok, 1 runtime/data error, 2 usage).
// The binary is $TRUNKCTL (set by meson), else ../../tools/trunkctl/trunkctl relative to
// this test executable.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string trunkctl_path() {
    if (const char* p = std::getenv("TRUNKCTL"); p != nullptr && *p != '\0') return p;
    return (fs::read_symlink("/proc/self/exe").parent_path() / "../../tools/trunkctl/trunkctl").string();
}

struct Run {
    int rc = -1;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct Sandbox {
    fs::path dir;
    Sandbox() {
        char tmpl[] = "/tmp/trunkctl_test.XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~Sandbox() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    void write(const char* name, const std::string& text) const { std::ofstream(dir / name) << text; }

    // Runs trunkctl with args in `dir` (stdout/stderr captured through files).
    Run run(std::vector<std::string> args) const {
        const std::string exe = trunkctl_path();
        const fs::path out = dir / ".out", err = dir / ".err";
        const pid_t pid = fork();
        if (pid == 0) {
            if (chdir(dir.c_str()) != 0) _exit(127);
            const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(o, 1);
            dup2(e, 2);
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(exe.c_str()));
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(exe.c_str(), argv.data());
            _exit(127);
        }
        Run r;
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.rc = WEXITSTATUS(status);
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }
};

// A Sandbox with a database holding the UK deck most billing tests start from: vendor group
// carrier (44 at 0.0100 by 6 s), customer group retail (44 at 0.0125 by 6 s), the customer
// accounts given (balance 10 each) on retail and the vendor V1 on carrier. ctl() runs
// trunkctl on that database.
struct UkDeck : Sandbox {
    std::string db = (dir / "t.db").string();

    explicit UkDeck(std::initializer_list<const char*> customers) {
        write("carrier.csv", "prefix,price,increment\n44,0.0100,6\n");
        write("retail.csv", "prefix,price,increment\n44,0.0125,6\n");
        REQUIRE(ctl({"rates", "import", "carrier", "carrier.csv"}).rc == 0);
        REQUIRE(ctl({"rates", "import", "retail", "retail.csv"}).rc == 0);
        for (const char* c : customers)
            REQUIRE(ctl({"accounts", "add", c, "--kind", "customer", "--rate-group", "retail", "--balance", "10"}).rc == 0);
        REQUIRE(ctl({"accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);
    }
    Run ctl(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--db", db});
        return run(std::move(args));
    }
};

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

}  // namespace

TEST_CASE("trunkctl: --help everywhere, usage errors exit 2", "[billing][trunkctl]") {
    REQUIRE(fs::exists(trunkctl_path()));
    Sandbox sb;
    for (std::vector<std::string> args :
         {std::vector<std::string>{"--help"}, {"rates", "--help"}, {"rates", "import", "--help"},
          {"rates", "export", "--help"}, {"rates", "autocreate", "--help"}, {"rates", "template", "--help"},
          {"rates", "template", "add", "--help"}, {"rates", "group", "--help"}, {"accounts", "--help"},
          {"accounts", "add", "--help"}, {"accounts", "list", "--help"}, {"accounts", "show", "--help"},
          {"accounts", "topup", "--help"}, {"report", "--help"}, {"report", "revenue", "--help"},
          {"reconcile", "--help"}, {"cdr", "--help"}, {"cdr", "import", "--help"}, {"audit", "--help"}}) {
        INFO(args[0] << " " << (args.size() > 1 ? args[1] : ""));
        Run r = sb.run(args);
        CHECK(r.rc == 0);
        CHECK(contains(r.out, "usage"));
    }
    CHECK_FALSE(fs::exists(sb.dir / "var"));  // --help touches no database
    for (std::vector<std::string> args :
         {std::vector<std::string>{}, {"frobnicate"}, {"rates"}, {"rates", "import", "g"},
          {"rates", "import", "g", "f", "--bogus"}, {"rates", "import", "g", "f", "--encoding", "ebcdic"},
          {"rates", "template", "add"}, {"rates", "template", "frob"}, {"accounts", "add", "X"}, {"report", "nope"},
          {"report", "revenue", "--format", "xml"}, {"reconcile", "f.csv"}, {"--db"}}) {
        Run r = sb.run(args);
        INFO(r.err);
        CHECK(r.rc == 2);
        CHECK(contains(r.err, "usage"));
    }
}

TEST_CASE("trunkctl: rates, accounts, CDRs, reports, audit and reconcile end to end", "[billing][trunkctl]") {
    Sandbox sb;
    // Default database path var/trunkline.db, parent directory created.
    sb.write("vendor.csv",
             "Carrier X price list\n"
             "Code;Destination;Rate\n"
             "44;UK;0,0100\n"
             "447;UK Mobile;0,0500\n"
             "49;Germany;0,0120\n");
    Run r = sb.run({"rates", "import", "carrier", "vendor.csv", "--delimiter", ";", "--decimal-comma", "--skip", "1",
                    "--map", "prefix=Code,area=Destination,price=Rate", "--increment", "6"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(fs::exists(sb.dir / "var/trunkline.db"));
    const std::string db = (sb.dir / "t.db").string();
    REQUIRE(sb.run({"--db", db, "rates", "import", "carrier", "vendor.csv", "--delimiter", ";", "--decimal-comma",
                    "--skip", "1", "--map", "prefix=Code,area=Destination,price=Rate", "--increment", "6"})
                .rc == 0);

    // A bad deck: every bad line named, exit 1, nothing imported.
    sb.write("bad.csv", "prefix,price,increment\n33,0.01,60\n3x,0.01,60\n34,abc,60\n33,0.02,60\n35,0.01,0\n");
    r = sb.run({"--db", db, "rates", "import", "bad", "bad.csv"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 3, field prefix"));
    CHECK(contains(r.err, "line 4, field price"));
    CHECK(contains(r.err, "line 5, field prefix: duplicate prefix 33 (first on line 2)"));
    CHECK(contains(r.err, "line 6, field increment"));
    CHECK(sb.run({"--db", db, "rates", "export", "bad"}).rc == 1);  // nothing was imported

    // Customer rates from the vendor's with a 20 % margin: 0.0100 / 0.8 = 0.0125, etc.
    REQUIRE(sb.run({"--db", db, "rates", "autocreate", "retail", "--from", "carrier", "--margin", "20%"}).rc == 0);
    r = sb.run({"--db", db, "rates", "export", "retail"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "44,UK,International,0.0125,0,0.0125,6,0.0000,,,any\n"));
    CHECK(contains(r.out, "447,UK Mobile,International,0.0625,"));
    CHECK(contains(r.out, "49,Germany,International,0.0150,"));
    // Export re-imports.
    sb.write("retail.csv", r.out);
    REQUIRE(sb.run({"--db", db, "rates", "import", "retail2", "retail.csv"}).rc == 0);
    CHECK(sb.run({"--db", db, "rates", "export", "retail2"}).out == r.out);

    REQUIRE(sb.run({"--db", db, "accounts", "add", "C1", "--kind", "customer", "--balance", "10", "--credit", "5",
                    "--rate-group", "retail", "--name", "Acme"})
                .rc == 0);
    REQUIRE(sb.run({"--db", db, "accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);
    r = sb.run({"--db", db, "accounts", "add", "C1", "--kind", "customer"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "already exists"));
    r = sb.run({"--db", db, "accounts", "add", "C9", "--kind", "customer", "--balance", "1.2.3"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field balance"));
    r = sb.run({"--db", db, "accounts", "topup", "C1", "2.5", "--memo", "cash"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "C1 balance 12.50"));
    CHECK(sb.run({"--db", db, "accounts", "topup", "nobody", "1"}).rc == 1);

    // Calls: 107 s to 44 (6/6 -> 108 s: 0.0125*108/60 = 0.0225; vendor 0.0100*108/60 = 0.0180),
    // 37 s to 447 (42 s: 0.0625*42/60 = 0.04375 -> up 0.0438; vendor 0.0500*42/60 = 0.0350),
    // an unanswered call to 49 (free).
    const std::string calls =
        "caller,callee,customer,customer_gateway,vendor,vendor_gateway,setup,answer,end,sip_code,end_reason,hangup,call_id_in\n"
        "1555,442071234567,C1,gwA,V1,rgw1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:01:52,200,Normal,caller,a1\n"
        "1555,447700900123,C1,gwA,V1,rgw1,2026-11-26 10:05:00,2026-11-26 10:05:03,2026-11-26 10:05:40,200,Normal,callee,a2\n"
        "1555,4930123,C1,gwB,V1,rgw2,2026-11-26 11:00:00,,2026-11-26 11:00:20,486,Busy,server,a3\n";
    sb.write("calls.csv", calls);
    // Bad call records first: nothing stored.
    sb.write("badcalls.csv",
             "caller,callee,customer,vendor,setup,answer,end\n"
             "1,44,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:01,2026-11-26 10:00:00\n"
             "1,44,NOPE,V1,2026-11-26 10:00:00,2026-11-26 10:00:01,2026-11-26 10:00:09\n"
             "1,33,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:01,2026-11-26 10:00:09\n"
             "1,44,C1,V1,noon,,2026-11-26 10:00:09\n"
             "1,44,C1,V1,2026-11-26 10:00:00,,2026-11-26 10:00:09,Caf\xE9\n");
    r = sb.run({"--db", db, "cdr", "import", "badcalls.csv"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2, field end:"));
    CHECK(contains(r.err, "line 3, field customer"));
    CHECK(contains(r.err, "line 4, field callee"));
    CHECK(contains(r.err, "line 5, field setup"));
    CHECK(contains(r.err, "line 6: invalid UTF-8 at byte 56 of the line"));
    r = sb.run({"--db", db, "cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "stored 3 CDRs, revenue 0.0663"));

    r = sb.run({"--db", db, "report", "revenue", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "C1,3,2,66.6666%,72,144,150,150,0.0663,0.0530,0.0133,20.0603%\n"));
    r = sb.run({"--db", db, "report", "clearing", "--by", "gateway", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "V1,rgw1,2,2,100.00%,72,144,150,150,0.0663,0.0530,0.0133,20.0603%\n"));
    r = sb.run({"--db", db, "report", "settlement", "--from", "2026-11-26", "--until", "2026-11-27", "--format", "json"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "\"revenue\":\"0.0663\",\"cost\":\"0.0530\",\"profit\":\"0.0133\""));
    r = sb.run({"--db", db, "report", "settlement", "--from", "2026-11-27"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "TOTAL"));
    CHECK(sb.run({"--db", db, "report", "asr"}).rc == 0);
    CHECK(sb.run({"--db", db, "report", "gateway"}).rc == 0);
    CHECK(sb.run({"--db", db, "report", "profit", "--by", "customer"}).rc == 0);
    r = sb.run({"--db", db, "report", "breakeven", "--fixed-costs", "100", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "100.00,0.0133,150,0.00532,18797"));  // 100 / (0.0133 / 2.5 min)
    r = sb.run({"--db", db, "report", "revenue", "--from", "yesterday"});
    CHECK(r.rc == 2);

    r = sb.run({"--db", db, "accounts", "show", "C1"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "balance:      12.4337"));  // 12.50 - 0.0663
    r = sb.run({"--db", db, "accounts", "list", "--format", "csv"});
    CHECK(contains(r.out, "V1,,vendor,0.053,0.00,carrier,,,\n"));  // no agent, not an agent
    CHECK(sb.run({"--db", db, "audit"}).out == "ok\n");

    sb.write("vendor_cdrs.csv",
             "callee,start,duration,amount\n"
             "442071234567,2026-11-26 10:00:06,110,0.0190\n"
             "4912345,2026-11-26 12:00:00,30,0.01\n");
    r = sb.run({"--db", db, "reconcile", "vendor_cdrs.csv", "--vendor", "V1", "--format", "json"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "\"matched\":1"));
    CHECK(contains(r.out, "\"duration_diff_s\":3,\"amount_diff\":\"0.001\""));
    CHECK(contains(r.out, "\"amount_deviation\":\"-0.024\""));  // 0.029 - 0.053
    r = sb.run({"--db", db, "reconcile", "vendor_cdrs.csv", "--vendor", "NOPE"});
    CHECK(r.rc == 1);

    r = sb.run({"--db", db, "rates", "alarms", "retail", "--vendors", "carrier"});
    CHECK(r.rc == 0);
    r = sb.run({"--db", db, "cdr", "export", "--hourly", "cdr"});
    REQUIRE(r.rc == 0);
    CHECK(fs::exists(sb.dir / "cdr/2026112610.txt"));
    CHECK(fs::exists(sb.dir / "cdr/2026112611.txt"));
    // VOS3000 positions: 5 holdTime = talk time (107 s, not setup -> end 112 s), 7
    // endDirection, 16 calleeBilling 0 (the caller pays), 17 billingMode 1 (gateway ID).
    CHECK(slurp(sb.dir / "cdr/2026112610.txt") ==
          "1555|442071234567|2026-11-26 10:00:05|2026-11-26 10:01:52|107|Normal|0|gwA|rgw1|442071234567|C1|V1|"
          "0.0225|0.0180|44|0|1|UK|200|a1\n"
          "1555|447700900123|2026-11-26 10:05:03|2026-11-26 10:05:40|37|Normal|1|gwA|rgw1|447700900123|C1|V1|"
          "0.0438|0.0350|447|0|1|UK Mobile|200|a2\n");
    r = sb.run({"--db", db, "cdr", "export"});
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);
    // duration_s is talk time (VOS3000 holdTime), hold_s setup -> end; rate_deviation =
    // customer_price - vendor_price per minute.
    CHECK(contains(r.out, ",duration_s,hold_s,"));
    CHECK(contains(r.out, ",customer_price,vendor_price,rate_deviation,charge,"));
    CHECK(contains(r.out, ",107,112,200,Normal,caller,44,UK,International,44,108,108,0.0125,0.0100,0.0025,0.0225,"));
    CHECK(contains(r.out, ",0.0625,0.0500,0.0125,0.0438,"));

    // Profit reports: the lowest and highest rate deviation of each row's answered calls.
    r = sb.run({"--db", db, "report", "profit", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, ",profit,margin,rate_deviation_min,rate_deviation_max\n"));
    CHECK(contains(r.out, "UK,44,1,1,100.00%,107,107,108,108,0.0225,0.0180,0.0045,20.00%,0.0025,0.0025\n"));
    CHECK(contains(r.out, "Germany,49,1,0,0.00%,0,0,0,0,0.0000,0.0000,0.0000,0.00%,,\n"));  // unanswered
    CHECK(contains(r.out, "TOTAL,,3,2,66.6666%,72,144,150,150,0.0663,0.0530,0.0133,20.0603%,0.0025,0.0125\n"));
    r = sb.run({"--db", db, "report", "profit", "--by", "customer", "--format", "json"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "\"margin\":\"20.0603%\",\"rate_deviation_min\":\"0.0025\",\"rate_deviation_max\":\"0.0125\"}"));
    CHECK_FALSE(contains(sb.run({"--db", db, "report", "revenue", "--format", "csv"}).out, "rate_deviation"));

    // Filters by customer, vendor and time; JSON.
    r = sb.run({"--db", db, "cdr", "export", "--customer", "C1", "--vendor", "V1", "--from", "2026-11-26 10:02",
                "--until", "2026-11-26 11:00", "--json"});
    REQUIRE(r.rc == 0);
    CHECK(r.out.front() == '[');
    CHECK(std::count(r.out.begin(), r.out.end(), '{') == 1);  // only the call ending at 10:05:40
    CHECK(contains(r.out, "\"callee\":\"447700900123\""));
    CHECK(contains(r.out, "\"charge\":\"0.0438\""));
    CHECK(contains(r.out, "\"vendor_price\":\"0.0500\",\"rate_deviation\":\"0.0125\",\"charge\":"));
    CHECK(contains(r.out, "\"answer_time\":\"2026-11-26 10:05:03\""));
    r = sb.run({"--db", db, "cdr", "export", "--format", "json", "--from", "2026-11-26 11:00"});
    CHECK(contains(r.out, "\"answer_time\":null"));
    CHECK(contains(r.out, "\"sip_code\":486"));
    r = sb.run({"--db", db, "cdr", "export", "--customer", "V1"});  // V1 is no customer of any CDR
    REQUIRE(r.rc == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // the header only
    CHECK(sb.run({"--db", db, "cdr", "export", "--json"}).out ==
          sb.run({"--db", db, "cdr", "export", "--format", "json"}).out);
    r = sb.run({"--db", db, "cdr", "export", "--customer", "NOPE"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "unknown account 'NOPE'"));
    CHECK(sb.run({"--db", db, "cdr", "export", "--format", "xml"}).rc == 2);
    r = sb.run({"--db", db, "cdr", "export", "--vendor", "V1", "--hourly", "cdr_v1", "--until", "2026-11-26 11:00"});
    REQUIRE(r.rc == 0);
    CHECK(fs::exists(sb.dir / "cdr_v1/2026112610.txt"));
    CHECK_FALSE(fs::exists(sb.dir / "cdr_v1/2026112611.txt"));
}

// Issue 14, "Import must never be silently wrong": every bad deck is refused whole, with the
// line and the CSV column as written in the file; nothing is stored.
TEST_CASE("trunkctl: bad decks are refused whole, naming line and column", "[billing][trunkctl]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    auto import = [&](const std::string& group, const std::string& deck, std::vector<std::string> extra = {}) {
        sb.write("deck.csv", deck);
        std::vector<std::string> args{"--db", db, "rates", "import", group, "deck.csv"};
        args.insert(args.end(), extra.begin(), extra.end());
        return sb.run(args);
    };
    auto stored = [&](const std::string& group) { return sb.run({"--db", db, "rates", "export", group}).rc == 0; };

    // A decimal comma in a comma-separated deck: 5 fields under a 4-column header.
    Run r = import("g", "prefix,area,price,increment\n33,FR,0.01,60\n44,UK,0,0123,60\n34,ES,0.02,60,\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "deck.csv: line 3: 5 fields, the header has 4"));
    CHECK_FALSE(contains(r.err, "line 4"));  // a trailing empty field is harmless
    CHECK(contains(r.err, "nothing imported"));
    CHECK_FALSE(stored("g"));
    r = import("g", "prefix,area,price,increment\n33,FR,0.01\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2: 3 fields, the header has 4"));

    // A zero price only with --allow-zero-price.
    r = import("g", "prefix,price\n33,0.01\n44,0.0000\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 3, field price: zero price"));
    CHECK(contains(r.err, "--allow-zero-price"));
    CHECK_FALSE(stored("g"));
    REQUIRE(import("g", "prefix,price\n33,0.01\n44,0.0000\n", {"--allow-zero-price"}).rc == 0);

    // Latin-1 text is refused with line and byte offset, or converted when declared.
    r = import("enc", "prefix,area,price\n33,Fran\xE7" "e,0.01\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2: invalid UTF-8 at byte 8 of the line (0xE7, file offset 25)"));
    CHECK(contains(r.err, "--encoding"));
    CHECK_FALSE(stored("enc"));
    REQUIRE(import("enc", "prefix,area,price\n33,Fran\xE7" "e,0.01\n", {"--encoding", "latin1"}).rc == 0);
    CHECK(contains(sb.run({"--db", db, "rates", "export", "enc"}).out, "33,Fran\xC3\xA7" "e,"));
    REQUIRE(import("enc2", "prefix,area,price\n33,Euro \x80 zone,0.01\n", {"--encoding", "cp1252"}).rc == 0);
    CHECK(contains(sb.run({"--db", db, "rates", "export", "enc2"}).out, "33,Euro \xE2\x82\xAC zone,"));
    CHECK(import("enc3", "prefix,price\n33,0.01\n", {"--encoding", "ebcdic"}).rc == 2);

    // A wrong delimiter gets a hint; a mapped column is named as in the file.
    r = import("d", "Code;Rate\n44;0.01\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "no column for required field"));
    CHECK(contains(r.err, "try --delimiter ';'"));
    r = import("d", "Code,Rate\n44,abc\n", {"--map", "prefix=Code,price=Rate"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2, field Rate:"));

    // Only a header: an error, not "imported 0 rates".
    r = import("h", "prefix,price\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "no rates"));

    // "first/increment" billing column.
    REQUIRE(import("b", "prefix,price,billing\n44,0.01,30/6\n49,0.02,60/60\n1,0.03,1/1\n").rc == 0);
    r = sb.run({"--db", db, "rates", "export", "b"});
    CHECK(contains(r.out, "44,,International,0.0100,30,0.0100,6,"));
    CHECK(contains(r.out, "49,,International,0.0200,60,0.0200,60,"));
    CHECK(contains(r.out, "1,,International,0.0300,1,0.0300,1,"));
    r = import("b2", "prefix,price,billing\n44,0.01,30/0\n45,0.01,x/6\n");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2, field billing"));
    CHECK(contains(r.err, "line 3, field billing"));
}

TEST_CASE("trunkctl: unknown rate groups are refused unless created", "[billing][trunkctl]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    Run r = sb.run({"--db", db, "accounts", "add", "C1", "--kind", "customer", "--rate-group", "NO_SUCH"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "unknown rate group 'NO_SUCH'"));
    CHECK(sb.run({"--db", db, "accounts", "show", "C1"}).rc == 1);  // not added
    REQUIRE(sb.run({"--db", db, "accounts", "add", "C1", "--kind", "customer"}).rc == 0);
    r = sb.run({"--db", db, "accounts", "private", "C1", "NO_SUCH"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "unknown rate group 'NO_SUCH'"));
    r = sb.run({"--db", db, "accounts", "phone", "1555", "NO_SUCH"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "unknown rate group 'NO_SUCH'"));
    // Created explicitly (empty), or by an import.
    REQUIRE(sb.run({"--db", db, "rates", "group", "add", "NEW"}).rc == 0);
    CHECK(sb.run({"--db", db, "rates", "group", "add", "NEW"}).rc == 1);  // already exists
    CHECK(sb.run({"--db", db, "accounts", "private", "C1", "NEW"}).rc == 0);
    CHECK(sb.run({"--db", db, "accounts", "private", "C1", ""}).rc == 0);  // removes it
    sb.write("d.csv", "prefix,price\n44,0.01\n");
    REQUIRE(sb.run({"--db", db, "rates", "import", "retail", "d.csv"}).rc == 0);
    CHECK(sb.run({"--db", db, "accounts", "add", "C2", "--kind", "customer", "--rate-group", "retail"}).rc == 0);
    CHECK(sb.run({"--db", db, "accounts", "phone", "1555", "retail"}).rc == 0);
    // rates list: a table with a header, empty groups included.
    r = sb.run({"--db", db, "rates", "list"});
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "group   rates  accounts\n"
          "NEW         0         0\n"
          "retail      1         1\n");
    r = sb.run({"--db", db, "rates", "list", "--json"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "[{\"group\":\"NEW\",\"rates\":0,\"accounts\":0},{\"group\":\"retail\",\"rates\":1,\"accounts\":1}]\n");
    CHECK(sb.run({"--db", db, "rates", "list", "--format", "json"}).out == r.out);
    CHECK(sb.run({"--db", db, "rates", "list", "--format", "csv"}).out == "group,rates,accounts\nNEW,0,0\nretail,1,1\n");
    CHECK(sb.run({"--db", db, "rates", "list", "--format", "xml"}).rc == 2);
    CHECK(sb.run({"--db", db, "rates", "list", "extra"}).rc == 2);
}

TEST_CASE("trunkctl: named import templates (VOS3000 feerate_template.conf)", "[billing][trunkctl]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    Run r = sb.run({"--db", db, "rates", "template", "add", "vos", "--map",
                    "prefix=areaCode,area=areaName,price=newPrice,effective_from=effectiveDate", "--delimiter", ";",
                    "--decimal-comma", "--date-format", "dd/MM/yyyy", "--first-line", "2", "--increment", "6"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(sb.run({"--db", db, "rates", "template", "add", "vos", "--delimiter", ";"}).rc == 1);  // exists
    r = sb.run({"--db", db, "rates", "template", "list"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "vos"));
    CHECK(contains(r.out, "prefix=areaCode"));
    CHECK(contains(r.out, "dd/MM/yyyy"));
    sb.write("v.csv",
             "Carrier Y price list\n"
             "areaCode;areaName;newPrice;effectiveDate\n"
             "44;UK;0,0100;01/12/2026\n"
             "49;Germany;0,0200;15/12/2026\n");
    r = sb.run({"--db", db, "rates", "import", "carrierY", "v.csv", "--template", "vos"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    r = sb.run({"--db", db, "rates", "export", "carrierY"});
    CHECK(contains(r.out, "44,UK,International,0.0100,0,0.0100,6,0.0000,2026-12-01 00:00:00,,any\n"));
    CHECK(contains(r.out, "49,Germany,International,0.0200,0,0.0200,6,0.0000,2026-12-15 00:00:00,,any\n"));
    // A date in another format names the line and the column.
    sb.write("v2.csv", "title\nareaCode;areaName;newPrice;effectiveDate\n44;UK;0,01;2026-12-01\n");
    r = sb.run({"--db", db, "rates", "import", "carrierZ", "v2.csv", "--template", "vos"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 3, field effectiveDate"));
    CHECK(contains(r.err, "dd/MM/yyyy"));
    // Options on the command line override the template's.
    sb.write("v3.csv", "areaCode;areaName;newPrice;effectiveDate\n33;France;0,0300;01/12/2026\n");
    REQUIRE(sb.run({"--db", db, "rates", "import", "carrierF", "v3.csv", "--template", "vos", "--first-line", "1"})
                .rc == 0);
    REQUIRE(sb.run({"--db", db, "rates", "template", "remove", "vos"}).rc == 0);
    r = sb.run({"--db", db, "rates", "import", "carrierY", "v.csv", "--template", "vos"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "unknown template 'vos'"));
    CHECK(sb.run({"--db", db, "rates", "template", "remove", "vos"}).rc == 1);
}

TEST_CASE("trunkctl: billing settings decide the money of imported CDRs", "[billing][trunkctl]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    sb.write("rates.csv", "prefix,price,increment\n44,0.0600,1\n");
    REQUIRE(sb.run({"--db", db, "rates", "import", "retail", "rates.csv"}).rc == 0);
    REQUIRE(sb.run({"--db", db, "rates", "import", "carrier", "rates.csv"}).rc == 0);
    REQUIRE(sb.run({"--db", db, "accounts", "add", "C1", "--kind", "customer", "--balance", "1",
                    "--rate-group", "retail"}).rc == 0);
    REQUIRE(sb.run({"--db", db, "accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);

    Run r = sb.run({"--db", db, "billing", "show"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "billing.hold_time_precision_ms  50      SERVER_BILLING_HOLD_TIME_PRECISION\n"));
    CHECK(contains(r.out, "currency.precision              4       SERVER_BILLING_FEE_PRECISTION\n"));
    r = sb.run({"--db", db, "billing", "set", "billing.hold_time_precision_ms", "0"});
    CHECK(r.rc == 2);
    CHECK(r.err == "trunkctl billing: billing.hold_time_precision_ms must be an integer 1..1000 (ms), not '0'\n");
    r = sb.run({"--db", db, "billing", "set", "billing.free", "3"});
    CHECK(r.rc == 2);
    CHECK(contains(r.err, "unknown setting 'billing.free' (known: "));
    REQUIRE(sb.run({"--db", db, "billing", "set", "billing.hold_time_precision_ms", "50"}).rc == 0);
    REQUIRE(sb.run({"--db", db, "billing", "set", "billing.free_time_s", "5"}).rc == 0);
    r = sb.run({"--db", db, "billing", "show", "--format", "json"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "{\"key\":\"billing.free_time_s\",\"value\":\"5\",\"vos3000\":\"SERVER_BILLING_FREE_TIME\"}"));

    // 60.049 s -> 60 s (0.0600); 60.050 s -> 61 s (0.0610); 4.9 s -> 5 s, free.
    sb.write("calls.csv",
             "caller,callee,customer,vendor,setup,answer,end\n"
             "1,4420,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:01.000,2026-11-26 10:01:01.049\n"
             "1,4420,C1,V1,2026-11-26 10:10:00,2026-11-26 10:10:01.000,2026-11-26 10:11:01.050\n"
             "1,4420,C1,V1,2026-11-26 10:20:00,2026-11-26 10:20:01.100,2026-11-26 10:20:06.000\n");
    r = sb.run({"--db", db, "cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out == "stored 3 CDRs, revenue 0.1210\n");
    r = sb.run({"--db", db, "cdr", "export", "--json"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "\"charge\":\"0.0600\""));
    CHECK(contains(r.out, "\"charge\":\"0.0610\""));
    CHECK(contains(r.out, "\"charge\":\"0.0000\""));
    sb.write("bad.csv", "caller,callee,customer,vendor,setup,answer,end\n"
                        "1,4420,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:01.0001,2026-11-26 10:01:01\n");
    r = sb.run({"--db", db, "cdr", "import", "bad.csv"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2, field answer: bad fraction of a second (1 to 3 digits after '.')"));

    // max_call_duration: balance 1 - 0.121 = 0.879 at 0.06/min 1/1 -> 879 s.
    r = sb.run({"--db", db, "accounts", "max-duration", "C1", "4420", "--at", "2026-11-26 12:00:00"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out == "max_call_duration 879 s (C1 to 4420 at 2026-11-26 12:00:00 UTC)\n");
    r = sb.run({"--db", db, "accounts", "max-duration", "C1", "33"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "no rate for 33 in force at"));
    r = sb.run({"--db", db, "accounts", "max-duration", "NOPE", "4420"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "unknown account 'NOPE'"));
    CHECK(sb.run({"--db", db, "accounts", "max-duration", "C1"}).rc == 2);

    // The work calendar: an IANA zone from the system tzdata.
    REQUIRE(sb.run({"--db", db, "billing", "set", "calendar.timezone", "Europe/London"}).rc == 0);
    REQUIRE(sb.run({"--db", db, "billing", "set", "calendar.holidays", "2026-12-25,2026-12-28"}).rc == 0);
    r = sb.run({"--db", db, "billing", "set", "calendar.timezone", "Mars/Base"});
    CHECK(r.rc == 2);
    CHECK(r.err == "trunkctl billing: unknown time zone 'Mars/Base' (no /usr/share/zoneinfo/Mars/Base)\n");
    r = sb.run({"--db", db, "billing", "set", "calendar.timezone", "../etc/passwd"});
    CHECK(r.rc == 2);
    CHECK(contains(r.err, "calendar.timezone must be UTC, UTC+HH:MM, UTC-HH:MM or an IANA name"));
    r = sb.run({"--db", db, "billing", "show", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "calendar.timezone,Europe/London,Work Calendar\n"));
    CHECK(contains(r.out, "calendar.holidays,\"2026-12-25,2026-12-28\",Work Calendar\n"));
}

// Issue 14: a credit limit crossed by imported CDRs is reported (the CDRs are real calls, so
// they are stored and the exit code stays 0): the account and by how much.
TEST_CASE("trunkctl: cdr import reports accounts it takes below their credit limit", "[billing][trunkctl]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    sb.write("carrier.csv", "prefix,price,increment\n44,0.0100,6\n447,0.0500,6\n");
    sb.write("retail.csv", "prefix,price,increment\n44,0.0125,6\n447,0.0625,6\n");
    REQUIRE(sb.run({"--db", db, "rates", "import", "carrier", "carrier.csv"}).rc == 0);
    REQUIRE(sb.run({"--db", db, "rates", "import", "retail", "retail.csv"}).rc == 0);
    // C1: available 0.03 + 0.01 = 0.04; C2: plenty; V1 is credited (never crosses).
    for (std::vector<std::string> acc : {std::vector<std::string>{"C1", "--balance", "0.03", "--credit", "0.01"},
                                         std::vector<std::string>{"C2", "--balance", "10", "--credit", "0"}}) {
        std::vector<std::string> args = {"--db", db, "accounts", "add", acc[0], "--kind", "customer",
                                         "--rate-group", "retail", acc[1], acc[2], acc[3], acc[4]};
        REQUIRE(sb.run(args).rc == 0);
    }
    REQUIRE(sb.run({"--db", db, "accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);
    // C1: 0.0225 + 0.0438 = 0.0663 -> available -0.0263; C2: 0.0225, stays above zero.
    const std::string head = "caller,callee,customer,vendor,setup,answer,end\n";
    sb.write("calls.csv", head +
                              "1,442071234567,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:01:52\n"
                              "1,447700900123,C1,V1,2026-11-26 10:05:00,2026-11-26 10:05:03,2026-11-26 10:05:40\n"
                              "2,442071234567,C2,V1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:01:52\n");
    Run r = sb.run({"--db", db, "cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "stored 3 CDRs, revenue 0.0888\n"
          "credit limit crossed: C1 available -0.0263 (was 0.0400), 0.0263 below zero\n");
    CHECK(contains(sb.run({"--db", db, "accounts", "show", "C1"}).out, "balance:      -0.0363"));  // stored
    // Already below zero: a further import is no new crossing.
    sb.write("more.csv", head + "1,442071234567,C1,V1,2026-11-26 11:00:00,2026-11-26 11:00:05,2026-11-26 11:01:52\n");
    r = sb.run({"--db", db, "cdr", "import", "more.csv"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "stored 1 CDRs, revenue 0.0225\n");
    // --json: the same in one object.
    REQUIRE(sb.run({"--db", db, "accounts", "topup", "C1", "0.0888"}).rc == 0);  // available 0.0400 again
    sb.write("json.csv", head + "1,447700900123,C1,V1,2026-11-26 11:05:00,2026-11-26 11:05:03,2026-11-26 11:05:40\n");
    r = sb.run({"--db", db, "cdr", "import", "json.csv", "--json"});
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "{\"stored\":1,\"revenue\":\"0.0438\",\"credit_limit_crossed\":[{\"account\":\"C1\","
          "\"available\":\"-0.0038\",\"was\":\"0.0400\",\"below\":\"0.0038\"}]}\n");
    // Exactly to zero is not below it.
    REQUIRE(sb.run({"--db", db, "accounts", "add", "C3", "--kind", "customer", "--balance", "0.0225",
                    "--rate-group", "retail"}).rc == 0);
    sb.write("zero.csv", head + "3,442071234567,C3,V1,2026-11-26 12:00:00,2026-11-26 12:00:05,2026-11-26 12:01:52\n");
    r = sb.run({"--db", db, "cdr", "import", "zero.csv", "--json"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "{\"stored\":1,\"revenue\":\"0.0225\",\"credit_limit_crossed\":[]}\n");
    CHECK(sb.run({"--db", db, "audit"}).out == "ok\n");
}

TEST_CASE("trunkctl: agent commission and the Agent Income report (VOS3000 agent accounts)", "[billing][trunkctl]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db});
        return sb.run(args);
    };
    sb.write("carrier.csv", "prefix,price,increment\n44,0.0100,6\n447,0.0500,6\n");
    sb.write("retail.csv", "prefix,price,increment\n44,0.0125,6\n447,0.0625,6\n");
    REQUIRE(run({"rates", "import", "carrier", "carrier.csv"}).rc == 0);
    REQUIRE(run({"rates", "import", "retail", "retail.csv"}).rc == 0);
    REQUIRE(run({"accounts", "add", "A1", "--kind", "agent", "--name", "North", "--commission", "5%"}).rc == 0);
    REQUIRE(run({"accounts", "add", "A2", "--kind", "agent", "--commission", "0.10", "--commission-basis", "profit"}).rc == 0);
    for (const char* c : {"C1", "C2", "C3"})
        REQUIRE(run({"accounts", "add", c, "--kind", "customer", "--rate-group", "retail", "--balance", "10"}).rc == 0);
    REQUIRE(run({"accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);

    // What is refused, with the reason (nothing stored).
    Run r = run({"accounts", "add", "C4", "--kind", "customer", "--commission", "5%"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl: field commission: account C4 is a customer: only agent accounts earn a commission "
                   "[invalid_argument]\n");
    r = run({"accounts", "add", "C4", "--kind", "customer", "--agent", "C1"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl: field agent: account C1 is a customer, not an agent [invalid_argument]\n");
    r = run({"accounts", "add", "A3", "--kind", "agent", "--commission", "150%"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "commission must be 0% to 100%, not 150.00%"));
    r = run({"accounts", "add", "A3", "--kind", "agent", "--commission", "5%", "--commission-basis", "revenue"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "commission basis must be charge or profit, not 'revenue'"));
    CHECK(run({"accounts", "show", "A3"}).rc == 1);
    CHECK(run({"accounts", "show", "C4"}).rc == 1);
    r = run({"accounts", "set", "C3", "--agent", "C3"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "account C3 cannot be its own agent"));
    CHECK(run({"accounts", "set", "C3", "--balance", "5"}).rc == 2);
    CHECK(run({"accounts", "set", "C1", "--commission", "5%"}).rc == 1);

    // accounts set: sub-accounts join an agent; the agent's commission changes.
    CHECK(run({"accounts", "set", "C1", "--agent", "A1"}).out == "updated customer account C1\n");
    REQUIRE(run({"accounts", "set", "C3", "--agent", "A1"}).rc == 0);
    REQUIRE(run({"accounts", "set", "C2", "--agent", "A2"}).rc == 0);
    REQUIRE(run({"accounts", "set", "A2", "--commission", "12.5%"}).rc == 0);
    CHECK(contains(run({"accounts", "show", "A2"}).out, "commission:   12.50% of profit\n"));
    CHECK(contains(run({"accounts", "show", "A1"}).out, "commission:   5.00% of charge\n"));
    r = run({"accounts", "list", "--format", "csv"});
    CHECK(contains(r.out, "id,name,kind,balance,credit_limit,rate_group,agent,commission_rate,commission_basis\n"));
    CHECK(contains(r.out, "A2,,agent,0.00,0.00,,,12.50%,profit\n"));
    CHECK(contains(r.out, "C1,,customer,10.00,0.00,retail,A1,,\n"));
    r = run({"accounts", "list", "--format", "json"});
    CHECK(contains(r.out, "{\"id\":\"A1\",\"name\":\"North\",\"kind\":\"agent\",\"balance\":\"0.00\",\"credit_limit\":"
                          "\"0.00\",\"rate_group\":\"\",\"agent\":\"\",\"commission_rate\":\"5.00%\","
                          "\"commission_basis\":\"charge\"}"));
    CHECK(contains(r.out, "\"rate_group\":\"retail\",\"agent\":\"A1\"}"));

    const std::string head = "caller,callee,customer,vendor,setup,answer,end\n";
    sb.write("calls.csv", head +
                              "1,442071234567,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:01:52\n"
                              "1,447700900123,C1,V1,2026-11-26 10:05:00,2026-11-26 10:05:03,2026-11-26 10:05:40\n"
                              "2,442071234567,C2,V1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:01:52\n"
                              "3,447700900123,C3,V1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:21:52\n"
                              "3,447700900123,C3,V1,2026-12-01 10:00:00,2026-12-01 10:00:05,2026-12-01 10:21:52\n");
    REQUIRE(run({"cdr", "import", "calls.csv"}).rc == 0);
    // November. C1: charge 0.0225 + 0.0438 = 0.0663 -> 5% = 0.003315 -> 0.0034 (rounded up
    // once on the sub-account's total); C3: 1.3625 -> 0.068125 -> 0.0682; C2: profit 0.0045
    // -> 12.5% = 0.0005625 -> 0.0006. Totals are sums of the rows.
    r = run({"report", "agent-income", "--from", "2026-11-01", "--until", "2026-12-01"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "agent  account  basis   commission_rate  calls  answered  duration_s  billed_s  minutes  charge    cost  profit  commission\n"
          "---------------------------------------------------------------------------------------------------------------------------\n"
          "A1     C1       charge            5.00%      2         2         144       150     2.50  0.0663  0.0530  0.0133      0.0034\n"
          "A1     C3       charge            5.00%      1         1        1307      1308    21.80  1.3625  1.0900  0.2725      0.0682\n"
          "A1     TOTAL    charge            5.00%      3         3        1451      1458    24.30  1.4288  1.1430  0.2858      0.0716\n"
          "A2     C2       profit           12.50%      1         1         107       108     1.80  0.0225  0.0180  0.0045      0.0006\n"
          "A2     TOTAL    profit           12.50%      1         1         107       108     1.80  0.0225  0.0180  0.0045      0.0006\n"
          "---------------------------------------------------------------------------------------------------------------------------\n"
          "TOTAL                                        4         4        1558      1566    26.10  1.4513  1.1610  0.2903      0.0722\n");
    // One agent, JSON.
    r = run({"report", "agent-income", "--from", "2026-11-01", "--until", "2026-12-01", "--agent", "A2", "--json"});
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "{\"report\":\"agent-income\",\"agents\":[{\"agent\":\"A2\",\"name\":\"\",\"basis\":\"profit\","
          "\"commission_rate\":\"12.50%\",\"accounts\":[{\"account\":\"C2\",\"calls\":1,\"answered\":1,"
          "\"duration_s\":107,\"billed_s\":108,\"minutes\":\"1.80\",\"charge\":\"0.0225\",\"cost\":\"0.0180\","
          "\"profit\":\"0.0045\",\"commission\":\"0.0006\"}],\"total\":{\"calls\":1,\"answered\":1,\"duration_s\":107,"
          "\"billed_s\":108,\"minutes\":\"1.80\",\"charge\":\"0.0225\",\"cost\":\"0.0180\",\"profit\":\"0.0045\","
          "\"commission\":\"0.0006\"}}],\"total\":{\"calls\":1,\"answered\":1,\"duration_s\":107,\"billed_s\":108,"
          "\"minutes\":\"1.80\",\"charge\":\"0.0225\",\"cost\":\"0.0180\",\"profit\":\"0.0045\",\"commission\":\"0.0006\"}}\n");
    // December: only C3's call; C1 is listed with zeros.
    r = run({"report", "agent-income", "--from", "2026-12-01", "--until", "2027-01-01", "--agent", "A1", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "agent,account,basis,commission_rate,calls,answered,duration_s,billed_s,minutes,charge,cost,profit,commission\n"
          "A1,C1,charge,5.00%,0,0,0,0,0.00,0.0000,0.0000,0.0000,0.0000\n"
          "A1,C3,charge,5.00%,1,1,1307,1308,21.80,1.3625,1.0900,0.2725,0.0682\n"
          "A1,TOTAL,charge,5.00%,1,1,1307,1308,21.80,1.3625,1.0900,0.2725,0.0682\n"
          "TOTAL,,,,1,1,1307,1308,21.80,1.3625,1.0900,0.2725,0.0682\n");
    // A sub-account leaves its agent: it is no longer in the report (assignment at report time).
    REQUIRE(run({"accounts", "set", "C3", "--agent", ""}).rc == 0);
    r = run({"report", "agent-income", "--from", "2026-12-01", "--until", "2027-01-01", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "\nTOTAL,,,,0,0,0,0,0.00,0.0000,0.0000,0.0000,0.0000\n"));
    // Errors.
    r = run({"report", "agent-income", "--agent", "C1"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl: field agent: account C1 is a customer, not an agent [invalid_argument]\n");
    CHECK(run({"report", "agent-income", "--agent", "NOPE"}).rc == 1);
    CHECK(run({"report", "revenue", "--agent", "A1"}).rc == 2);
    CHECK(run({"report", "agent-income", "--json", "--format", "csv"}).rc == 2);
    CHECK(run({"audit"}).out == "ok\n");  // commissions are a report: no balance moved
}

TEST_CASE("trunkctl: tiered pricing by monthly volume in cdr import (local month, whole call per tier)", "[billing][trunkctl][tiers]") {
    UkDeck sb({"C1", "C2"});
    auto run = [&](std::vector<std::string> args) { return sb.ctl(std::move(args)); };
    REQUIRE(run({"billing", "set", "calendar.timezone", "Asia/Shanghai"}).rc == 0);  // UTC+8
    // C1 to 44: the first 2 minutes of a month at 0.0200, then 0.0100.
    CHECK(run({"tiers", "add", "C1", "44", "--from-minutes", "0", "--price", "0.02"}).out ==
          "tier C1 44 from 0 min: 0.0200/min\n");
    REQUIRE(run({"tiers", "add", "C1", "44", "--from-minutes", "2", "--price", "0.01"}).rc == 0);
    Run r = run({"tiers", "add", "V1", "44", "--from-minutes", "2", "--price", "0.01"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl: field account: account V1 is a vendor: tiers price customer accounts [invalid_argument]\n");
    CHECK(run({"tiers", "add", "C1", "4x", "--from-minutes", "2", "--price", "0.01"}).rc == 1);
    CHECK(run({"tiers", "add", "NOPE", "44", "--from-minutes", "2", "--price", "0.01"}).rc == 1);
    CHECK(run({"tiers", "add", "C1", "44", "--from-minutes", "-1", "--price", "0.01"}).rc == 2);
    CHECK(run({"tiers", "add", "C1", "44", "--price", "0.01"}).rc == 2);
    CHECK(run({"tiers", "list", "--format", "csv"}).out == "account,prefix,from_minutes,price,bonus_minutes\nC1,44,0,0.0200,0\nC1,44,2,0.0100,0\n");
    CHECK(run({"tiers", "list", "--format", "json"}).out ==
          "[{\"account\":\"C1\",\"prefix\":\"44\",\"from_minutes\":0,\"price\":\"0.0200\",\"bonus_minutes\":0},"
          "{\"account\":\"C1\",\"prefix\":\"44\",\"from_minutes\":2,\"price\":\"0.0100\",\"bonus_minutes\":0}]\n");

    const std::string head = "caller,callee,customer,vendor,setup,answer,end\n";
    // 1: 90 s from 0 s -> tier 1 (0.02): 0.0300. 2: 60 s from 90 s, crossing 120 s -> still
    // tier 1 for the whole call: 0.0200. 3: Nov 30 23:30 local (15:30 UTC), from 150 s ->
    // tier 2: 0.0100. 4: Dec 1 00:30 local (16:30 UTC, still November in UTC): the month was
    // reset -> tier 1: 0.0200. C2 has no tiers: its rate's 0.0125.
    sb.write("calls.csv", head +
                              "1,442071234567,C1,V1,2026-11-10 10:00:00,2026-11-10 10:00:00,2026-11-10 10:01:30\n"
                              "1,442071234567,C1,V1,2026-11-10 11:00:00,2026-11-10 11:00:00,2026-11-10 11:01:00\n"
                              "1,442071234567,C1,V1,2026-11-30 15:30:00,2026-11-30 15:30:00,2026-11-30 15:31:00\n"
                              "1,442071234567,C1,V1,2026-11-30 16:30:00,2026-11-30 16:30:00,2026-11-30 16:31:00\n"
                              "2,442071234567,C2,V1,2026-11-10 10:00:00,2026-11-10 10:00:00,2026-11-10 10:01:00\n");
    r = run({"cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out == "stored 5 CDRs, revenue 0.0925\n");
    r = run({"cdr", "export", "--customer", "C1"});
    REQUIRE(r.rc == 0);
    // Each call's price and charge, found by its answer time.
    for (const char* line : {",2026-11-10 10:00:00,2026-11-10 10:01:30,90,90,200,,caller,44,,International,44,90,90,0.0200,0.0100,0.0100,0.0300,",
                             ",2026-11-10 11:00:00,2026-11-10 11:01:00,60,60,200,,caller,44,,International,44,60,60,0.0200,0.0100,0.0100,0.0200,",
                             ",2026-11-30 15:30:00,2026-11-30 15:31:00,60,60,200,,caller,44,,International,44,60,60,0.0100,0.0100,0.0000,0.0100,",
                             ",2026-11-30 16:30:00,2026-11-30 16:31:00,60,60,200,,caller,44,,International,44,60,60,0.0200,0.0100,0.0100,0.0200,"})
        CHECK(contains(r.out, line));
    CHECK(run({"tiers", "usage", "C1", "44", "--month", "2026-11"}).out == "C1 44 2026-11: 210 s billed\n");
    CHECK(run({"tiers", "usage", "C1", "44", "--month", "2026-12"}).out == "C1 44 2026-12: 60 s billed\n");
    // A later import continues from the stored volume: November is past 2 minutes (0.0100),
    // December at 60 s is still in the first tier (0.0200).
    sb.write("more.csv", head +
                             "1,442071234567,C1,V1,2026-11-20 10:00:00,2026-11-20 10:00:00,2026-11-20 10:01:00\n"
                             "1,442071234567,C1,V1,2026-12-02 10:00:00,2026-12-02 10:00:00,2026-12-02 10:01:00\n");
    r = run({"cdr", "import", "more.csv"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "stored 2 CDRs, revenue 0.0300\n");
    CHECK(run({"tiers", "usage", "C1", "44", "--month", "2026-12"}).out == "C1 44 2026-12: 120 s billed\n");
    CHECK(run({"audit"}).out == "ok\n");
    CHECK(run({"tiers", "remove", "C1", "44", "--from-minutes", "2"}).out == "removed\n");
    CHECK(run({"tiers", "remove", "C1", "44", "--from-minutes", "2"}).rc == 1);
    CHECK(run({"tiers", "--help"}).rc == 0);
}

TEST_CASE("trunkctl: bonus minutes at a tier threshold are granted by cdr import and used by the calls after it", "[billing][trunkctl][tiers][bonus]") {
    UkDeck sb({"C1"});
    auto run = [&](std::vector<std::string> args) { return sb.ctl(std::move(args)); };
    REQUIRE(run({"tiers", "add", "C1", "44", "--from-minutes", "0", "--price", "0.02"}).rc == 0);
    CHECK(run({"tiers", "add", "C1", "44", "--from-minutes", "2", "--price", "0.01", "--bonus-minutes", "1"}).out ==
          "tier C1 44 from 2 min: 0.0100/min, 1 bonus min\n");
    Run r = run({"tiers", "add", "C1", "44", "--from-minutes", "0", "--price", "0.02", "--bonus-minutes", "1"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl: field bonus_minutes: bonus minutes need a threshold above minute 0 [invalid_argument]\n");
    CHECK(run({"tiers", "add", "C1", "44", "--from-minutes", "2", "--price", "0.01", "--bonus-minutes", "x"}).rc == 2);
    // 1: 90 s (0 -> 90 s). 2: 60 s (90 -> 150 s) crosses 2 minutes: 1 bonus minute from its
    // end. 3: 60 s at the second tier, covered by the bonus: 0.0000. 4: at 0.0100.
    const std::string head = "caller,callee,customer,vendor,setup,answer,end\n";
    sb.write("calls.csv", head +
                              "1,442071234567,C1,V1,2026-11-10 10:00:00,2026-11-10 10:00:00,2026-11-10 10:01:30\n"
                              "1,442071234567,C1,V1,2026-11-10 11:00:00,2026-11-10 11:00:00,2026-11-10 11:01:00\n"
                              "1,442071234567,C1,V1,2026-11-10 12:00:00,2026-11-10 12:00:00,2026-11-10 12:01:00\n"
                              "1,442071234567,C1,V1,2026-11-10 13:00:00,2026-11-10 13:00:00,2026-11-10 13:01:00\n");
    r = run({"cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out == "stored 4 CDRs, revenue 0.0600\n");  // 0.03 + 0.02 + 0 + 0.01
    r = run({"packages", "list", "C1", "--format", "csv"});
    CHECK(contains(r.out, "C1,bonus-44-2026-11-2m,44,"));
    CHECK(run({"packages", "usage", "C1", "bonus-44-2026-11-2m"}).out.rfind("C1 bonus-44-2026-11-2m: used 60 s of 60 s", 0) == 0);
    CHECK(run({"audit"}).out == "ok\n");
}

TEST_CASE("trunkctl: packages are sold, listed with the minutes left and used by cdr import", "[billing][trunkctl][packages]") {
    UkDeck sb({"C1", "C2"});
    auto run = [&](std::vector<std::string> args) { return sb.ctl(std::move(args)); };
    const std::vector<std::string> nov = {"--from", "2026-11-01", "--until", "2026-12-01"};
    auto add = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"packages", "add"});
        args.insert(args.end(), nov.begin(), nov.end());
        return run(args);
    };
    // Sold: the fee leaves the balance now.
    Run r = add({"C1", "uk", "--prefixes", "44,33", "--minutes", "2", "--fee", "1.50"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out == "package C1 uk: 2 min to 44,33, 2026-11-01 00:00:00 to 2026-12-01 00:00:00 UTC, fee 1.5000; "
                   "C1 balance 8.5000\n");
    REQUIRE(add({"C2", "one", "--prefixes", "44", "--minutes", "1", "--fee", "0"}).rc == 0);
    // Bad input: data errors exit 1 naming the field, usage errors exit 2.
    r = add({"NOPE", "uk", "--prefixes", "44", "--minutes", "2", "--fee", "1"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl packages: field account: unknown account 'NOPE' [unknown_account]\n");
    r = add({"V1", "uk", "--prefixes", "44", "--minutes", "2", "--fee", "1"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field account: account V1 is a vendor: packages are sold to customer accounts"));
    r = add({"C1", "x", "--prefixes", "44,4x", "--minutes", "2", "--fee", "1"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field prefixes: package prefix must be 1 to 64 digits, not '4x'"));
    r = add({"C1", "x", "--prefixes", "44", "--minutes", "2", "--fee", "abc"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field fee"));
    r = add({"C1", "x", "--prefixes", "44", "--minutes", "2", "--fee", "100"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field fee"));
    CHECK(contains(r.err, "[insufficient_funds]"));
    r = add({"C1", "uk", "--prefixes", "44", "--minutes", "2", "--fee", "1"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "[duplicate]"));
    CHECK(add({"C1", "x", "--prefixes", "44", "--minutes", "0", "--fee", "1"}).rc == 2);
    CHECK(add({"C1", "x", "--prefixes", "44", "--minutes", "1.5", "--fee", "1"}).rc == 2);
    CHECK(run({"packages", "add", "C1", "x", "--prefixes", "44", "--minutes", "1", "--fee", "1"}).rc == 2);  // no --until
    CHECK(run({"packages", "add", "C1", "x", "--prefixes", "44", "--minutes", "1", "--fee", "1", "--until", "soon"}).rc == 2);
    CHECK(run({"packages", "frob"}).rc == 2);
    CHECK(run({"packages"}).rc == 2);
    CHECK(run({"packages", "--help"}).rc == 0);
    CHECK(run({"packages", "list", "NOPE"}).rc == 1);
    CHECK(run({"accounts", "show", "C1"}).rc == 0);
    r = run({"packages", "list", "C1", "--format", "csv"});
    CHECK(r.out == "account,name,prefixes,minutes,fee,valid_from,valid_until,used_s,remaining_s,remaining_min\n"
                   "C1,uk,\"44,33\",2.00,1.5000,2026-11-01 00:00:00,2026-12-01 00:00:00,0,120,2.00\n");

    // C2 also has a tier (0.0100 from minute 0): tiers first, the package covers the start
    // and the rest is paid at the tier price.
    REQUIRE(run({"tiers", "add", "C2", "44", "--from-minutes", "0", "--price", "0.01"}).rc == 0);
    const std::string head = "caller,callee,customer,vendor,setup,answer,end\n";
    // C1: 1: 90 s, covered: 0. 2: 60 s, 30 s left: 30 s at 0.0125 = 0.00625 -> up 0.0063.
    // 3: used up: 60 s at 0.0125 = 0.0125. 4: answered when the package has expired: 0.0125.
    // C2: 90 s, 60 s covered, 30 s at the tier's 0.0100 = 0.0050. Revenue 0.0363.
    sb.write("calls.csv", head +
                              "1,442071234567,C1,V1,2026-11-10 10:00:00,2026-11-10 10:00:00,2026-11-10 10:01:30\n"
                              "1,442071234567,C1,V1,2026-11-10 11:00:00,2026-11-10 11:00:00,2026-11-10 11:01:00\n"
                              "1,442071234567,C1,V1,2026-11-10 12:00:00,2026-11-10 12:00:00,2026-11-10 12:01:00\n"
                              "1,442071234567,C1,V1,2026-12-01 00:00:00,2026-12-01 00:00:00,2026-12-01 00:01:00\n"
                              "2,442071234567,C2,V1,2026-11-10 10:00:00,2026-11-10 10:00:00,2026-11-10 10:01:30\n");
    r = run({"cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out == "stored 5 CDRs, revenue 0.0363\n");
    r = run({"cdr", "export", "--customer", "C1"});
    for (const char* line : {",2026-11-10 10:00:00,2026-11-10 10:01:30,90,90,200,,caller,44,,International,44,90,90,0.0125,0.0100,0.0025,0.0000,0.0150,-0.0150,",
                             ",2026-11-10 11:00:00,2026-11-10 11:01:00,60,60,200,,caller,44,,International,44,60,60,0.0125,0.0100,0.0025,0.0063,0.0100,-0.0037,",
                             ",2026-11-10 12:00:00,2026-11-10 12:01:00,60,60,200,,caller,44,,International,44,60,60,0.0125,0.0100,0.0025,0.0125,0.0100,0.0025,"})
        CHECK(contains(r.out, line));
    CHECK(run({"packages", "usage", "C1", "uk"}).out ==
          "C1 uk: used 120 s of 120 s, 0 s left (0.00 min), valid 2026-11-01 00:00:00 to 2026-12-01 00:00:00 UTC\n");
    CHECK(run({"packages", "usage", "C2", "one"}).out ==
          "C2 one: used 60 s of 60 s, 0 s left (0.00 min), valid 2026-11-01 00:00:00 to 2026-12-01 00:00:00 UTC\n");
    CHECK(run({"tiers", "usage", "C2", "44", "--month", "2026-11"}).out == "C2 44 2026-11: 90 s billed\n");
    r = run({"packages", "usage", "C1", "nope"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field package: no package C1 nope"));
    CHECK(run({"packages", "list", "--format", "json"}).out ==
          "[{\"account\":\"C1\",\"name\":\"uk\",\"prefixes\":[\"44\",\"33\"],\"seconds\":120,\"fee\":\"1.5000\","
          "\"valid_from\":\"2026-11-01 00:00:00\",\"valid_until\":\"2026-12-01 00:00:00\",\"used_s\":120,"
          "\"remaining_s\":0,\"remaining_min\":\"0.00\"},"
          "{\"account\":\"C2\",\"name\":\"one\",\"prefixes\":[\"44\"],\"seconds\":60,\"fee\":\"0.0000\","
          "\"valid_from\":\"2026-11-01 00:00:00\",\"valid_until\":\"2026-12-01 00:00:00\",\"used_s\":60,"
          "\"remaining_s\":0,\"remaining_min\":\"0.00\"}]\n");
    CHECK(run({"audit"}).out == "ok\n");
    CHECK(contains(run({"accounts", "show", "C1"}).out, "8.4687"));  // 10 - 1.50 - 0.0313
    CHECK(run({"packages", "remove", "C1", "uk"}).out == "removed (no refund)\n");
    CHECK(run({"packages", "remove", "C1", "uk"}).rc == 1);
}

TEST_CASE("trunkctl: report packages lists the minutes left per package valid in the period", "[billing][trunkctl][packages]") {
    UkDeck sb({"C1", "C2"});
    auto run = [&](std::vector<std::string> args) { return sb.ctl(std::move(args)); };
    for (std::vector<std::string> p : {std::vector<std::string>{"C1", "uk", "--prefixes", "44,33", "--minutes", "2",
                                                                "--fee", "1.50", "--from", "2026-11-01", "--until",
                                                                "2026-12-01"},
                                       {"C1", "dec", "--prefixes", "44", "--minutes", "10", "--fee", "2", "--from",
                                        "2026-12-01", "--until", "2027-01-01"},
                                       {"C2", "one", "--prefixes", "44", "--minutes", "1", "--fee", "0", "--from",
                                        "2026-11-01", "--until", "2026-12-01"}}) {
        p.insert(p.begin(), {"packages", "add"});
        REQUIRE(run(p).rc == 0);
    }
    // A 90 s call of C1 in November uses 90 s of "uk" (the longest prefix, expiring first).
    sb.write("calls.csv", "caller,callee,customer,vendor,setup,answer,end\n"
                          "1,442071234567,C1,V1,2026-11-10 10:00:00,2026-11-10 10:00:00,2026-11-10 10:01:30\n");
    REQUIRE(run({"cdr", "import", "calls.csv"}).rc == 0);

    // No period: every package, by account and name; minutes truncated to 2 decimals.
    Run r = run({"report", "packages"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "account  name  prefixes  valid_from           valid_until          minutes  used_min  left_min     fee\n"
          "------------------------------------------------------------------------------------------------------\n"
          "C1       dec   44        2026-12-01 00:00:00  2027-01-01 00:00:00    10.00      0.00     10.00  2.0000\n"
          "C1       uk    44,33     2026-11-01 00:00:00  2026-12-01 00:00:00     2.00      1.50      0.50  1.5000\n"
          "C2       one   44        2026-11-01 00:00:00  2026-12-01 00:00:00     1.00      0.00      1.00  0.0000\n");
    // The period selects the packages valid at some moment of [from, until).
    CHECK(run({"report", "packages", "--from", "2026-12-01", "--format", "csv"}).out ==
          "account,name,prefixes,valid_from,valid_until,minutes,used_min,left_min,fee\n"
          "C1,dec,44,2026-12-01 00:00:00,2027-01-01 00:00:00,10.00,0.00,10.00,2.0000\n");
    CHECK(run({"report", "packages", "--from", "2026-11-30 23:59:59", "--until", "2026-12-01", "--format", "csv"}).out ==
          "account,name,prefixes,valid_from,valid_until,minutes,used_min,left_min,fee\n"
          "C1,uk,\"44,33\",2026-11-01 00:00:00,2026-12-01 00:00:00,2.00,1.50,0.50,1.5000\n"
          "C2,one,44,2026-11-01 00:00:00,2026-12-01 00:00:00,1.00,0.00,1.00,0.0000\n");
    CHECK(run({"report", "packages", "--from", "2027-01-01", "--format", "csv"}).out ==
          "account,name,prefixes,valid_from,valid_until,minutes,used_min,left_min,fee\n");
    CHECK(run({"report", "packages", "--until", "2026-12-01", "--json"}).out ==
          "{\"report\":\"packages\",\"packages\":["
          "{\"account\":\"C1\",\"name\":\"uk\",\"valid_from\":\"2026-11-01 00:00:00\",\"valid_until\":"
          "\"2026-12-01 00:00:00\",\"minutes\":\"2.00\",\"used_min\":\"1.50\",\"left_min\":\"0.50\",\"fee\":\"1.5000\","
          "\"prefixes\":[\"44\",\"33\"],\"seconds\":120,\"used_s\":90,\"left_s\":30},"
          "{\"account\":\"C2\",\"name\":\"one\",\"valid_from\":\"2026-11-01 00:00:00\",\"valid_until\":"
          "\"2026-12-01 00:00:00\",\"minutes\":\"1.00\",\"used_min\":\"0.00\",\"left_min\":\"1.00\",\"fee\":\"0.0000\","
          "\"prefixes\":[\"44\"],\"seconds\":60,\"used_s\":0,\"left_s\":60}]}\n");
    // Options of the other kinds are usage errors.
    for (std::vector<std::string> bad : {std::vector<std::string>{"--by", "customer"}, {"--agent", "A1"},
                                         {"--fixed-costs", "1"}, {"--from", "soon"}, {"--format", "xml"},
                                         {"--json", "--format", "csv"}}) {
        bad.insert(bad.begin(), {"report", "packages"});
        CHECK(run(bad).rc == 2);
    }
    CHECK(contains(run({"report", "--help"}).out, "packages     VOS3000 packages"));

    // accounts max-duration: the package's seconds left cost nothing (0.0125 pays 60 s).
    REQUIRE(run({"accounts", "add", "C3", "--kind", "customer", "--rate-group", "retail", "--balance", "0.0125"}).rc == 0);
    REQUIRE(run({"packages", "add", "C3", "p", "--prefixes", "44", "--minutes", "2", "--fee", "0", "--from",
                 "2026-11-01", "--until", "2026-12-01"}).rc == 0);
    CHECK(run({"accounts", "max-duration", "C3", "442071234567", "--at", "2026-11-10 10:00"}).out ==
          "max_call_duration 180 s (C3 to 442071234567 at 2026-11-10 10:00:00 UTC; 120 s left in a package cost "
          "nothing)\n");
    CHECK(run({"accounts", "max-duration", "C3", "442071234567", "--at", "2026-12-10 10:00"}).out ==
          "max_call_duration 60 s (C3 to 442071234567 at 2026-12-10 10:00:00 UTC)\n");  // expired
}

// --- commitment discounts (issue 14; tools/trunkctl/commitment_cmd.cpp) ---------------------

TEST_CASE("trunkctl: commitments and report commitments (local month, shortfall, discount)", "[billing][trunkctl][commitments]") {
    Sandbox sb;
    const std::string db = (sb.dir / "t.db").string();
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db});
        return sb.run(args);
    };
    sb.write("carrier.csv", "prefix,price,increment\n44,0.0100,6\n33,0.0100,6\n");
    sb.write("retail.csv", "prefix,price,increment\n44,0.0125,6\n33,0.0200,6\n");
    REQUIRE(run({"rates", "import", "carrier", "carrier.csv"}).rc == 0);
    REQUIRE(run({"rates", "import", "retail", "retail.csv"}).rc == 0);
    REQUIRE(run({"accounts", "add", "C1", "--kind", "customer", "--rate-group", "retail", "--balance", "10"}).rc == 0);
    REQUIRE(run({"accounts", "add", "C2", "--kind", "customer", "--rate-group", "retail", "--balance", "10"}).rc == 0);
    REQUIRE(run({"accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);
    REQUIRE(run({"billing", "set", "calendar.timezone", "Asia/Shanghai"}).rc == 0);  // UTC+8

    CHECK(run({"commitments", "add", "C1", "--prefix", "44", "--minutes", "2", "--discount", "10%"}).out ==
          "commitment C1 to 44: 2 min/month, discount 10.00%\n");
    CHECK(run({"commitments", "add", "C1", "--minutes", "3", "--discount", "0.05"}).out ==
          "commitment C1 to every destination: 3 min/month, discount 5.00%\n");
    CHECK(run({"commitments", "add", "C2", "--prefix", "44", "--minutes", "1", "--discount", "5%", "--json"}).out ==
          "{\"account\":\"C2\",\"prefix\":\"44\",\"minutes\":1,\"discount_rate\":\"5.00%\"}\n");
    // Data errors name the field (exit 1); a bad option value is a usage error (exit 2).
    Run r = run({"commitments", "add", "C9", "--minutes", "1", "--discount", "5%"});
    CHECK(r.rc == 1);
    CHECK(r.err == "trunkctl commitments: field account: unknown account 'C9' [unknown_account]\n");
    r = run({"commitments", "add", "V1", "--minutes", "1", "--discount", "5%"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field account: account V1 is a vendor"));
    r = run({"commitments", "add", "C1", "--prefix", "4x", "--minutes", "1", "--discount", "5%"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field prefix:"));
    for (const char* bad : {"lots", "150%", "-5%", ""}) {
        r = run({"commitments", "add", "C1", "--minutes", "1", "--discount", bad});
        CHECK(r.rc == 2);
        CHECK(contains(r.err, "--discount"));
    }
    CHECK(run({"commitments", "add", "C1", "--minutes", "0", "--discount", "5%"}).rc == 2);
    CHECK(run({"commitments", "add", "C1", "--discount", "5%"}).rc == 2);
    CHECK(run({"commitments", "list"}).out ==
          "account  prefix  minutes  discount_rate\n"
          "C1       *             3          5.00%\n"
          "C1       44            2         10.00%\n"
          "C2       44            1          5.00%\n");
    CHECK(run({"commitments", "list", "--format", "csv"}).out ==
          "account,prefix,minutes,discount_rate\nC1,,3,5.00%\nC1,44,2,10.00%\nC2,44,1,5.00%\n");
    CHECK(run({"commitments", "list", "--json"}).out ==
          "[{\"account\":\"C1\",\"prefix\":\"\",\"minutes\":3,\"discount_rate\":\"5.00%\",\"discount_ppm\":50000},"
          "{\"account\":\"C1\",\"prefix\":\"44\",\"minutes\":2,\"discount_rate\":\"10.00%\",\"discount_ppm\":100000},"
          "{\"account\":\"C2\",\"prefix\":\"44\",\"minutes\":1,\"discount_rate\":\"5.00%\",\"discount_ppm\":50000}]\n");

    // 1: Nov 30 23:59:30 local: November. 2: Dec 1 00:00:00 local (Nov 30 16:00 UTC): December,
    // 90 s = 0.0188. 3: 30 s to 44 = 0.0063. 4: 180 s to 33 (C1's "" commitment) = 0.0600.
    // 5: C2, 54 s = 0.0113.
    sb.write("calls.csv", "caller,callee,customer,vendor,setup,answer,end\n"
                          "1,442071234567,C1,V1,2026-11-30 15:59:30,2026-11-30 15:59:30,2026-11-30 16:00:30\n"
                          "1,442071234567,C1,V1,2026-11-30 16:00:00,2026-11-30 16:00:00,2026-11-30 16:01:30\n"
                          "1,441611234567,C1,V1,2026-12-10 10:00:00,2026-12-10 10:00:00,2026-12-10 10:00:30\n"
                          "1,33123456,C1,V1,2026-12-10 11:00:00,2026-12-10 11:00:00,2026-12-10 11:03:00\n"
                          "2,442071234567,C2,V1,2026-12-05 10:00:00,2026-12-05 10:00:00,2026-12-05 10:00:54\n");
    r = run({"cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    // C1 44: 120 s, exactly 2 min: met, 10% of 0.0251 = 0.00251 -> 0.0026 (up, 4 decimals).
    // C1 "": 180 s, met, 5% of 0.0600. C2: 54 s of 60: 0.10 min short, no discount.
    r = run({"report", "commitments", "--month", "2026-12"});
    REQUIRE(r.rc == 0);
    CHECK(r.out ==
          "account  prefix  discount_rate  contracted_min  actual_min  shortfall_min  met  charge  discount\n"
          "------------------------------------------------------------------------------------------------\n"
          "C1       *               5.00%            3.00        3.00           0.00  yes  0.0600    0.0030\n"
          "C1       44             10.00%            2.00        2.00           0.00  yes  0.0251    0.0026\n"
          "C2       44              5.00%            1.00        0.90           0.10  no   0.0113    0.0000\n");
    CHECK(run({"report", "commitments", "--month", "2026-12", "--format", "csv"}).out ==
          "account,prefix,discount_rate,contracted_min,actual_min,shortfall_min,met,charge,discount\n"
          "C1,,5.00%,3.00,3.00,0.00,yes,0.0600,0.0030\n"
          "C1,44,10.00%,2.00,2.00,0.00,yes,0.0251,0.0026\n"
          "C2,44,5.00%,1.00,0.90,0.10,no,0.0113,0.0000\n");
    CHECK(run({"report", "commitments", "--month", "2026-11", "--json"}).out ==
          "{\"report\":\"commitments\",\"month\":\"2026-11\",\"rows\":["
          "{\"account\":\"C1\",\"prefix\":\"\",\"discount_rate\":\"5.00%\",\"contracted_min\":\"3.00\","
          "\"actual_min\":\"0.00\",\"shortfall_min\":\"3.00\",\"met\":false,\"charge\":\"0.0000\",\"discount\":\"0.0000\","
          "\"contracted_s\":180,\"actual_s\":0,\"shortfall_s\":180},"
          "{\"account\":\"C1\",\"prefix\":\"44\",\"discount_rate\":\"10.00%\",\"contracted_min\":\"2.00\","
          "\"actual_min\":\"1.00\",\"shortfall_min\":\"1.00\",\"met\":false,\"charge\":\"0.0125\",\"discount\":\"0.0000\","
          "\"contracted_s\":120,\"actual_s\":60,\"shortfall_s\":60},"
          "{\"account\":\"C2\",\"prefix\":\"44\",\"discount_rate\":\"5.00%\",\"contracted_min\":\"1.00\","
          "\"actual_min\":\"0.00\",\"shortfall_min\":\"1.00\",\"met\":false,\"charge\":\"0.0000\",\"discount\":\"0.0000\","
          "\"contracted_s\":60,\"actual_s\":0,\"shortfall_s\":60}]}\n");
    for (std::vector<std::string> bad : {std::vector<std::string>{}, {"--month", "2026-13"}, {"--month", "2026-12", "--from", "2026-12-01"},
                                         {"--month", "2026-12", "--format", "xml"}, {"--month", "2026-12", "--json", "--format", "csv"},
                                         {"--month", "2026-12", "C1"}}) {
        bad.insert(bad.begin(), {"report", "commitments"});
        CHECK(run(bad).rc == 2);
    }
    CHECK(contains(run({"report", "--help"}).out, "commitments  --month YYYY-MM"));
    CHECK(contains(run({"--help"}).out, "commitments add|remove|list"));

    CHECK(run({"commitments", "remove", "C1", "--prefix", "44", "--json"}).out ==
          "{\"account\":\"C1\",\"prefix\":\"44\",\"removed\":true}\n");
    r = run({"commitments", "remove", "C1", "--prefix", "44"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "field commitment: no commitment of C1 to prefix '44'"));
    CHECK(run({"commitments", "remove", "C1"}).out == "removed\n");
    CHECK(run({"commitments", "list", "--format", "csv"}).out == "account,prefix,minutes,discount_rate\nC2,44,1,5.00%\n");
    CHECK(run({"commitments", "--help"}).rc == 0);
    CHECK(run({"commitments", "frobnicate"}).rc == 2);
    CHECK(run({"audit"}).out == "ok\n");  // the discount is a report figure: nothing booked
}

// --- --json on every command (issue 11) ----------------------------------------------------

namespace {

// A strict check that `s` is one JSON document (RFC 8259 grammar), then a newline.
struct JsonCheck {
    std::string_view s;
    std::size_t i = 0;
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
    }
    bool lit(std::string_view w) {
        if (s.substr(i, w.size()) != w) return false;
        i += w.size();
        return true;
    }
    bool str() {
        if (!lit("\"")) return false;
        while (i < s.size() && s[i] != '"') {
            if (static_cast<unsigned char>(s[i]) < 0x20) return false;
            if (s[i] == '\\') ++i;
            ++i;
        }
        return lit("\"");
    }
    bool num() {
        const std::size_t start = i;
        if (i < s.size() && s[i] == '-') ++i;
        while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                                s[i] == 'E' || s[i] == '+' || s[i] == '-'))
            ++i;
        return i > start;
    }
    template <class Item>
    bool list(char open, char close, Item item) {
        if (!lit(std::string_view(&open, 1))) return false;
        ws();
        if (lit(std::string_view(&close, 1))) return true;
        do {
            ws();
            if (!item()) return false;
            ws();
        } while (lit(","));
        return lit(std::string_view(&close, 1));
    }
    bool value() {
        ws();
        if (i >= s.size()) return false;
        switch (s[i]) {
            case '{':
                return list('{', '}', [&] { return str() && (ws(), lit(":")) && value(); });
            case '[':
                return list('[', ']', [&] { return value(); });
            case '"':
                return str();
            case 't':
                return lit("true");
            case 'f':
                return lit("false");
            case 'n':
                return lit("null");
            default:
                return num();
        }
    }
};

bool one_json(const std::string& out) {
    JsonCheck c{out};
    return c.value() && c.lit("\n") && c.i == out.size();
}

}  // namespace

TEST_CASE("trunkctl --json: every billing command prints one JSON document", "[billing][trunkctl]") {
    CHECK_FALSE(one_json("{\"a\":}\n"));  // the check itself
    CHECK_FALSE(one_json("[1,]\n"));
    CHECK_FALSE(one_json("{\"a\":1}{}\n"));
    Sandbox sb;
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", "t.db"});
        return sb.run(std::move(args));
    };
    // --json added: exit 0, one JSON document on stdout, nothing on stderr.
    auto json = [&](std::vector<std::string> args) {
        args.push_back("--json");
        Run r = run(args);
        INFO(args[0] << " " << args[1] << ": " << r.out << r.err);
        CHECK(r.rc == 0);
        CHECK(one_json(r.out));
        CHECK(r.err.empty());
        return r.out;
    };
    sb.write("carrier.csv", "prefix,price,increment\n44,0.0100,6\n");
    sb.write("retail.csv", "prefix,price,increment\n44,0.0125,6\n");
    sb.write("calls.csv", "caller,callee,customer,vendor,setup,answer,end\n"
                          "1,442071234567,C1,V1,2026-11-26 10:00:00,2026-11-26 10:00:05,2026-11-26 10:01:52\n");
    sb.write("vendor.csv", "callee,start,duration,amount\n442071234567,2026-11-26 10:00:05,107,0.0179\n");

    // rates
    CHECK(json({"rates", "group", "add", "retail"}) == "{\"group\":\"retail\",\"created\":true}\n");
    CHECK(json({"rates", "import", "carrier", "carrier.csv"}) == "{\"group\":\"carrier\",\"imported\":1}\n");
    CHECK(json({"rates", "import", "retail", "retail.csv"}) == "{\"group\":\"retail\",\"imported\":1}\n");
    CHECK(contains(json({"rates", "template", "add", "t1", "--map", "prefix=Code,price=Rate"}), "\"template\":\"t1\""));
    CHECK(contains(json({"rates", "template", "list"}), "\"name\":\"t1\""));
    CHECK(json({"rates", "template", "remove", "t1"}) == "{\"template\":\"t1\",\"removed\":true}\n");
    CHECK(contains(json({"rates", "list"}), "{\"group\":\"carrier\",\"rates\":1,\"accounts\":0}"));
    CHECK(contains(json({"rates", "export", "carrier"}), "\"prefix\":\"44\",\"area\":\"\""));
    CHECK(contains(json({"rates", "export", "carrier"}), "\"price\":\"0.0100\""));
    CHECK(contains(json({"rates", "autocreate", "auto", "--from", "carrier", "--margin", "10%", "--dry-run"}),
                   "\"price\":\"0.0112\""));
    CHECK(json({"rates", "autocreate", "auto", "--from", "carrier", "--margin", "10%"}) ==
          "{\"group\":\"auto\",\"created\":1}\n");
    CHECK(json({"rates", "alarms", "retail", "--vendors", "carrier"}) == "[]\n");

    // accounts
    CHECK(json({"accounts", "add", "C1", "--kind", "customer", "--rate-group", "retail"}) ==
          "{\"account\":\"C1\",\"kind\":\"customer\",\"added\":true}\n");
    REQUIRE(run({"accounts", "add", "V1", "--kind", "vendor", "--rate-group", "carrier"}).rc == 0);
    CHECK(json({"accounts", "topup", "C1", "10"}) == "{\"account\":\"C1\",\"balance\":\"10.00\"}\n");
    CHECK(json({"accounts", "set", "C1", "--name", "Acme"}) ==
          "{\"account\":\"C1\",\"kind\":\"customer\",\"updated\":true}\n");
    const std::string show = json({"accounts", "show", "C1"});
    CHECK(contains(show, "{\"id\":\"C1\",\"name\":\"Acme\",\"kind\":\"customer\",\"balance\":\"10.00\""));
    CHECK(contains(show, "\"kind\":\"topup\",\"amount\":\"10.00\""));
    CHECK(contains(json({"accounts", "list"}), "\"id\":\"C1\",\"name\":\"Acme\""));
    CHECK(json({"accounts", "private", "C1", "retail"}) == "{\"account\":\"C1\",\"private_rate_group\":\"retail\"}\n");
    CHECK(json({"accounts", "phone", "1001", "retail"}) == "{\"phone\":\"1001\",\"private_rate_group\":\"retail\"}\n");
    CHECK(contains(json({"accounts", "max-duration", "C1", "442071234567", "--at", "2026-11-10 10:00"}),
                   "\"at\":\"2026-11-10 10:00:00\",\"max_call_duration_s\":"));

    // billing settings, tiers
    CHECK(json({"billing", "set", "currency.code", "EUR"}) ==
          "{\"key\":\"currency.code\",\"value\":\"EUR\",\"set\":true}\n");
    CHECK(contains(json({"billing", "show"}), "{\"key\":\"currency.code\",\"value\":\"EUR\""));
    CHECK(json({"tiers", "add", "C1", "44", "--from-minutes", "0", "--price", "0.02"}) ==
          "{\"account\":\"C1\",\"prefix\":\"44\",\"from_minutes\":0,\"price\":\"0.0200\",\"bonus_minutes\":0}\n");
    CHECK(contains(json({"tiers", "list"}), "\"from_minutes\":0"));

    // CDRs, reports, reconcile, audit
    CHECK(contains(json({"cdr", "import", "calls.csv"}), "{\"stored\":1,"));
    CHECK(json({"tiers", "usage", "C1", "44", "--month", "2026-11"}) ==
          "{\"account\":\"C1\",\"prefix\":\"44\",\"month\":\"2026-11\",\"billed_s\":108}\n");
    CHECK(json({"tiers", "remove", "C1", "44", "--from-minutes", "0"}) ==
          "{\"account\":\"C1\",\"prefix\":\"44\",\"from_minutes\":0,\"removed\":true}\n");
    CHECK(contains(json({"cdr", "export"}), "\"customer\":\"C1\""));
    CHECK(contains(json({"report", "revenue"}), "\"report\":\"revenue\""));
    CHECK(contains(json({"reconcile", "vendor.csv", "--vendor", "V1"}), "{"));
    CHECK(json({"audit"}) == "{\"ok\":true,\"issues\":[]}\n");
    CHECK(json({"backup", "copy.db"}).rfind("{\"backup\":\"copy.db\",\"pages\":", 0) == 0);

    // packages
    CHECK(json({"packages", "add", "C1", "uk", "--prefixes", "44,33", "--minutes", "2", "--fee", "1", "--from",
                "2026-11-01", "--until", "2026-12-01"})
              .rfind("{\"account\":\"C1\",\"package\":\"uk\",\"minutes\":2,\"fee\":\"1.0000\",\"balance\":\"", 0) == 0);
    CHECK(contains(json({"packages", "list"}), "{\"account\":\"C1\",\"name\":\"uk\",\"prefixes\":[\"44\",\"33\"]"));
    const std::string usage = json({"packages", "usage", "C1", "uk"});
    CHECK(usage.rfind("{\"account\":\"C1\",\"name\":\"uk\",", 0) == 0);
    CHECK(contains(usage, "\"seconds\":120,"));
    CHECK(contains(usage, "\"remaining_min\":\"2.00\"}"));
    CHECK(json({"packages", "remove", "C1", "uk"}) == "{\"account\":\"C1\",\"package\":\"uk\",\"removed\":true}\n");

    // --json with another --format: a usage error, nothing done.
    const std::string before = run({"accounts", "show", "C1", "--json"}).out;
    for (std::vector<std::string> args :
         {std::vector<std::string>{"accounts", "list"}, {"rates", "list"}, {"rates", "alarms", "retail", "--vendors", "carrier"},
          {"tiers", "list"}, {"billing", "show"}, {"rates", "template", "list"}, {"cdr", "export"},
          {"report", "revenue"}, {"reconcile", "vendor.csv", "--vendor", "V1"}, {"packages", "list"},
          {"accounts", "topup", "C1", "5"}}) {
        args.insert(args.end(), {"--json", "--format", "csv"});
        INFO(args[0] << " " << args[1]);
        CHECK(run(args).rc == 2);
    }
    CHECK(run({"accounts", "show", "C1", "--json"}).out == before);  // the topup refused
    // Errors: the same message and exit code, nothing on stdout.
    Run r = run({"accounts", "topup", "NOPE", "1", "--json"});
    CHECK(r.rc == 1);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "NOPE"));
}
