#!/bin/sh
# The role the app connects as (docker-compose.yml): it may log in and nothing else until
# `manage.py grant_app_role reentry_app` (the compose file's `migrate` service) grants it the
# app's tables, the access log only INSERT and SELECT. It owns nothing, so it cannot drop or
# disable the log's triggers. Runs once, when the database volume is first created.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_password="${APP_DB_PASSWORD:?set APP_DB_PASSWORD}" <<'SQL'
CREATE ROLE reentry_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
SQL
