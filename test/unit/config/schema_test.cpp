// The one list of settings: every key lands in a field of its own, and
// config/kafnus.yaml documents every key with the default the list gives it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/loader.hpp"
#include "config/schema.hpp"

using kafnus::config::key_spec;
using kafnus::config::loaded_value;
using kafnus::config::schema;
using kafnus::config::settings;
using kafnus::config::value_type;

namespace {

// A value for key number `i` that no other key of its kind is given.
loaded_value distinct_value(const key_spec& k, std::size_t i) {
  loaded_value v;
  const auto tag = std::to_string(i);
  switch (k.type) {
    case value_type::string: v.scalar = "v" + tag; break;
    case value_type::integer:
      v.scalar = std::to_string(std::min(k.max, k.min + 1 + static_cast<std::int64_t>(i)));
      break;
    case value_type::enumeration: v.scalar = k.allowed.at(i % k.allowed.size()); break;
    case value_type::string_list: v.list = {"t" + tag, "u" + tag}; break;
    case value_type::string_map:
      v.map["k" + tag] = k.allowed.empty() ? "v" + tag : k.allowed.at(i % k.allowed.size());
      break;
    case value_type::document: v.scalar = "[{\"originalService\":\"s" + tag + "\"}]"; break;
  }
  return v;
}

bool same(const loaded_value& a, const loaded_value& b) {
  return a.scalar == b.scalar && a.list == b.list && a.map == b.map;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(SettingsList, EveryKeyLandsInAFieldOfItsOwn) {
  settings s{};
  const auto& keys = schema();
  std::size_t bound = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].assign) continue;
    ASSERT_TRUE(keys[i].read) << keys[i].path;
    keys[i].assign(s, distinct_value(keys[i], i));
    ++bound;
  }
  // Read back after every key was set: a key sharing another's field would
  // show the other's value.
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].assign) continue;
    EXPECT_TRUE(same(keys[i].read(s), distinct_value(keys[i], i))) << keys[i].path << " does not own its field";
  }
  EXPECT_GE(bound, keys.size() - 3) << "only the *_file keys are consumed by the loader itself";
}

TEST(SettingsList, OnlyTheFileKeysAreLeftToTheLoader) {
  std::set<std::string> unbound;
  for (const auto& k : schema()) {
    if (!k.assign) unbound.insert(k.path);
  }
  EXPECT_EQ(unbound, (std::set<std::string>{"admin.token_file", "kafka.property_files", "postgres.password_file"}));
}

TEST(SettingsList, DefaultsComeFromTheList) {
  const auto s = kafnus::config::load_string("kafka:\n  brokers: b:9092\npostgres:\n  database: d\n", {}, "t.yaml");
  for (const auto& k : schema()) {
    if (!k.read || k.required) continue;
    const auto v = k.read(s);
    switch (k.type) {
      case value_type::string_list: {
        std::string joined;
        for (const auto& x : v.list) joined += (joined.empty() ? "" : ",") + x;
        EXPECT_EQ(joined, k.default_value) << k.path;
        break;
      }
      case value_type::string_map: EXPECT_TRUE(v.map.empty()) << k.path; break;
      default: EXPECT_EQ(v.scalar, k.default_value) << k.path;
    }
  }
}

TEST(SettingsList, TheDocumentedFileListsEveryKeyWithItsDefault) {
  const auto path = std::string(KAFNUS_SOURCE_DIR) + "/config/kafnus.yaml";
  const auto text = read_file(path);
  ASSERT_FALSE(text.empty()) << path;
  const YAML::Node doc = YAML::Load(text);
  // The documented file, loaded, equals the defaults (but for the required keys it fills).
  const auto documented = kafnus::config::load_string(text, {}, path);
  std::string required;
  for (const auto& k : schema()) {
    if (k.required)
      required += k.path.substr(0, k.path.find('.')) + ":\n  " + k.path.substr(k.path.find('.') + 1) + ": x\n";
  }
  const auto defaults = kafnus::config::load_string(required, {}, "defaults.yaml");
  for (const auto& k : schema()) {
    // Present in the file (a secret may only be mentioned in a comment, never given a value there).
    YAML::Node node = YAML::Clone(doc);
    std::string rest = k.path;
    bool present = true;
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      const auto part = rest.substr(0, dot);
      rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
      if (!node.IsMap() || !node[part]) {
        present = false;
        break;
      }
      node = node[part];
    }
    const auto leaf = k.path.substr(k.path.rfind('.') + 1);
    if (!present) {
      EXPECT_TRUE(k.secret) << k.path << " is not in config/kafnus.yaml";
      EXPECT_THAT(text, testing::HasSubstr(leaf)) << "the secret " << k.path << " is not even mentioned";
      continue;
    }
    if (k.required || !k.read) continue;
    EXPECT_TRUE(same(k.read(documented), k.read(defaults)))
        << k.path << ": config/kafnus.yaml says '" << k.read(documented).scalar << "', the default is '"
        << k.default_value << "'";
  }
}
