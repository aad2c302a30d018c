-- Runs once, on the first start of an empty data volume (the postgres image
-- executes /docker-entrypoint-initdb.d/*.sql as POSTGRES_USER, which owns the
-- databases created here). One database per service; each service applies
-- its own schema migrations at start-up.
CREATE DATABASE mpp_intake;
CREATE DATABASE mpp_documents;
CREATE DATABASE mpp_complaints;
CREATE DATABASE mpp_notify;
