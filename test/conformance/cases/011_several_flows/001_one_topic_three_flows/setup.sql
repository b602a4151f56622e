DROP TABLE IF EXISTS test.multi_sensor;
CREATE TABLE test.multi_sensor (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    CONSTRAINT multi_sensor_pkey PRIMARY KEY (timeinstant, entityid)
);
DROP TABLE IF EXISTS test.multi_sensor_lastdata;
CREATE TABLE test.multi_sensor_lastdata (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    CONSTRAINT multi_sensor_lastdata_pkey PRIMARY KEY (entityid)
);
DROP TABLE IF EXISTS test.multi_sensor_mutable;
CREATE TABLE test.multi_sensor_mutable (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    CONSTRAINT multi_sensor_mutable_pkey PRIMARY KEY (timeinstant, entityid)
);
