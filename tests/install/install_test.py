#!/usr/bin/env python3
"""`meson install --destdir` (issue 11 item 7): binaries, libraries, headers, pkg-config
files, the default configuration, the systemd unit and the man pages land where they should;
the installed unit passes `systemd-analyze verify`; the man pages name every option of the
real `--help` texts.

systemd-analyze verify runs offline, without a running systemd. It checks that ExecStart's
binary exists, so it is run on a copy of the installed unit whose installed paths point into
DESTDIR, with MANPATH set there (so Documentation=man:... finds the installed pages). When it
cannot verify even a trivial unit on this machine, the test exits 77 (meson: SKIP).

usage: install_test.py BUILD_DIR TRUNKLINE TRUNKCTL REPORT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD, TRUNKLINE, TRUNKCTL, REPORT = sys.argv[1:5]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from support import Results  # noqa: E402

R = Results()
check = R.check


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, **kw)
    return p.returncode, p.stdout.decode(errors="replace")


def find(root, rel_suffix):
    """Installed files whose path ends with rel_suffix (the libdir has a multiarch part)."""
    hits = []
    for d, _, files in os.walk(root):
        for f in files + [x for x in os.listdir(d) if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, f)
            if p.endswith(rel_suffix):
                hits.append(p)
    return sorted(set(hits))


def meson_prefix():
    rc, out = run(["meson", "introspect", "--buildoptions", BUILD])
    import json
    opts = {o["name"]: o["value"] for o in json.loads(out)}
    return opts["prefix"], opts["sysconfdir"], opts["bindir"], opts["mandir"]


def analyze(unit, env):
    return run(["systemd-analyze", "verify", unit], env=env)


work = tempfile.mkdtemp(prefix="trunkline-install-")
skip = False
try:
    dest = os.path.join(work, "dest")
    rc, out = run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", dest])
    check("meson install --destdir succeeds", rc == 0, out[-2000:])
    prefix, sysconfdir, bindir, mandir = meson_prefix()
    root = dest + prefix
    etc = sysconfdir if os.path.isabs(sysconfdir) else os.path.join(prefix, sysconfdir)
    for exe in ("trunkline", "trunkctl", "sipdump"):
        p = os.path.join(root, bindir, exe)
        check(f"bin/{exe} installed and executable", os.access(p, os.X_OK), p)
    for lib in ("libsipcore.so", "libsipcore_uv.so", "libroute_lcr.so", "libroute_reg.so",
                "libroute_domain.so", "libbilling.so", "libbilling_sqlite.so"):
        check(f"{lib} installed", find(root, "/" + lib), lib)
    for pc in ("sipcore", "sipcore_uv", "sipcore_crypto", "route_prefix", "route_lcr",
               "route_reg", "route_domain", "billing", "billing_sqlite"):
        check(f"pkgconfig/{pc}.pc installed", find(root, f"/pkgconfig/{pc}.pc"), pc)
    for h in ("include/sip/message.hpp", "include/route/lcr/router.hpp",
              "include/billing/rating.hpp"):
        check(f"{h} installed", os.path.isfile(os.path.join(root, h)), h)
    conf = os.path.join(dest + etc, "trunkline", "trunkline.toml")
    check("default config installed as sysconfdir/trunkline/trunkline.toml", os.path.isfile(conf),
          conf)
    if os.path.isfile(conf):
        rc, out = run([TRUNKLINE, "--config", conf, "--db", os.path.join(work, "c.db"),
                       "--check-config"], cwd=work)
        check("the installed config loads (trunkline --check-config)", rc == 0, out[-1500:])
    unit = os.path.join(root, "lib", "systemd", "system", "trunkline.service")
    check("systemd unit installed", os.path.isfile(unit), unit)
    man = {n: os.path.join(root, mandir, "man8", f"{n}.8") for n in ("trunkline", "trunkctl")}
    for n, p in man.items():
        check(f"man page {n}(8) installed", os.path.isfile(p), p)

    # the man pages follow the real --help texts
    if os.path.isfile(man["trunkline"]):
        _, helptext = run([TRUNKLINE, "--help"])
        page = open(man["trunkline"]).read().replace("\\-", "-")
        opts = sorted(set(re.findall(r"^\s+(--[a-z-]+)", helptext, re.M)))
        missing = [o for o in opts if o not in page]
        check("trunkline(8) documents every option of trunkline --help",
              len(opts) > 10 and not missing, f"{len(opts)} options, missing {missing}")
    if os.path.isfile(man["trunkctl"]):
        _, helptext = run([TRUNKCTL, "--help"])
        page = open(man["trunkctl"]).read().replace("\\-", "-")
        body = helptext.split("commands:", 1)[-1].split("\n\n", 1)[0]
        cmds = sorted(set(re.findall(r"^  ([a-z][a-z-]+)\b", body, re.M)))
        missing = [c for c in cmds if not re.search(r"^\.BI? \"?" + re.escape(c) + r"\b", page, re.M)]
        check("trunkctl(8) documents every command of trunkctl --help",
              len(cmds) > 10 and not missing, f"{len(cmds)} commands, missing {missing}")

    if os.path.isfile(unit):
        text = open(unit).read()
        for key in ("Type=notify", "DynamicUser=yes", "StateDirectory=trunkline",
                    "ConfigurationDirectory=trunkline", "ProtectSystem=strict",
                    "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
                    "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ExecReload=/bin/kill -HUP $MAINPID",
                    "Restart=on-failure", "LimitNOFILE="):
            check(f"unit has {key}", re.search("^" + re.escape(key), text, re.M), key)
        if shutil.which("systemd-analyze") is None:
            check("systemd-analyze is installed (scripts/setup.sh: systemd)", False, "missing")
        else:
            env = dict(os.environ, MANPATH=os.path.join(root, mandir), SYSTEMD_LOG_LEVEL="notice")
            # can this machine verify at all? a trivial, correct unit must pass
            probe = os.path.join(work, "probe.service")
            with open(probe, "w") as f:
                f.write("[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n")
            prc, pout = analyze(probe, env)
            if prc != 0:
                print(f"SKIP systemd-analyze verify cannot run here: {pout.strip()[-500:]}")
                skip = True
            else:
                # the installed unit with its installed paths moved into DESTDIR
                moved = os.path.join(work, "trunkline.service")
                with open(moved, "w") as f:
                    f.write(text.replace(prefix + "/", root + "/"))
                rc, out = analyze(moved, env)
                check("systemd-analyze verify accepts the installed unit",
                      rc == 0 and out.strip() == "", out[-2000:])
finally:
    R.write_junit(REPORT, "install")
    shutil.rmtree(work, ignore_errors=True)
if R.failed():
    sys.exit(1)
sys.exit(77 if skip else 0)
