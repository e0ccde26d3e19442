#!/bin/sh
# The scale-out profile's PostgreSQL primary (docker-compose.yml): run once,
# when its data directory is created (the postgres image runs
# /docker-entrypoint-initdb.d/*), it adds the role the streaming replica
# connects as and lets it in from the Compose network.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD'"
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
