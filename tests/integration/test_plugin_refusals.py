"""Every plugin the host must refuse, through a real wampd: a config whose plugin
directories are the bundled one plus one refusal fixture (tests/fixtures/plugins/<name>/) is
refused by `wampd --check-config` and by a plain start, with a message naming the fixture's
file and the specific reason, and without a crash.
"""

import json
import re
import subprocess

import pytest

from conftest import (BUNDLED_PLUGIN_DIR, BUNDLED_ROUTING, FIXTURE_PLUGIN_DIR, SOURCE_DIR,
                      WAMPD)

FIXTURE_SOURCES = SOURCE_DIR / "tests" / "fixtures" / "plugins"
# Fixtures that are good plugins, loaded by other tests.
GOOD_FIXTURES = {"sample", "user_provider", "versioned", "versioned-v1", "versioned-v2", "sample-routing"}


def host_abi_version():
    """WAMPD_ABI_VERSION as the SDK the host was built with defines it."""
    header = (SOURCE_DIR / "sdk" / "include" / "wampd" / "abi_version.h").read_text()
    return re.search(r'#define WAMPD_ABI_VERSION "([0-9a-f]+)"', header).group(1)


# name -> (the file the message must name, words that state the specific reason).
# Files are relative to the fixture's output directory; every name is fixture_<name>.
REFUSALS = {
    "wrong_abi": ("fixture_wrong_abi.so",
                  ["ABI version 999", f"ABI version {host_abi_version()}"]),
    "integer_abi": ("fixture_integer_abi.so", ["ABI version (not text", "older than this one"]),
    "wrong_signature": ("fixture_wrong_signature.so",
                        ["build signature", "othercc-1;libother"]),
    "glibcxx_assertions": ("fixture_glibcxx_assertions.so",
                           ["build signature", "glibcxx-assertions-1;glibcxx-debug-0"]),
    "glibcxx_debug": ("fixture_glibcxx_debug.so",
                      ["build signature", "glibcxx-assertions-1;glibcxx-debug-1"]),
    "no_symbols": ("fixture_no_symbols.so", ["not a wampd plugin", "wampd_plugin_"]),
    "missing_class": ("fixture_missing_class.yml",
                      ["MissingTopic", "not registered", "fixture.missing", "RealTopic"]),
    "duplicate_name": ("fixture_duplicate_name.yml",
                       ["fixture.same_name", "fixture.first", "fixture.second"]),
    "bad_manifest": ("fixture_bad_manifest.yml", ["YAML"]),
    "unknown_parameter": ("fixture_unknown_parameter.yml", ["fixture.no_such_parameter"]),
    "throwing_constructor": ("fixture_throwing_constructor.yml",
                             ["ThrowingConstructorTopic", "fixture constructor failure"]),
    "register_throws": ("fixture_register_throws.so", ["registration failed"]),
    "no_manifest": ("fixture_no_manifest.so", ["without its manifest",
                                               "fixture_no_manifest.yml"]),
}

# Where in its manifest a refusal is, for those the manifest explains: (line,).
MANIFEST_LINES = {
    "missing_class": 6,
    "duplicate_name": 6,
    "bad_manifest": 5,
    "unknown_parameter": 2,
    "throwing_constructor": 2,
}


def config_with_fixture(tmp_path, name):
    config = {
        "server": {"host": "127.0.0.1", "port": 8080},
        "plugins": {"directories": [str(BUNDLED_PLUGIN_DIR), str(FIXTURE_PLUGIN_DIR / name)]},
        "routing": [str(path) for path in BUNDLED_ROUTING],
    }
    path = tmp_path / f"wampd-{name}.yml"
    path.write_text(json.dumps(config, indent=2))
    return path


def assert_refusal(name, code, output):
    file, reasons = REFUSALS[name]
    path = FIXTURE_PLUGIN_DIR / name / file
    assert code is not None and code > 0, (
        f"{name}: wampd exited with {code} (a negative code is a crash):\n{output}")
    if name in MANIFEST_LINES:
        assert f"{path}:{MANIFEST_LINES[name]}:" in output, f"{name}: {path}:line not in:\n{output}"
    else:
        assert str(path) in output, f"{name}: {path} not named in:\n{output}"
    for reason in reasons:
        assert reason in output, f"{name}: {reason!r} not in:\n{output}"


def test_every_refusal_fixture_is_covered():
    fixtures = {entry.name for entry in FIXTURE_SOURCES.iterdir() if entry.is_dir()}
    assert fixtures - GOOD_FIXTURES == set(REFUSALS)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_check_config_refuses_the_fixture(tmp_path, name):
    assert (FIXTURE_PLUGIN_DIR / name / f"fixture_{name}.so").is_file(), (
        f"fixture {name} is not built")
    completed = subprocess.run(
        [str(WAMPD), "--check-config", "--config", str(config_with_fixture(tmp_path, name))],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert_refusal(name, completed.returncode, completed.stderr)
    assert "OK" not in completed.stdout


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_wampd_does_not_start_with_the_fixture(tmp_path, wampd_factory, name):
    server = wampd_factory(config=config_with_fixture(tmp_path, name), wait=False)
    code = server.wait()
    assert_refusal(name, code, server.log())
    assert "listening" not in server.log()


def test_bundled_plugins_alone_are_accepted(tmp_path):
    """The control: the bundled directory, which every refusal config also holds, loads."""
    config = tmp_path / "bundled.yml"
    config.write_text(json.dumps({
        "plugins": {"directories": [str(BUNDLED_PLUGIN_DIR)]},
        "routing": [str(path) for path in BUNDLED_ROUTING],
    }))
    completed = subprocess.run([str(WAMPD), "--check-config", "--config", str(config)],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert "OK" in completed.stdout
