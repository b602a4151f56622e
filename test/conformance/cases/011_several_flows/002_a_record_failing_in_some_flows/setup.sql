DROP TABLE IF EXISTS test.multierr_sensor;
CREATE TABLE test.multierr_sensor (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    CONSTRAINT multierr_sensor_pkey PRIMARY KEY (timeinstant, entityid)
);
DROP TABLE IF EXISTS test.multierr_sensor_lastdata;
CREATE TABLE test.multierr_sensor_lastdata (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    CONSTRAINT multierr_sensor_lastdata_pkey PRIMARY KEY (entityid)
);
DROP TABLE IF EXISTS test.multierr_sensor_mutable;
CREATE TABLE test.multierr_sensor_mutable (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    CONSTRAINT multierr_sensor_mutable_pkey PRIMARY KEY (timeinstant, entityid)
);
