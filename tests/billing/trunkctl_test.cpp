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

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

}  // namespace

TEST_CASE("trunkctl: --help everywhere, usage errors exit 2", "[billing][trunkctl]") {
    REQUIRE(fs::exists(trunkctl_path()));
    Sandbox sb;
    for (std::vector<std::string> args :
         {std::vector<std::string>{"--help"}, {"rates", "--help"}, {"rates", "import", "--help"},
          {"rates", "export", "--help"}, {"rates", "autocreate", "--help"}, {"accounts", "--help"},
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
          {"rates", "import", "g", "f", "--bogus"}, {"accounts", "add", "X"}, {"report", "nope"},
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
             "1,44,C1,V1,noon,,2026-11-26 10:00:09\n");
    r = sb.run({"--db", db, "cdr", "import", "badcalls.csv"});
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "line 2, field end_ms"));
    CHECK(contains(r.err, "line 3, field customer"));
    CHECK(contains(r.err, "line 4, field callee"));
    CHECK(contains(r.err, "line 5, field setup"));
    r = sb.run({"--db", db, "cdr", "import", "calls.csv"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "stored 3 CDRs, revenue 0.0663"));

    r = sb.run({"--db", db, "report", "revenue", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "C1,3,2,66.6666%,72,144,150,150,0.0663,0.053,0.0133,20.0603%\n"));
    r = sb.run({"--db", db, "report", "clearing", "--by", "gateway", "--format", "csv"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "V1,rgw1,2,2,100.00%,72,144,150,150,0.0663,0.053,0.0133,20.0603%\n"));
    r = sb.run({"--db", db, "report", "settlement", "--from", "2026-11-26", "--until", "2026-11-27", "--format", "json"});
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "\"revenue\":\"0.0663\",\"cost\":\"0.053\",\"profit\":\"0.0133\""));
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
    CHECK(contains(r.out, "V1,,vendor,0.053,0.00,carrier,\n"));
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
    r = sb.run({"--db", db, "cdr", "export"});
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);
}
