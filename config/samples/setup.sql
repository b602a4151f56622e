-- Tables of the demo (Kafnus writes into tables an operator created; it
-- creates only its own offsets table and missing error-log tables).
CREATE EXTENSION IF NOT EXISTS postgis;
-- Recreated on every demo run so it starts from empty tables.
DROP SCHEMA IF EXISTS smartcity CASCADE;
CREATE SCHEMA smartcity;

CREATE TABLE smartcity.parking_parkingspot (
    timeinstant timestamptz NOT NULL,
    recvtime timestamptz NOT NULL,
    entityid text NOT NULL,
    entitytype text,
    fiwareservicepath text,
    status text,
    occupancy double precision,
    location geometry(Point, 4326),
    PRIMARY KEY (timeinstant, entityid)
);
CREATE TABLE smartcity.parking_parkingspot_lastdata (LIKE smartcity.parking_parkingspot);
ALTER TABLE smartcity.parking_parkingspot_lastdata ADD PRIMARY KEY (entityid);
CREATE TABLE smartcity.parking_parkingspot_mutable (LIKE smartcity.parking_parkingspot INCLUDING ALL);

CREATE TABLE smartcity.environment_weatherobserved (
    timeinstant timestamptz NOT NULL,
    recvtime timestamptz NOT NULL,
    entityid text NOT NULL,
    entitytype text,
    fiwareservicepath text,
    temperature double precision,
    relativehumidity double precision,
    weathertype text,
    readings jsonb,
    location geometry(Point, 4326),
    PRIMARY KEY (timeinstant, entityid)
);
