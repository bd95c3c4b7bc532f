#!/bin/sh
# Runs the zwave-js mock-server interop test in a network namespace with only loopback
# (the mock advertises itself over mDNS, which must not leave the machine). Needs root,
# node/npm, and `npm install zwave-js@15` in $ZWJS (default /tmp/zwjs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
ZWJS=${ZWJS:-/tmp/zwjs}
cd "$root"
# Build the test binary outside the namespace (no network inside).
bin=$(cargo test -p usphub-bridges --lib --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
exec unshare -n sh -c "
  ip link set lo up
  '$ZWJS/node_modules/.bin/mock-server' -i 127.0.0.1 -p 5555 -c '$here/interop-mock.json' > /tmp/zwave-js-mock.log 2>&1 &
  mock=\$!
  for i in 1 2 3 4 5 6 7 8 9 10; do grep -q 'listening' /tmp/zwave-js-mock.log && break; sleep 0.5; done
  ZWAVE_JS_MOCK=127.0.0.1:5555 '$bin' --ignored --exact zwave::bridge::interop::bridge_starts_interviews_and_writes_against_zwave_js_mock_server --nocapture
  rc=\$?
  kill \$mock
  exit \$rc
"
