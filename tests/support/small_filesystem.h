// A real small filesystem for tests of what happens when the disk fills: a
// tmpfs mounted in a user and mount namespace of the test's own (unshare), so
// no root is needed where user namespaces are allowed and nothing outside the
// test sees the mount.
#pragma once

#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace scenery::testing {

// False when this machine allows no such namespace or no tmpfs in it (skip then).
inline bool can_mount_small_filesystem() {
  return run_command(
             "unshare -rm bash -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "
             "$d && umount $d && rmdir $d' 2>&1")
             .exit_code == 0;
}

// Runs the bash `script` (saved beside it as `script_file`) in a fresh user and
// mount namespace, where it may mount a tmpfs and resize it.
inline CommandResult run_in_own_mount_namespace(const std::filesystem::path& script_file,
                                                const std::string& script) {
  write_text(script_file, script);
  return run_command("unshare -rm bash " + script_file.string() + " 2>&1");
}

}  // namespace scenery::testing
