#pragma once
// What the daemon tells systemd (Type=notify): READY=1 once consuming and
// connected, STOPPING=1 when a graceful stop begins, WATCHDOG=1 while it is
// healthy. The notification protocol is one datagram to the socket systemd
// names in NOTIFY_SOCKET, so no library is needed; without NOTIFY_SOCKET (not
// run by systemd) nothing is sent.

#include <chrono>
#include <string_view>

namespace kafnus::service_manager {

// Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=…"); false
// when there is no service manager to tell, or it could not be reached.
bool notify(std::string_view state);

// How often systemd expects WATCHDOG=1 (WatchdogSec, from WATCHDOG_USEC), or
// zero when it does not watch this process.
std::chrono::microseconds watchdog_interval();

}  // namespace kafnus::service_manager
