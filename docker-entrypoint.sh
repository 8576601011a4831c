#!/bin/sh
# The image's entry point. `serve` (the default) applies migrations first, so a failing
# migration stops the container before the server starts and shows in its log (serve would
# migrate too, after loading the platforms). Anything else is a `cadence` command, passed on
# unchanged: `docker compose run --rm bot coverage`.
set -eu

if [ "$#" -eq 0 ]; then
  set -- serve
fi
if [ "$1" = serve ]; then
  cadence migrate
fi
exec cadence "$@"
