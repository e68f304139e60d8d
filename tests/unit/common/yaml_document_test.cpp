#include "common/yaml_document.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "../auth/temp_dir.h"

using wampd::Value;
using wampd::core::ConfigError;
using wampd::core::YamlDocument;
using wampd::core::YamlEntry;
using wampd::core::YamlMapName;

namespace {

const std::string kFile = "/etc/wampd/test.yml";

ConfigError errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError thrown");
  return ConfigError({}, "");
}

YamlDocument parse(const std::string& text) {
  return YamlDocument::parse(text, kFile);
}

}  // namespace

TEST_CASE("loadFile reads a file and locates its nodes 1-based") {
  wampd::test::TempDir dir;
  const std::string file = dir.write("a.yml", "first: 1\nsecond:\n  nested: x\n");
  const YamlDocument doc = YamlDocument::loadFile(file);
  CHECK(doc.file() == file);
  CHECK(doc.at(doc.root()["second"]["nested"]).str() == file + ":3:11");
}

TEST_CASE("a YAML syntax error names file, line and column") {
  wampd::test::TempDir dir;
  const std::string file = dir.write("bad.yml", "a: 1\nb: [1, 2\nc: 3\n");
  const ConfigError e = errorOf([&] { YamlDocument::loadFile(file); });
  CHECK(e.where().file == file);
  // yaml-cpp notices the unclosed list at the next key.
  CHECK(e.where().line == 3);
  CHECK(e.where().column == 2);
  CHECK(e.detail().rfind("YAML syntax error: ", 0) == 0);

  const ConfigError parsed = errorOf([] { parse("b: [1, 2\nc: 3\n"); });
  CHECK(parsed.where().str() == kFile + ":2:2");
  CHECK(parsed.detail().rfind("YAML syntax error: ", 0) == 0);
}

TEST_CASE("a file that cannot be read is refused with the reason, or the reader's words") {
  wampd::test::TempDir dir;
  const std::string missing = dir.file("missing.yml");
  CHECK(std::string(errorOf([&] { YamlDocument::loadFile(missing); }).what()) ==
        missing + ": no such file");
  CHECK(std::string(errorOf([&] { YamlDocument::loadFile(dir.path().string()); }).what()) ==
        dir.path().string() + ": is a directory, not a file");
  CHECK(std::string(errorOf([&] {
                      YamlDocument::loadFile(missing, "cannot read the users file");
                    }).what()) == missing + ": cannot read the users file");
}

TEST_CASE("an empty file is a null root located at its start") {
  wampd::test::TempDir dir;
  for (const char* text : {"", "# only a comment\n"}) {
    const YamlDocument doc = YamlDocument::loadFile(dir.write("empty.yml", text));
    CHECK(doc.root().IsNull());
    CHECK(doc.entries(doc.root()).empty());
    CHECK(doc.at(doc.root()).str() == dir.file("empty.yml") + ":1:1");
  }
}

TEST_CASE("entries keeps file order and locates each key") {
  const YamlDocument doc = parse("b: 1\na: [x]\nc:\n");
  const std::vector<YamlEntry> entries = doc.entries(doc.root());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].key == "b");
  CHECK(entries[1].key == "a");
  CHECK(entries[1].value.IsSequence());
  CHECK(entries[2].value.IsNull());
  CHECK(doc.at(entries[2].keyNode).str() == kFile + ":3:1");
}

TEST_CASE("a duplicate key is refused at its second place, naming the first") {
  // yaml-cpp accepts this document and a lookup would see only the first 'port'.
  const YamlDocument doc = parse("server:\n  port: 1\n  host: h\n  port: 2\n");
  const YAML::Node server = doc.root()["server"];
  ConfigError e = errorOf([&] { doc.entries(server); });
  CHECK(std::string(e.what()) == kFile + ":4:3: duplicate key 'port' (first at " + kFile + ":2:3)");

  e = errorOf([&] { doc.entries(server, {"", "'server'"}); });
  CHECK(e.detail() == "duplicate key 'port' in 'server' (first at " + kFile + ":2:3)");

  e = errorOf([&] {
    doc.entries(server, {}, {}, [](const std::string& key, const wampd::core::SourceLocation&) {
      return "'" + key + "' is defined twice";
    });
  });
  CHECK(std::string(e.what()) == kFile + ":4:3: 'port' is defined twice");
}

TEST_CASE("an unknown key is refused at its place, naming what is allowed") {
  const YamlDocument doc = parse("a:\n  class: A\n  public: true\n");
  const YAML::Node a = doc.root()["a"];
  ConfigError e = errorOf([&] { doc.entries(a, {"service 'a'", ""}, {"class", "tags"}); });
  CHECK(std::string(e.what()) ==
        kFile + ":3:3: service 'a': unknown key 'public' (expected class, tags)");
  e = errorOf([&] { doc.entries(a, {"", "'a'"}, {"class"}); });
  CHECK(e.detail() == "unknown key 'public' in 'a' (expected class)");
  CHECK(doc.entries(a, {}, {"class", "public"}).size() == 2);
}

TEST_CASE("a key that is not a string, or a map that is not one, is refused") {
  const YamlDocument doc = parse("? [x]\n: 1\n");
  CHECK(errorOf([&] {
          doc.entries(doc.root(), {"route 'r'", ""});
        }).detail() == "route 'r': a key must be a string, found a list");
  const YamlDocument list = parse("server: [1]\n");
  const ConfigError e = errorOf([&] { list.entries(list.root()["server"], {"", "'server'"}); });
  CHECK(e.where().str() == kFile + ":1:9");
  CHECK(e.detail() == "'server' must be a map, found a list");
}

TEST_CASE("typed scalars") {
  const YamlDocument doc = parse(
      "s: text\nempty: ''\nlist: [1]\nyes: true\nno: FALSE\nword: yes\n"
      "n: -42\nbig: 70000\nhex: 0x10\n");
  const YAML::Node r = doc.root();
  CHECK(doc.scalar(r["s"], "s") == "text");
  CHECK(doc.scalar(r["empty"], "empty").empty());
  CHECK(errorOf([&] { doc.scalar(r["list"], "list"); }).detail() ==
        "list must be a string, found a list");
  CHECK(errorOf([&] { doc.nonEmpty(r["empty"], "empty"); }).detail() ==
        "empty must be a non-empty string, found ''");

  CHECK(doc.boolean(r["yes"], "yes"));
  CHECK_FALSE(doc.boolean(r["no"], "no"));
  CHECK(errorOf([&] { doc.boolean(r["word"], "word"); }).detail() ==
        "word must be true or false, found 'yes'");

  CHECK(doc.integer(r["n"], "n") == -42);
  CHECK(errorOf([&] { doc.integer(r["big"], "port", 1, 65535); }).detail() ==
        "port must be an integer from 1 to 65535, found '70000'");
  const ConfigError hex = errorOf([&] { doc.integer(r["hex"], "hex"); });
  CHECK(hex.detail() == "hex must be an integer, found '0x10'");
  CHECK(hex.where().str() == kFile + ":9:6");
}

TEST_CASE("value converts lists and maps, checking map keys") {
  const YamlDocument doc = parse("[a, 7, ~, [1], { k: v }]\n");
  const Value v = doc.value(doc.root());
  REQUIRE(v.array() != nullptr);
  REQUIRE(v.array()->size() == 5);
  CHECK(v.array()->at(0) == Value("a"));
  CHECK(v.array()->at(1) == Value("7"));
  CHECK(v.array()->at(2).isNull());
  CHECK(v.array()->at(4).object()->find("k")->asString() == "v");

  const YamlDocument twice = parse("[{ k: 1, k: 2 }]\n");
  CHECK(std::string(errorOf([&] { twice.value(twice.root()); }).what()) ==
        kFile + ":1:10: duplicate key 'k' (first at " + kFile + ":1:4)");
}
