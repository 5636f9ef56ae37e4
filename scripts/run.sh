#!/usr/bin/env bash
# Builds fieldworkd and fieldwork into ./bin and starts the server on its
# embedded default: ./fieldwork.db (created and migrated) on 127.0.0.1:7070,
# with the built-in frameworks. On a new database it prints an admin token
# and the next steps; on an existing one, how to issue another token.
#
# Environment (each optional):
#   FIELDWORK_DB      the database file         (default fieldwork.db)
#   FIELDWORK_LISTEN  the gRPC listen address   (default 127.0.0.1:7070)
#   FIELDWORK_HTTP    the live view's address   (default 127.0.0.1:7080)
# Arguments after the script's name go to fieldworkd serve as they are
# (e.g. --framework FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
echo "building fieldworkd and fieldwork into ./bin (the first cgo build of SQLite takes about a minute)…" >&2
go build -o bin/ ./server/cmd/fieldworkd ./client/cmd/fieldwork
DB=${FIELDWORK_DB:-fieldwork.db}
ADDR=${FIELDWORK_LISTEN:-127.0.0.1:7070}
HTTP=${FIELDWORK_HTTP:-127.0.0.1:7080}
if [ -e "$DB" ]; then
	# Not on every start: each token is a live administrator credential for
	# 90 days, and clients keep theirs after `fieldwork login`.
	cat >&2 <<MSG

fieldworkd is starting on $ADDR with the existing database $DB.
The tokens issued before still work; to issue another administrator token:

  bin/fieldworkd --db $DB admin-token

The lead's live view: http://$HTTP/
Stop the server with Ctrl-C.
MSG
	exec bin/fieldworkd --db "$DB" --listen "$ADDR" --http "$HTTP" "$@"
fi
TOKEN=$(bin/fieldworkd --db "$DB" admin-token)
cat >&2 <<MSG

fieldworkd is starting on $ADDR with a new database $DB.
A new administrator token (shown once):

  $TOKEN

In another terminal:

  export PATH="$PWD/bin:\$PATH"
  fieldwork login --server $ADDR --token $TOKEN
  fieldwork frameworks list
  ID=\$(fieldwork inspection create --name "Gwent PDU 2025" --framework probation-pdu-2023)
  fieldwork import --inspection \$ID --cases testdata/gwent-2025/cases.csv \\
      --answers testdata/gwent-2025/answers.csv --judgements testdata/gwent-2025/judgements.csv
  fieldwork report --inspection \$ID

The lead's live view: http://$HTTP/ (sign in with the token above).
Stop the server with Ctrl-C.
MSG
exec bin/fieldworkd --db "$DB" --listen "$ADDR" --http "$HTTP" "$@"
