"""The Debian packages (config/package) and `--version`.

`cpack -G DEB` runs over this build tree: the same install rules and CPack settings
scripts/package uses on its own Release tree, in seconds instead of a second full build.
The packages' contents, control data, conffiles and systemd unit are checked, then wampd is
unpacked into a scratch root (`dpkg -x`, nothing is installed on this machine) and served
from there: the unpacked wampd with the unpacked config on a free port, a WAMP v1 client
subscribed, the unpacked wampctl publishing; tests/outoftree/hello is built against the
unpacked wampd-dev and served the same way. The maintainer scripts run against stub
commands (adduser, deb-systemd-helper, ...) and a scratch DPKG_ROOT; then for real: dpkg
installs the package into a scratch root (`dpkg --root`, the maintainer scripts run with
DPKG_ROOT), wampd serves from the installed files, and dpkg purges it. This machine's own
package database, users and services are never touched.
"""

import asyncio
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, WampdProcess, free_port
from wamp_client import CALL, CALLRESULT, EVENT, WampV1Client, run

# cpack installs each component and runs strip and dpkg-shlibdeps: seconds on an idle
# machine, far longer on a busy one.
PACKAGE_TIMEOUT = 600.0
VERSION = re.search(r"project\(wampd VERSION ([0-9.]+)",
                    (SOURCE_DIR / "CMakeLists.txt").read_text()).group(1)
ABI = re.search(r'#define WAMPD_ABI_VERSION "([0-9a-f]+)"',
                (SOURCE_DIR / "sdk" / "include" / "wampd" / "abi_version.h").read_text()).group(1)
BUILD_TYPE = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$",
                       (BUILD_DIR / "CMakeCache.txt").read_text(), re.M).group(1)
BUNDLED_PLUGINS = ["broadcast", "ping", "secured"]


def run_step(args, timeout=PACKAGE_TIMEOUT, **options):
    """Runs a command; fails the test with its output if it fails."""
    completed = subprocess.run([str(arg) for arg in args], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout, **options)
    assert completed.returncode == 0, (
        f"{' '.join(map(str, args))} exited with {completed.returncode}:\n"
        f"{completed.stdout}\n{completed.stderr}")
    return completed


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """{"wampd": Path, "wampd-dev": Path}: the .deb files cpack made from this build tree."""
    out = tmp_path_factory.mktemp("cpack")
    run_step(["cpack", "-G", "DEB", "--config", BUILD_DIR / "CPackConfig.cmake", "-B", out])
    debs = {path.name: path for path in out.glob("*.deb")}
    assert sorted(debs) == sorted([f"wampd_{VERSION}_amd64.deb", f"wampd-dev_{VERSION}_all.deb"])
    return {"wampd": debs[f"wampd_{VERSION}_amd64.deb"],
            "wampd-dev": debs[f"wampd-dev_{VERSION}_all.deb"]}


@pytest.fixture(scope="module")
def root(packages, tmp_path_factory):
    """A scratch root with wampd unpacked into it (no maintainer script has run)."""
    root = tmp_path_factory.mktemp("root")
    run_step(["dpkg", "-x", packages["wampd"], root])
    return root


def contents(deb):
    """The paths a .deb holds, as `dpkg-deb -c` lists them (`./usr/bin/wampd`; dirs end in /)."""
    return [line.split()[-1] for line in run_step(["dpkg-deb", "-c", deb]).stdout.splitlines()]


def control_field(deb, field):
    return run_step(["dpkg-deb", "-f", deb, field]).stdout.strip()


# ---- --version ----

@pytest.mark.parametrize("program", ["wampd", "wampctl"])
def test_version_names_version_abi_and_build(program):
    out = run_step([BUILD_DIR / "bin" / program, "--version"]).stdout
    lines = out.splitlines()
    assert lines[0] == f"{program} {VERSION}"
    assert f"plugin ABI: {ABI}" in lines
    signature = [line for line in lines if line.startswith("plugin build signature: ")]
    assert signature and re.search(r"(gcc|clang)-\d+;libstdc\+\+-cxx11abi-1;.*cplusplus-2017",
                                   signature[0]), out
    built = [line for line in lines if line.startswith("built with: ")]
    assert built and built[0].endswith(f", {BUILD_TYPE}"), out
    described = subprocess.run(["git", "describe", "--tags", "--always"], cwd=SOURCE_DIR,
                               capture_output=True, text=True)
    if described.returncode == 0:
        # Configure time's description: the commit may have moved on since, the prefix not.
        assert any(line.startswith("source: git ") for line in lines), out


def test_version_matches_what_the_server_reports(wampd):
    """The metrics' build_info and the WELCOME's server ident carry the same version."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{wampd.port}/metrics", timeout=5) as reply:
        metrics = reply.read().decode()
    assert f'version="{VERSION}"' in metrics and f'abi="{ABI}"' in metrics

    async def welcome():
        async with await WampV1Client.connect(wampd.url) as client:
            return client.welcome
    assert run(welcome())[3] == f"wampd/{VERSION}"


# ---- the packages ----

def test_wampd_package_holds_the_server_its_plugins_config_and_unit(packages):
    files = contents(packages["wampd"])
    expected = ["./usr/bin/wampd", "./usr/bin/wampctl", "./etc/wampd/wampd.yml",
                "./lib/systemd/system/wampd.service", "./usr/share/wampd/routing/",
                "./usr/share/doc/wampd/README.md", "./usr/share/doc/wampd/ORO.md",
                "./usr/share/doc/wampd/copyright"]
    for plugin in BUNDLED_PLUGINS:
        expected += [f"./usr/lib/wampd/plugins/{plugin}.so", f"./usr/lib/wampd/plugins/{plugin}.yml",
                     f"./etc/wampd/routing/{plugin}.yml"]
    missing = [path for path in expected if path not in files]
    assert not missing, f"missing from the wampd package: {missing}\n" + "\n".join(files)
    # The SDK is wampd-dev's; the plain install's share/wampd config would shadow /etc's.
    strays = [path for path in files if path.startswith(("./usr/include", "./usr/lib/cmake"))
              or path in ("./usr/share/wampd/wampd.yml", "./usr/local/")]
    assert not strays, strays


def test_wampd_dev_package_holds_the_sdk(packages):
    files = contents(packages["wampd-dev"])
    for path in ["./usr/include/wampd/wampd.h", "./usr/include/wampd/abi_version.h",
                 "./usr/lib/cmake/wampd/wampdConfig.cmake",
                 "./usr/lib/cmake/wampd/wampdConfigVersion.cmake",
                 "./usr/lib/cmake/wampd/WampdPlugin.cmake"]:
        assert path in files, f"{path} not in wampd-dev:\n" + "\n".join(files)
    assert not [path for path in files if path.startswith(("./usr/bin", "./etc", "./lib/"))]
    assert control_field(packages["wampd-dev"], "Depends") == f"wampd (= {VERSION})"
    assert control_field(packages["wampd-dev"], "Architecture") == "all"


def test_wampd_control_data(packages):
    deb = packages["wampd"]
    assert control_field(deb, "Package") == "wampd"
    assert control_field(deb, "Version") == VERSION
    assert control_field(deb, "Architecture") == "amd64"
    depends = control_field(deb, "Depends")
    # Computed by dpkg-shlibdeps from the binaries, plus what the postinst runs.
    for package in ["libc6", "libstdc++6", "libssl3", "libyaml-cpp0.7", "adduser"]:
        assert re.search(rf"(^|, ){re.escape(package)}\b", depends), depends
    info = run_step(["dpkg-deb", "-I", deb]).stdout
    for script in ["postinst", "prerm", "postrm", "conffiles"]:
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s+{script}\b", info, re.M), info
    for script in ["postinst", "prerm", "postrm"]:
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*\s+{script}\b", info, re.M), (
            f"{script} is not executable:\n{info}")


def test_config_and_routing_are_conffiles(packages, tmp_path):
    run_step(["dpkg-deb", "-e", packages["wampd"], tmp_path / "control"])
    conffiles = sorted((tmp_path / "control" / "conffiles").read_text().split())
    assert conffiles == sorted(["/etc/wampd/wampd.yml"] +
                               [f"/etc/wampd/routing/{p}.yml" for p in BUNDLED_PLUGINS])


def unit_settings(root):
    """The unit's [Service] settings: {key: [values]}."""
    settings = {}
    section = None
    for line in (root / "lib/systemd/system/wampd.service").read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_unit_runs_wampd_as_its_user_and_drains_before_the_stop_timeout(root):
    service = unit_settings(root)
    assert service["User"] == ["wampd"]
    assert service["ExecStartPre"] == ["/usr/bin/wampd --check-config --config /etc/wampd/wampd.yml"]
    assert service["ExecStart"] == ["/usr/bin/wampd --config /etc/wampd/wampd.yml"]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert service["Restart"] == ["on-failure"]
    assert int(service["LimitNOFILE"][0]) >= 65536
    assert service["RuntimeDirectory"] == ["wampd"]
    assert "WAMPD_RUNTIME_DIR=/run/wampd" in service["Environment"]
    config = (root / "etc/wampd/wampd.yml").read_text()
    drain = int(re.search(r"^\s+shutdown_timeout: (\d+)", config, re.M).group(1))
    assert int(service["TimeoutStopSec"][0]) > drain


def test_unit_passes_systemd_analyze_verify(root, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package `systemd`): unit not verified")
    # verify --root needs the units wampd.service pulls in (sysinit.target, ...) in that root:
    # a copy of the unpacked package with this machine's units beside it.
    scratch = tmp_path / "verify-root"
    shutil.copytree(root, scratch, symlinks=True)
    # -n: the package's own unit is never replaced.
    run_step(["cp", "-an", "/lib/systemd/system/.", scratch / "lib/systemd/system"])
    (scratch / "bin").mkdir(exist_ok=True)
    shutil.copy2("/bin/kill", scratch / "bin" / "kill")
    completed = subprocess.run(["systemd-analyze", "verify", f"--root={scratch}", "wampd.service"],
                               capture_output=True, text=True, timeout=60)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    # Unknown keys and bad values are only warnings: none may name our unit.
    assert "wampd.service" not in output, output


def test_unpacked_config_passes_the_units_check(root):
    """ExecStartPre's check, on the unpacked files: the config finds the plugins and routes
    relative to itself."""
    out = run_step([root / "usr/bin/wampd", "--check-config", "--config",
                    root / "etc/wampd/wampd.yml"]).stdout
    assert re.search(r"OK: (\d+) routes", out) and " 0 routes" not in out, out
    assert "from 3 plugins" in out, out


def test_serves_from_the_unpacked_package(root, runtime_dir, tmp_path):
    """The unpacked wampd, given no --config, serves the unpacked /etc/wampd/wampd.yml; a WAMP
    v1 client subscribed to oro/maintenance receives what the unpacked wampctl publishes as the
    backend (the token from the cookie in $WAMPD_RUNTIME_DIR, as under the unit)."""
    port = free_port()
    server = WampdProcess([str(root / "usr/bin/wampd"), "--port", str(port)], port,
                          tmp_path / "packaged.log", None)
    try:
        server.wait_ready()
        # The port accepts before the "listening" line is written: wait for the line.
        server.wait_for_log(f"with {root}/etc/wampd/wampd.yml")
        assert (runtime_dir / f"wampd-{port}.token").exists()

        async def scenario():
            async with await WampV1Client.connect(server.url) as browser:
                await browser.subscribe("oro/maintenance")
                await asyncio.sleep(0.2)
                published = await asyncio.to_thread(
                    subprocess.run,
                    [str(root / "usr/bin/wampctl"), "--url", server.url, "maintenance", "on",
                     "--user-id", "7"], capture_output=True, text=True, timeout=30,
                    stdin=subprocess.DEVNULL)
                assert published.returncode == 0, published.stderr
                return await browser.recv_event("oro/maintenance")

        event = run(scenario())
        assert event == [EVENT, "oro/maintenance", {"isOn": True, "userId": 7}]
    finally:
        code = server.stop()
    assert code == 0, server.log()


def test_a_plugin_built_against_wampd_dev_is_served_by_the_package(packages, tmp_path):
    """wampd-dev's CMake package builds tests/outoftree/hello into the package's plugin
    directory and its routes into /usr/share/wampd/routing, which the packaged config loads."""
    root = tmp_path / "root"
    for package in ("wampd", "wampd-dev"):
        run_step(["dpkg", "-x", packages[package], root])
    build = tmp_path / "hello-build"
    run_step(["cmake", "-S", SOURCE_DIR / "tests/outoftree/hello", "-B", build, "-G", "Ninja",
              f"-DCMAKE_PREFIX_PATH={root / 'usr'}"])
    run_step(["cmake", "--build", build])
    run_step(["cmake", "--install", build])
    assert (root / "usr/lib/wampd/plugins/hello.so").is_file()
    assert "hello/{room}" in (root / "usr/share/wampd/routing/hello.yml").read_text()

    port = free_port()
    server = WampdProcess([str(root / "usr/bin/wampd"), "--port", str(port)], port,
                          tmp_path / "hello.log", None)
    try:
        server.wait_ready()

        async def scenario():
            subscriber = await WampV1Client.connect(server.url)
            publisher = await WampV1Client.connect(server.url)
            async with subscriber, publisher:
                await subscriber.subscribe("hello/lobby")
                await subscriber.send([CALL, "barrier", "wampd.topics"])
                assert (await subscriber.recv())[:2] == [CALLRESULT, "barrier"]
                await publisher.publish("hello/lobby", {"x": 1})
                return await subscriber.recv_event("hello/lobby")

        event = run(scenario())
        assert event[2] == {"greeting": "Hello", "room": "lobby", "event": {"x": 1}}
    finally:
        code = server.stop()
    assert code == 0, server.log()


# ---- maintainer scripts ----

STUBBED = ["adduser", "getent", "deb-systemd-helper", "deb-systemd-invoke", "systemctl"]


@pytest.fixture
def scripts(packages, tmp_path):
    """run(script, *args, user_exists=False) -> calls: the packaged maintainer script run
    with every command it may call on the system replaced by a stub that records its
    arguments, DPKG_ROOT a scratch root with /etc/wampd in it. PATH holds the stubs and
    /usr/bin:/bin only, so a missing stub fails instead of touching this machine."""
    control = tmp_path / "control"
    run_step(["dpkg-deb", "-e", packages["wampd"], control])
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    calls = tmp_path / "calls"
    for name in STUBBED:
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n'
                        + ('[ -e "$STUB_USER_EXISTS" ]\n' if name == "getent" else "exit 0\n"))
        stub.chmod(0o755)
    dpkg_root = tmp_path / "dpkg-root"
    (dpkg_root / "etc/wampd/routing").mkdir(parents=True)
    (dpkg_root / "etc/wampd/wampd.yml").write_text("server: {}\n")
    user_flag = tmp_path / "user-exists"

    def run_script(script, *args, user_exists=False, in_root=True):
        if user_exists:
            user_flag.touch()
        elif user_flag.exists():
            user_flag.unlink()
        if calls.exists():
            calls.unlink()
        env = {"PATH": f"{stubs}:/usr/bin:/bin", "STUB_USER_EXISTS": str(user_flag)}
        if in_root:
            env["DPKG_ROOT"] = str(dpkg_root)
        completed = subprocess.run(["/bin/sh", "-e", control / script, *args], env=env,
                                   capture_output=True, text=True, timeout=30)
        assert completed.returncode == 0, f"{script} {args}: {completed.stderr}"
        return calls.read_text().splitlines() if calls.exists() else []

    run_script.dpkg_root = dpkg_root
    return run_script


def test_postinst_creates_the_system_user_once(scripts):
    # As on this machine (no DPKG_ROOT): adduser makes the user.
    first = scripts("postinst", "configure", "", in_root=False)
    adduser = [call for call in first if call.startswith("adduser ")]
    assert len(adduser) == 1, first
    assert "--system" in adduser[0] and "--group" in adduser[0] and adduser[0].endswith(" wampd")
    assert "deb-systemd-helper enable wampd.service" in first, first
    # An upgrade or a reinstall: the user exists, nothing is created again.
    again = scripts("postinst", "configure", VERSION, user_exists=True, in_root=False)
    assert not [call for call in again if call.startswith("adduser ")], again


def test_remove_keeps_the_config_and_purge_deletes_it(scripts):
    scripts("prerm", "remove")
    removed = scripts("postrm", "remove")
    assert (scripts.dpkg_root / "etc/wampd/wampd.yml").exists()
    assert "deb-systemd-helper mask wampd.service" in removed, removed
    purged = scripts("postrm", "purge")
    assert not (scripts.dpkg_root / "etc/wampd").exists()
    assert "deb-systemd-helper purge wampd.service" in purged, purged
    # The user stays (files it owned may remain anywhere).
    assert not [call for call in purged if call.startswith(("deluser", "userdel"))]


# ---- copyright ----

def dep5_paragraphs(text):
    """The paragraphs of a machine-readable copyright file: [{field: value}], continuation
    lines joined with newlines (a lone "." is an empty line)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields, last = {}, None
        for line in block.splitlines():
            if line.startswith((" ", "\t")):
                assert last, f"a continuation line opens a paragraph: {line!r}"
                fields[last] += "\n" + ("" if line.strip() == "." else line.strip())
            else:
                name, colon, value = line.partition(":")
                assert colon and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", name), line
                assert name not in fields, f"{name} twice in a paragraph"
                fields[name], last = value.strip(), name
        paragraphs.append(fields)
    return paragraphs


@pytest.mark.parametrize("package", ["wampd", "wampd-dev"])
def test_each_package_has_a_machine_readable_copyright(packages, tmp_path, package):
    """Debian's copyright format 1.0 (DEP-5): a header paragraph, Files paragraphs with
    Copyright and License, and every license named given its text (inline or standalone)."""
    run_step(["dpkg", "-x", packages[package], tmp_path])
    paragraphs = dep5_paragraphs(
        (tmp_path / f"usr/share/doc/{package}/copyright").read_text())
    header, rest = paragraphs[0], paragraphs[1:]
    assert header["Format"] == \
        "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    assert header["Upstream-Name"] == "wampd"
    files = [p for p in rest if "Files" in p]
    assert files and files[0]["Files"] == "*"
    texts = {}
    for paragraph in rest:
        assert "License" in paragraph, paragraph
        name, _, text = paragraph["License"].partition("\n")
        if text.strip():
            texts[name] = text
    for paragraph in files:
        assert paragraph.get("Copyright"), paragraph
        name = paragraph["License"].partition("\n")[0]
        assert name in texts, f"license {name} has no text"
    # Every license the header's comment names for the compiled-in libraries has its text.
    for name in re.findall(r"under (BSL-1\.0|Expat|BSD-3-clause)", header["Comment"]):
        assert name in texts, name


# ---- a real installation (dpkg --root) ----

@pytest.fixture
def dpkg_root(tmp_path):
    """An empty root dpkg can install into: its own package database, and a user database
    holding the base system's users (useradd --prefix writes there)."""
    if shutil.which("dpkg") is None or shutil.which("useradd") is None:
        pytest.skip("dpkg and useradd are needed to install the package into a scratch root")
    if os.geteuid() != 0:
        pytest.skip("dpkg --root installs as root only")
    root = tmp_path / "installed"
    for directory in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"):
        (root / directory).mkdir(parents=True)
    for name in ("status", "available"):
        (root / "var/lib/dpkg" / name).touch()
    for name in ("passwd", "group", "shadow", "gshadow"):
        base = [line for line in open(f"/etc/{name}")
                if line.split(":")[0] in ("root", "daemon", "nogroup", "nobody")]
        (root / "etc" / name).write_text("".join(base))
        (root / "etc" / name).chmod(0o600 if "shadow" in name else 0o644)
    return root


def dpkg(root, *args):
    """dpkg on the scratch root: its maintainer scripts run here with DPKG_ROOT set (there
    is no system in the root to chroot into), and the root holds none of the package's
    dependencies (this machine's libraries are used)."""
    return run_step(["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                     "--force-not-root", *args], timeout=120,
                    env={**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def test_installs_with_dpkg_serves_and_purges(packages, dpkg_root, runtime_dir, tmp_path):
    host_users = open("/etc/passwd").read()
    dpkg(dpkg_root, "--install", packages["wampd"])
    # The package is installed, its conffiles registered with their checksums.
    status = run_step(["dpkg-query", f"--admindir={dpkg_root}/var/lib/dpkg", "-W",
                       "-f=${Status}\n${Conffiles}\n", "wampd"]).stdout.splitlines()
    assert status[0] == "install ok installed", status
    conffiles = sorted(line.split()[0] for line in status[1:] if line.strip())
    assert conffiles == sorted(["/etc/wampd/wampd.yml"] +
                               [f"/etc/wampd/routing/{p}.yml" for p in BUNDLED_PLUGINS])
    assert all(re.fullmatch(r"\s*\S+ [0-9a-f]{32}", line) for line in status[1:] if line.strip())
    # The postinst made the system user and group in the root, and only there.
    users = {line.split(":")[0]: line.split(":") for line in
             (dpkg_root / "etc/passwd").read_text().splitlines()}
    assert "wampd" in users, (dpkg_root / "etc/passwd").read_text()
    assert int(users["wampd"][2]) < 1000 and users["wampd"][5] == "/nonexistent"
    assert users["wampd"][6] == "/usr/sbin/nologin"
    assert re.search(r"^wampd:", (dpkg_root / "etc/group").read_text(), re.M)
    assert open("/etc/passwd").read() == host_users
    # The service was enabled in the root (deb-systemd-helper honours DPKG_ROOT).
    wants = dpkg_root / "etc/systemd/system/multi-user.target.wants/wampd.service"
    if shutil.which("deb-systemd-helper"):
        assert wants.is_symlink(), list((dpkg_root / "etc").rglob("*"))

    # Served from the installed files: the installed wampd finds the installed config.
    port = free_port()
    server = WampdProcess([str(dpkg_root / "usr/bin/wampd"), "--port", str(port)], port,
                          tmp_path / "installed.log", None)
    try:
        server.wait_ready()
        server.wait_for_log(f"with {dpkg_root}/etc/wampd/wampd.yml")
        assert "from 3 plugins" in run_step(
            [dpkg_root / "usr/bin/wampd", "--check-config"]).stdout

        async def scenario():
            async with await WampV1Client.connect(server.url) as browser:
                await browser.subscribe("oro/maintenance")
                await asyncio.sleep(0.2)
                published = await asyncio.to_thread(
                    subprocess.run, [str(dpkg_root / "usr/bin/wampctl"), "--url", server.url,
                                     "maintenance", "on"],
                    capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
                assert published.returncode == 0, published.stderr
                return await browser.recv_event("oro/maintenance")

        assert run(scenario())[2]["isOn"] is True
    finally:
        assert server.stop() == 0, server.log()

    # An administrator's edit of a conffile survives remove; purge deletes /etc/wampd, the
    # package's files and its database entry; the user stays (see the README).
    config = dpkg_root / "etc/wampd/wampd.yml"
    config.write_text(config.read_text() + "# edited\n")
    dpkg(dpkg_root, "--remove", "wampd")
    assert config.read_text().endswith("# edited\n")
    assert not (dpkg_root / "usr/bin/wampd").exists()
    dpkg(dpkg_root, "--purge", "wampd")
    assert not (dpkg_root / "etc/wampd").exists()
    assert not wants.exists() and not wants.is_symlink()
    left = [p for p in (dpkg_root / "usr").rglob("*") if not p.is_dir()]
    assert not left, left
    listed = subprocess.run(["dpkg-query", f"--admindir={dpkg_root}/var/lib/dpkg", "-W",
                             "wampd"], capture_output=True, text=True)
    assert listed.returncode != 0 or "not-installed" in listed.stdout
    assert re.search(r"^wampd:", (dpkg_root / "etc/passwd").read_text(), re.M)
