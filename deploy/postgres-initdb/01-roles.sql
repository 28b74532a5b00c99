-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d), as the
-- superuser POSTGRES_USER, in the database POSTGRES_DB (policy_tracker).
--
-- policy_owner  owns the tables: `manage.py migrate` runs as it (the compose `migrate` service).
-- policy_app    the web, worker and beat: reads and writes rows, owns nothing, so it cannot
--               TRUNCATE, ALTER TABLE ... DISABLE TRIGGER or SET session_replication_role.
--               Its privileges are granted by `manage.py db_app_role --role policy_app --execute`,
--               which the `migrate` service runs after each migration.
--
-- The passwords match docker-compose.yml; outside this local stack, choose your own.

CREATE ROLE policy_owner LOGIN PASSWORD 'policy_owner';
CREATE ROLE policy_app LOGIN PASSWORD 'policy_app';

ALTER DATABASE policy_tracker OWNER TO policy_owner;
-- PostgreSQL 15 and later: the public schema belongs to the database's owner and nobody else
-- may create in it. Said here for older servers too.
ALTER SCHEMA public OWNER TO policy_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
