DROP TABLE IF EXISTS test.hotel_suites_room;
CREATE TABLE test.hotel_suites_room (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    temperature DOUBLE PRECISION,
    location geometry(Point, 4326),
    CONSTRAINT hotel_suites_room_pkey PRIMARY KEY (timeinstant, entityid)
);
DROP TABLE IF EXISTS test.inline_lamp_v2;
CREATE TABLE test.inline_lamp_v2 (
    recvtime TIMESTAMPTZ NOT NULL DEFAULT now(),
    fiwareservicepath TEXT,
    entityid TEXT,
    entitytype TEXT,
    timeinstant TIMESTAMPTZ,
    status TEXT,
    CONSTRAINT inline_lamp_v2_pkey PRIMARY KEY (timeinstant, entityid)
);
