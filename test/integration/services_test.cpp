// The services the scripts start are real: a Kafka broker that carries
// records with headers, a PostgreSQL with PostGIS that round-trips geometry.

#include <gtest/gtest.h>

#include "test/support/kafka_client.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;

TEST(Services, KafkaCarriesRecordsWithHeaders) {
  const auto topic = kt::unique_name("services_roundtrip");
  kt::create_topics(kt::brokers(), {topic}, 2);
  {
    kt::kafka_producer p(kt::brokers());
    p.send(topic, R"({"subscriptionId":"s","data":[]})", {{"Fiware-Service", "test"}, {"Fiware-ServicePath", "/x"}}, "",
           1);
    p.flush();
  }
  auto records = kt::read_records(kt::brokers(), topic, 1, 30000);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].partition, 1);
  EXPECT_EQ(records[0].value, R"({"subscriptionId":"s","data":[]})");
  ASSERT_EQ(records[0].hdrs.size(), 2u);
  EXPECT_EQ(records[0].hdrs[0], (std::pair<std::string, std::string>{"Fiware-Service", "test"}));
  EXPECT_EQ(records[0].hdrs[1], (std::pair<std::string, std::string>{"Fiware-ServicePath", "/x"}));
  kt::delete_topics(kt::brokers(), {topic});
}

TEST(Services, PostgisRoundTripsAGeometry) {
  kt::pg_client pg;
  const auto schema = kt::unique_name("services_geo");
  pg.exec("CREATE SCHEMA " + schema);
  pg.exec("CREATE TABLE " + schema + ".places (id int, location geometry(Point, 4326))");
  pg.exec("INSERT INTO " + schema + ".places VALUES (1, ST_SetSRID(ST_MakePoint(-3.7038, 40.4168), 4326))");
  EXPECT_EQ(pg.scalar("SELECT ST_AsText(location) FROM " + schema + ".places"), "POINT(-3.7038 40.4168)");
  EXPECT_EQ(pg.scalar("SELECT ST_SRID(location) FROM " + schema + ".places"), "4326");
  EXPECT_EQ(pg.scalar("SELECT ST_AsGeoJSON(location) FROM " + schema + ".places"),
            R"({"type":"Point","coordinates":[-3.7038,40.4168]})");
  pg.exec("DROP SCHEMA " + schema + " CASCADE");
}
