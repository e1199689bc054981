#!/usr/bin/env bash
# Serves a folder over HTTP on a free localhost port for as long as the calling script runs.
# Sourced by tests/e2e/run.sh, bench/app.sh and bench/browser.sh, which call `serve_static DIR`
# and then use STATIC_URL. Needs python3 and curl. The server is killed by an EXIT trap, which
# replaces any EXIT trap the caller set before (and a later one of the caller's replaces it).
set -euo pipefail

# serve_static DIR [isolated]: starts Python's http.server on DIR, waits until it answers, and
# sets STATIC_PORT and STATIC_URL (http://127.0.0.1:PORT/, with the slash). With `isolated`, every
# response carries the COOP and COEP headers that make a page cross-origin isolated (threads);
# without, the page is served as GitHub Pages serves it. Fails when the server does not answer
# within 5 s.
serve_static() {
  local dir="$1" isolated="${2:-}" port server
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  python3 - "$port" "$dir" "$isolated" >/dev/null 2>&1 <<'PY' &
import functools, http.server, sys
port, root, isolated = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "isolated"
class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        if isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root)).serve_forever()
PY
  server=$!
  # shellcheck disable=SC2064 # the pid is meant to be expanded now
  trap "kill $server 2>/dev/null || true; wait $server 2>/dev/null || true" EXIT
  STATIC_PORT="$port"
  STATIC_URL="http://127.0.0.1:$port/"
  for _ in $(seq 50); do
    curl -sf "$STATIC_URL" >/dev/null && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  printf 'serve_static: the server for %s did not answer on %s\n' "$dir" "$STATIC_URL" >&2
  return 1
}
