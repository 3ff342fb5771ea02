#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Checks the webhook events a receiver recorded (one JSON text per line):
#   validate <schema-dir> <events>   every event validates against its schema (python3-jsonschema),
#                                    names Factotum 0.7.0 as its applicationContext,
#                                    is compact, has "schema" then "data" and every object inside
#                                    "data" in byte-wise key order, and its jobReference is
#                                    SHA-256 of the decoded factfile then the tags' keys and values
#                                    (Factotum's job reference), the same in every event
#   summary <events>                 one line per event: "job <prev>-><cur> <runState>" or
#                                    "task <name>:<prev>-><cur>[,...] <runState>"
#   get <events> <index> <key>...    prints one value (index from 0, -1 the last; keys or array
#                                    indices under "data"); strings raw, others as JSON
#   pauses <requests>                from webhook_receiver.py's request log: one line per request
#                                    answered 500, the milliseconds until the next request
import base64
import hashlib
import json
import os
import sys


def load(path):
    with open(path, "rb") as f:
        return [line for line in f.read().split(b"\n") if line]


def check_order(pairs_list):
    """object_pairs_hook: fails unless keys come in byte-wise order."""
    keys = [k for k, _ in pairs_list]
    if keys != sorted(keys, key=lambda k: k.encode("utf-8")) and keys != ["schema", "data"]:
        raise ValueError("keys out of order: %r" % keys)
    return dict(pairs_list)


def validate(schema_dir, events_path):
    import jsonschema
    schemas = {}
    for name in ("job_update", "task_update"):
        with open(os.path.join(schema_dir, name + "-1-0-0.json")) as f:
            schemas[name] = json.load(f)
    lines = load(events_path)
    if not lines:
        sys.exit("no events in %s" % events_path)
    refs = set()
    for i, raw in enumerate(lines):
        text = raw.decode("utf-8")
        ev = json.loads(text, object_pairs_hook=check_order)
        top = json.loads(text, object_pairs_hook=lambda pairs: pairs)
        if [k for k, _ in top] != ["schema", "data"]:
            sys.exit("event %d: the top level is not exactly \"schema\" then \"data\"" % i)
        # Python escapes as rustc-serialize does except DEL, which rustc-serialize writes \u007f.
        again = json.dumps(ev, separators=(",", ":"), ensure_ascii=False).replace("\x7f", "\\u007f")
        if again != text:
            sys.exit("event %d: not compact, or escaped differently:\n%s\n%s" % (i, text, again))
        kind = ev["schema"].split("/")[1]
        if ev["schema"] != "iglu:com.snowplowanalytics.factotum/%s/jsonschema/1-0-0" % kind:
            sys.exit("event %d: unexpected schema %s" % (i, ev["schema"]))
        validator = jsonschema.Draft4Validator(schemas[kind],
                                               format_checker=jsonschema.FormatChecker())
        errors = sorted(validator.iter_errors(ev), key=lambda e: list(e.path))
        if errors:
            sys.exit("event %d (%s) does not validate: %s" % (i, kind, "; ".join(
                "%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors)))
        d = ev["data"]
        if d["applicationContext"] != {"name": "factotum", "version": "0.7.0"}:
            sys.exit("event %d: applicationContext is %r" % (i, d["applicationContext"]))
        h = hashlib.sha256(base64.b64decode(d["factfile"], validate=True))
        for k in sorted(d["tags"], key=lambda k: k.encode("utf-8")):
            h.update(k.encode("utf-8"))
            h.update(d["tags"][k].encode("utf-8"))
        if h.hexdigest() != d["jobReference"]:
            sys.exit("event %d: jobReference is not SHA-256 of factfile and tags" % i)
        refs.add(d["jobReference"])
    if len(refs) != 1:
        sys.exit("jobReference differs between events")
    print("%d events valid" % len(lines))


def summary(events_path):
    for raw in load(events_path):
        d = json.loads(raw)["data"]
        if "jobTransition" in d:
            t = d["jobTransition"]
            print("job %s->%s %s" % (t["previousState"] or "null", t["currentState"],
                                     d["runState"]))
        else:
            print("task %s %s" % (",".join("%s:%s->%s" % (t["taskName"], t["previousState"],
                                                          t["currentState"])
                                           for t in d["taskTransitions"]), d["runState"]))


def get(events_path, index, keys):
    try:
        v = json.loads(load(events_path)[int(index)])["data"]
        for k in keys:
            v = v[int(k)] if isinstance(v, list) else v[k]
    except (IndexError, KeyError, ValueError) as e:
        sys.exit("get %s %s: no such value (%s: %s)" % (index, " ".join(keys), type(e).__name__, e))
    print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))


def pauses(requests_path):
    reqs = [json.loads(line) for line in load(requests_path)]
    for a, b in zip(reqs, reqs[1:]):
        if a["status"] == 500:
            print(int((b["t"] - a["t"]) * 1000))


def main(argv):
    if len(argv) >= 3 and argv[0] == "validate":
        validate(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "summary":
        summary(argv[1])
    elif len(argv) >= 3 and argv[0] == "get":
        get(argv[1], argv[2], argv[3:])
    elif len(argv) == 2 and argv[0] == "pauses":
        pauses(argv[1])
    else:
        sys.exit(__doc__ or "usage: see the header of webhook_check.py")


if __name__ == "__main__":
    main(sys.argv[1:])
