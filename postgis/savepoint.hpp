#pragma once
// Runs work inside a savepoint of the current transaction: released when the
// work succeeds, rolled back (leaving the transaction usable) when it throws,
// the exception then propagating. `tx` must survive a failed statement
// (explicit_transaction; a pqxx::work aborts itself on the first failure).
// (libpqxx 6's subtransaction does not roll back to its savepoint after a
// failed statement, so it is not used.)

#include <string>

#include <pqxx/transaction_base>

namespace kafnus::postgis {

template <class Work>
void in_savepoint(pqxx::transaction_base& tx, Work&& work) {
  tx.exec("SAVEPOINT kafnus_sp");
  try {
    work();
  } catch (...) {
    tx.exec("ROLLBACK TO SAVEPOINT kafnus_sp");
    throw;
  }
  tx.exec("RELEASE SAVEPOINT kafnus_sp");
}

}  // namespace kafnus::postgis
