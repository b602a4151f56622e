// kafnus-publish: publishes notifications to Kafka from JSON Lines, one
// record a line in the conformance format:
//   {"topic": "...", "key": null|"...", "headers": {"Name": "value", ...}, "value": {...}}
// `value` is sent as one compact JSON text. Used by scripts/demo.sh.
//   kafnus-publish [--brokers host:port] [--create-topics a,b,c [--partitions N]] FILE...
// ("-" reads standard input; --create-topics creates the topics first, so a
// consumer subscribed to them sees them at once). --brokers defaults to the
// local services of scripts/services.sh (test_env.hpp).

#include <simdjson.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "test/support/kafka_client.hpp"
#include "test/support/test_env.hpp"

namespace {

int publish(kafnus::test::kafka_producer& producer, std::istream& in, const std::string& name) {
  simdjson::dom::parser parser;
  std::string line;
  int n = 0, line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::dom::element doc;
    if (auto err = parser.parse(line).get(doc)) {
      std::cerr << name << ":" << line_no << ": not JSON: " << simdjson::error_message(err) << "\n";
      return -1;
    }
    std::string_view topic;
    if (doc["topic"].get(topic)) {
      std::cerr << name << ":" << line_no << ": no \"topic\"\n";
      return -1;
    }
    kafnus::test::headers headers;
    simdjson::dom::object h;
    if (!doc["headers"].get(h)) {
      for (auto kv : h) {
        std::string_view v;
        if (!kv.value.get(v)) headers.emplace_back(std::string(kv.key), std::string(v));
      }
    }
    std::string_view key;
    std::string key_text;
    if (!doc["key"].get(key)) key_text = std::string(key);
    simdjson::dom::element value;
    if (doc["value"].get(value)) {
      std::cerr << name << ":" << line_no << ": no \"value\"\n";
      return -1;
    }
    producer.send(std::string(topic), simdjson::minify(value), headers, key_text);
    ++n;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers = kafnus::test::brokers();
  std::vector<std::string> files;
  std::vector<std::string> create;
  int partitions = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = argv[++i];
    } else if (a == "--create-topics" && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      std::string t;
      while (std::getline(list, t, ',')) {
        if (!t.empty()) create.push_back(t);
      }
    } else if (a == "--partitions" && i + 1 < argc) {
      partitions = std::stoi(argv[++i]);
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: kafnus-publish [--brokers host:port] [--create-topics a,b [--partitions N]] FILE...\n";
      return 0;
    } else {
      files.push_back(a);
    }
  }
  try {
    if (!create.empty()) {
      kafnus::test::create_topics(brokers, create, partitions);
      std::cout << "topics ready: " << create.size() << "\n";
      if (files.empty()) return 0;
    }
    if (files.empty()) files.push_back("-");
    kafnus::test::kafka_producer producer(brokers);
    int total = 0;
    for (const auto& f : files) {
      int n;
      if (f == "-") {
        n = publish(producer, std::cin, "stdin");
      } else {
        std::ifstream in(f);
        if (!in) {
          std::cerr << "kafnus-publish: cannot open " << f << "\n";
          return 1;
        }
        n = publish(producer, in, f);
      }
      if (n < 0) return 1;
      total += n;
    }
    producer.flush();
    std::cout << "published " << total << " notifications to " << brokers << "\n";
  } catch (const std::exception& e) {
    std::cerr << "kafnus-publish: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
