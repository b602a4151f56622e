// What kind of failure an exception is: only failures known to pass are
// retried as a whole; every other database error is a data problem of its
// rows; a failure that says nothing of itself is "unknown" (the writer's
// backstop isolates it after a few attempts). And the SQLSTATE is found even
// where libpqxx 6.4 drops it.

#include <gtest/gtest.h>

#include <pqxx/except>

#include "postgis/error_class.hpp"

using namespace kafnus::postgis;

TEST(ErrorClass, OnlyKnownTransientSqlstatesAreRetriedAsAWhole) {
  for (const char* s : {"08006", "08003", "08P01", "40001", "40P01", "40003", "53300", "53100", "53200", "57P01",
                        "57P02", "57P03", "57014", "55P03", "55006", "58030", "25006", "XX001"}) {
    EXPECT_EQ(classify_sqlstate(s), failure_kind::transient) << s;
  }
  for (const char* s : {"42501",     // insufficient privilege (a missing GRANT, "must be owner")
                        "42703",     // undefined column
                        "42P01",     // undefined table
                        "42804",     // datatype mismatch
                        "42809",     // wrong object type (COPY into a view)
                        "54011",     // too many columns
                        "0A000",     // feature not supported
                        "3F000"}) {  // invalid schema name
    EXPECT_EQ(classify_sqlstate(s), failure_kind::statement) << s;
  }
  for (const char* s :
       {"23505", "23502", "23514", "22003", "22P02", "XX000", "54000", "40002", "P0001", "2F000", "25P02"}) {
    EXPECT_EQ(classify_sqlstate(s), failure_kind::row) << s;
  }
  EXPECT_EQ(classify_sqlstate(""), failure_kind::unknown);
  EXPECT_EQ(classify_sqlstate("4250"), failure_kind::unknown);
  EXPECT_EQ(classify_sqlstate("42 01"), failure_kind::unknown);
}

TEST(ErrorClass, ExceptionsOfLibpqxx) {
  EXPECT_EQ(classify(pqxx::broken_connection("gone")), failure_kind::transient);
  EXPECT_EQ(classify(pqxx::in_doubt_error("?")), failure_kind::transient);
  EXPECT_EQ(classify(pqxx::sql_error("ERROR:  x", "q", "23505")), failure_kind::row);
  EXPECT_EQ(classify(pqxx::failure("Error writing to table")), failure_kind::unknown);
  EXPECT_EQ(classify(std::runtime_error("unknown")), failure_kind::unknown);
}

// libpqxx 6.4.5 throws insufficient_privilege & co. with an empty sqlstate():
// a missing GRANT was once retried forever as "transient".
TEST(ErrorClass, TheSqlstateThatLibpqxxDropsIsFoundAgain) {
  const pqxx::insufficient_privilege terse("ERROR:  permission denied for table t\n", "COPY …");
  ASSERT_EQ(terse.sqlstate(), "") << "libpqxx now keeps the code; the fallbacks may go";
  EXPECT_EQ(sqlstate_of(terse), "42501");
  EXPECT_EQ(classify(terse), failure_kind::statement);
  // With verbose errors (every Kafnus session) libpq puts the code in the message.
  const pqxx::sql_error verbose("ERROR:  42501: must be owner of table t\nLOCATION:  aclcheck_error, aclchk.c:3655\n");
  EXPECT_EQ(sqlstate_of(verbose), "42501");
  EXPECT_EQ(classify(verbose), failure_kind::statement);
  EXPECT_EQ(sqlstate_of(pqxx::serialization_failure("ERROR:  could not serialize access")), "40001");
  EXPECT_EQ(classify(pqxx::serialization_failure("ERROR:  could not serialize access")), failure_kind::transient);
  EXPECT_EQ(sqlstate_of(pqxx::deadlock_detected("ERROR:  deadlock detected")), "40P01");
  EXPECT_EQ(sqlstate_of(pqxx::too_many_connections("FATAL:  sorry, too many clients")), "53300");
  EXPECT_EQ(sqlstate_of(pqxx::sql_error("FATAL:  57P01: terminating connection due to administrator command\n")),
            "57P01");
  EXPECT_EQ(sqlstate_of(std::runtime_error("ERROR: no code here")), "");
  // A code inside the text is not mistaken for one.
  EXPECT_EQ(sqlstate_of(pqxx::failure("server said: ERROR:  12345: no")), "");
}

TEST(ErrorClass, MessagesKeepErrorDetailAndHint) {
  pqxx::sql_error e(
      "ERROR:  null value in column \"x\" of relation \"t\" violates not-null constraint\n"
      "DETAIL:  Failing row contains (1, null).\n",
      "INSERT …", "23502");
  EXPECT_EQ(error_message(e),
            "ERROR: null value in column \"x\" of relation \"t\" violates not-null constraint - DETAIL: Failing row "
            "contains (1, null).");
  pqxx::sql_error with_position("ERROR:  column \"y\" does not exist\nLINE 1: SELECT y\n               ^\n", "q",
                                "42703");
  EXPECT_EQ(error_message(with_position), "ERROR: column \"y\" does not exist");
}

TEST(ErrorClass, VerboseMessagesReadAsTerseOnes) {
  pqxx::sql_error e(
      "ERROR:  23505: duplicate key value violates unique constraint \"t_pkey\"\n"
      "DETAIL:  Key (entityid)=(E3) already exists.\n"
      "LOCATION:  _bt_check_unique, nbtinsert.c:664\n");
  EXPECT_EQ(error_message(e),
            "ERROR: duplicate key value violates unique constraint \"t_pkey\" - DETAIL: Key (entityid)=(E3) already "
            "exists.");
}
