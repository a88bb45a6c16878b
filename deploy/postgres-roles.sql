-- The shared store's roles and database. Run once, as PostgreSQL's superuser, with the passwords given:
--   sudo -u postgres psql -v app_password="'…'" -v backup_password="'…'" -f deploy/postgres-roles.sql
-- (.ci/run runs it for the tests.) Safe to run again: it only creates what is missing and sets the passwords.
--
-- gridpulse         the dashboard processes and the command line (GRIDPULSE_DB=postgresql://gridpulse:…@host/gridpulse):
--                   owns the tables it creates on first start; nothing else in the server.
-- gridpulse_backup  pg_dump (python -m gridpulse backup): reads everything, writes nothing.
\set ON_ERROR_STOP on
SELECT 'CREATE ROLE gridpulse LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridpulse') \gexec
ALTER ROLE gridpulse WITH LOGIN NOSUPERUSER NOCREATEROLE PASSWORD :app_password;
SELECT 'CREATE ROLE gridpulse_backup LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridpulse_backup') \gexec
ALTER ROLE gridpulse_backup WITH LOGIN NOSUPERUSER NOCREATEROLE PASSWORD :backup_password;
GRANT pg_read_all_data TO gridpulse_backup;
SELECT 'CREATE DATABASE gridpulse OWNER gridpulse ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'gridpulse') \gexec
REVOKE ALL ON DATABASE gridpulse FROM PUBLIC;
GRANT CONNECT ON DATABASE gridpulse TO gridpulse, gridpulse_backup;
\connect gridpulse
-- PostgreSQL 15: only the owner creates in the public schema; the app owns its tables.
ALTER SCHEMA public OWNER TO gridpulse;
