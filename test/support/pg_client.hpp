#pragma once
// A PostgreSQL client for tests: run SQL, read values back.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace kafnus::test {

using sql_row = std::vector<std::optional<std::string>>;

class pg_client {
 public:
  pg_client();  // connects with test_env's settings
  ~pg_client();
  pg_client(const pg_client&) = delete;
  pg_client& operator=(const pg_client&) = delete;

  void exec(const std::string& sql);  // any statements, autocommit
  std::vector<sql_row> query(const std::string& sql);
  // The single value of a query ("" for NULL); throws when there is no row.
  std::string scalar(const std::string& sql);
  long long count(const std::string& table, const std::string& where = "");
  bool table_exists(const std::string& schema, const std::string& table);

 private:
  void reconnect_if_needed();
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace kafnus::test
