#!/usr/bin/env python3
"""Seed corpus for kafnus_ngsi_fuzz.

Writes one file per Kafka record of every conformance case
(test/conformance/cases/**/messages.jsonl), in the fuzz target's layout:
"Name: value" header lines, a blank line, then the record value. A few
hand-written records add what the cases lack (legacy envelope, deletes, every
geo type, limits).

usage: make_corpus.py <output directory>
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
CASES = HERE.parent / "conformance" / "cases"
ORION = {"Fiware-Service": "test", "Fiware-ServicePath": "/simple"}


def record(headers, value):
    lines = "".join(f"{name}: {val}\n" for name, val in headers.items())
    body = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return (lines + "\n" + body).encode("utf-8")


def attr(type_, value):
    return {"type": type_, "value": value, "metadata": {}}


def entity(id_, type_, **attrs):
    e = {"id": id_, "type": type_, "TimeInstant": attr("DateTime", "2025-06-26T11:00:00.000Z")}
    e.update(attrs)
    return e


def notification(*entities):
    return {"subscriptionId": "5f0a1b2c3d4e5f6a7b8c9d0e", "data": list(entities)}


def extra_seeds():
    geo = entity(
        "G1", "Zone",
        point=attr("geo:point", "40.4, -3.7"),
        line=attr("geo:line", ["40,-3", "41,-4"]),
        box=attr("geo:box", ["40,-4", "41,-3"]),
        poly=attr("geo:polygon", ["40,-4", "40,-3", "41,-3", "40,-4"]),
        gc=attr("geo:json", {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [1, 2, 3]},
            {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}]}),
        fc=attr("geo:json", {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
            {"type": "Feature", "geometry": None}]}),
    )
    types = entity(
        "T1", "Thing",
        when=attr("DateTime", "2024-02-29T23:59:59.1234567+05:30"),
        big=attr("Number", 9223372036854775808),
        obj=attr("StructuredValue", {"a": [1, "two", None, True]}),
        js=attr("json", "text"),
        alterationType=attr("Text", "entityUpdate"),
    )
    delete = {"id": "D1", "type": "Thing", "alterationType": attr("Text", "entityDelete")}
    inner = json.dumps(notification(entity("L1", "Legacy", t=attr("Number", 1.5))))
    return {
        "extra_geo": record(ORION, notification(geo)),
        "extra_types": record(ORION, notification(types, delete)),
        "extra_legacy_envelope": record(ORION, {"schema": {"type": "string", "optional": False}, "payload": inner}),
        "extra_schema_datamodel": record(
            {"fiware-service": "testdatamodel", "fiware-servicepath": "/a/b",
             "fiware-datamodel": "dm-by-fixed-entity-type-database-schema"}, notification(types)),
        # No blank line: the whole input is the value, with default headers.
        "extra_no_headers": json.dumps(notification(entity("N1", "Thing"))).encode("utf-8"),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for messages in sorted(CASES.glob("**/messages.jsonl")):
        case = "_".join(messages.parent.relative_to(CASES).parts)
        for n, line in enumerate(messages.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            m = json.loads(line)
            (out / f"{case}_{n:03d}").write_bytes(record(m["headers"], m["value"]))
            count += 1
    for name, data in extra_seeds().items():
        (out / name).write_bytes(data)
        count += 1
    print(f"{count} seeds in {out}")


if __name__ == "__main__":
    main()
