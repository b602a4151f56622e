// The FIWARE context read from Kafka record headers.

#include <gtest/gtest.h>

#include "ngsi/headers.hpp"

namespace kafnus::ngsi {
namespace {

TEST(Headers, DefaultsWhenAbsent) {
  const auto ctx = read_fiware_context({});
  EXPECT_EQ(ctx.service, "default");
  EXPECT_EQ(ctx.servicepath, "/");
  EXPECT_EQ(ctx.datamodel, "");
}

TEST(Headers, NamesMatchInAnyCaseAsOrionSendsThem) {
  const auto ctx = read_fiware_context({{"Fiware-Service", "test"},
                                        {"Fiware-ServicePath", "/simple"},
                                        {"FIWARE-DATAMODEL", "dm-by-entity-type-database-schema"},
                                        {"Fiware-Correlator", "3f1c-42"}});
  EXPECT_EQ(ctx.service, "test");
  EXPECT_EQ(ctx.servicepath, "/simple");
  EXPECT_EQ(ctx.datamodel, "dm-by-entity-type-database-schema");
}

TEST(Headers, ServiceAndServicepathAreLowerCased) {
  const auto ctx = read_fiware_context({{"fiware-service", "SmartCity"}, {"fiware-servicepath", "/Parking/Zone1"}});
  EXPECT_EQ(ctx.service, "smartcity");
  EXPECT_EQ(ctx.servicepath, "/parking/zone1");
}

TEST(Headers, LeadingSlashIsAddedToServicepath) {
  // The legacy MQTT source sent the servicepath without its slash.
  EXPECT_EQ(read_fiware_context({{"fiware-servicepath", "simple"}}).servicepath, "/simple");
  EXPECT_EQ(read_fiware_context({{"fiware-servicepath", "a/b"}}).servicepath, "/a/b");
}

TEST(Headers, EmptyValuesFallBackToDefaults) {
  const auto ctx = read_fiware_context({{"fiware-service", ""}, {"fiware-servicepath", ""}});
  EXPECT_EQ(ctx.service, "default");
  EXPECT_EQ(ctx.servicepath, "/");
}

TEST(Headers, RootServicepathStaysRoot) {
  EXPECT_EQ(read_fiware_context({{"fiware-servicepath", "/"}}).servicepath, "/");
}

TEST(Headers, LastDuplicateWinsWhateverItsCase) {
  const auto ctx = read_fiware_context({{"fiware-service", "first"},
                                        {"FIWARE-SERVICE", "second"},
                                        {"Fiware-ServicePath", "/one"},
                                        {"fiware-servicepath", "/two"}});
  EXPECT_EQ(ctx.service, "second");
  EXPECT_EQ(ctx.servicepath, "/two");
}

TEST(Headers, LastDuplicateWinsEvenWhenEmpty) {
  const auto ctx = read_fiware_context({{"fiware-service", "first"}, {"fiware-service", ""}});
  EXPECT_EQ(ctx.service, "default");
}

TEST(Headers, DatamodelIsTrimmedButNotLowerCased) {
  EXPECT_EQ(read_fiware_context({{"fiware-datamodel", "  dm-by-entity-type-database \t\r\n"}}).datamodel,
            "dm-by-entity-type-database");
  EXPECT_EQ(read_fiware_context({{"fiware-datamodel", "DM-BY-Entity"}}).datamodel, "DM-BY-Entity");
  EXPECT_EQ(read_fiware_context({{"fiware-datamodel", "   "}}).datamodel, "");
}

TEST(Headers, UnrelatedHeadersAreIgnored) {
  const auto ctx = read_fiware_context(
      {{"fiware-service-x", "nope"}, {"graphname", "g"}, {"fiware-service", "ok"}, {"x-fiware-servicepath", "/no"}});
  EXPECT_EQ(ctx.service, "ok");
  EXPECT_EQ(ctx.servicepath, "/");
}

TEST(Headers, CorrelatorIsKeptAsSent) {}

TEST(Headers, NonAsciiBytesAreKept) {
  // Only ASCII letters fold; sanitize() later maps the rest for identifiers.
  EXPECT_EQ(read_fiware_context({{"fiware-service", "Ciudad\xC3\x89"}}).service, "ciudad\xC3\x89");
}

}  // namespace
}  // namespace kafnus::ngsi
