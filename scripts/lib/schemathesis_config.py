"""Write the schemathesis configuration for scripts/schemathesis to stdout.

Random UUIDs never name a record, so without help every request would stop at
404 and the code behind it would go untested. This reads the demo practice's
ids (and picks dates and times around today, where the demo's appointments
are) from the running server, and offers them to schemathesis as dictionaries:
each id, date or time parameter takes a real value most of the time and a
generated one otherwise, so both the found and the not-found paths run.

Environment: BASE (http://127.0.0.1:PORT), TOKEN (may be empty).
"""

import datetime as dt
import json
import os
import urllib.request

BASE = os.environ["BASE"]
TOKEN = os.environ.get("TOKEN", "")


def get(path):
    req = urllib.request.Request(BASE + "/api/v1" + path)
    if TOKEN:
        req.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.load(res)


def ids(rows, limit=20):
    return [row["id"] for row in rows][:limit]


today = dt.date.today()
days = [today + dt.timedelta(days=d) for d in range(-7, 15)]
clinics = get("/clinics")
me = get("/auth/me")
values = {
    "clinics": ids(clinics),
    "vets": ids(get("/vets")),
    "clients": ids(get("/clients?limit=20")),
    "pets": ids(get("/pets?limit=20")),
    "types": ids(get("/appointment-types")),
    "appointments": ids(get("/appointments?limit=40")["items"], 40),
    "hours": ids(get("/working-hours")),
    "overrides": ids(get(f"/date-overrides?from={days[0]}&to={days[-1]}")),
    "time_off": ids(get("/time-off")),
    # Not the signed-in admin: disabling them, or changing their password or
    # role, would end the session the rest of the run uses.
    "users": [u["id"] for u in get("/users") if u["id"] != me["id"]],
    "dates": [d.isoformat() for d in days],
    "past_dates": ["2015-06-01", "2020-02-29", "2024-12-31"],
    # Clinic-local times on the grid, and the same moments as RFC 3339 instants.
    "times": [f"{d}T{h:02}:{m:02}" for d in days[5:12] for h in (8, 10, 12, 15) for m in (0, 45)]
    + [f"{d}T09:30:00Z" for d in days[5:12]]
    + [f"{d}T14:15:00-05:00" for d in days[5:12]],
    "instants": [f"{d}T00:00:00Z" for d in days[::3]],
    "minutes": [15, 20, 30, 45, 60, 90],
    "grids": [5, 10, 15, 30],
    "zones": [c["time_zone"] for c in clinics] + ["Asia/Tokyo"],
    "spans": ["09:00-12:00", "13:00-17:30", "08:15-19:45"],
    "span_lists": ["09:00-12:00,13:00-17:00", "10:00-14:00", ""],
    "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sunday"],
    "colours": ["#1f77b4", "#FFAA00"],
    "channels": ["email", "sms"],
    "emails": ["sam@example.com", "vet.one@example.org"],
    "phones": ["+447700900123", "+1 212 555 0100"],
    "outbox": ids(get("/outbox?limit=40")["items"], 40),
    "message_kinds": ["confirmation", "reminder", "reschedule", "cancellation", "checked_in", "starting_soon"],
    "message_channels": ["email", "sms", "desktop"],
    "message_statuses": ["failed", "pending", "sent,failed", "skipped"],
}
# An empty dictionary would be a configuration error: drop those (e.g. no time off).
values = {name: vals for name, vals in values.items() if vals}


def binding(name, probability=0.8):
    if name not in values:
        return None
    return {"dictionary": name, "probability": probability}


query = {
    "clinic_id": "clinics",
    "vet_id": "vets",
    "type_id": "types",
    "owner_id": "clients",
    "client_id": "clients",
    "pet_id": "pets",
    "ignoring": "appointments",
    "start_date": "dates",
    "end_date": "dates",
    "date": "dates",
    "at": "times",
    "duration_minutes": "minutes",
    "grid": "grids",
    "appointment_id": "appointments",
}
body = {
    "clinic_id": "clinics",
    "vet_id": "vets",
    "pet_id": "pets",
    "type_id": "types",
    "client_id": "clients",
    "owner_id": "clients",
    "appointment_id": "appointments",
    "start": "times",
    "end": "times",
    "duration_minutes": "minutes",
    "date": "dates",
    "valid_from": "dates",
    "valid_to": "dates",
    "date_of_birth": "past_dates",
    "time_zone": "zones",
    "span": "spans",
    "spans": "span_lists",
    "weekday": "weekdays",
    "colour": "colours",
    "preferred_channel": "channels",
    "email": "emails",
    "phone": "phones",
}
parameters = {}
for field, name in query.items():
    if (b := binding(name)) is not None:
        parameters[f"query.{field}"] = b
for field, name in body.items():
    if (b := binding(name)) is not None:
        parameters[f"body.{field}"] = b

# `from`/`to` are dates for overrides and instants for the appointment list;
# `{id}` names a different kind of record on each path.
operations = [
    ("^/api/v1/date-overrides$", {"query.from": "dates", "query.to": "dates"}),
    ("^/api/v1/appointments$", {"query.from": "instants", "query.to": "instants"}),
    (r"^/api/v1/appointments/\{id\}", {"path.id": "appointments"}),
    (r"^/api/v1/clinics/\{id\}", {"path.id": "clinics"}),
    (r"^/api/v1/vets/\{id\}", {"path.id": "vets"}),
    (r"^/api/v1/clients/\{id\}", {"path.id": "clients"}),
    (r"^/api/v1/pets/\{id\}", {"path.id": "pets"}),
    (r"^/api/v1/appointment-types/\{id\}", {"path.id": "types"}),
    (r"^/api/v1/working-hours/\{id\}", {"path.id": "hours"}),
    (r"^/api/v1/date-overrides/\{id\}", {"path.id": "overrides"}),
    (r"^/api/v1/time-off/\{id\}", {"path.id": "time_off"}),
    (r"^/api/v1/outbox/\{id\}", {"path.id": "outbox"}),
    (r"^/api/v1/users/\{id\}", {"path.id": "users"}),
    ("^/api/v1/outbox$", {"query.status": "message_statuses", "query.channel": "message_channels"}),
    (r"^/api/v1/templates/", {"path.kind": "message_kinds", "path.channel": "message_channels"}),
]


def toml(value):
    # JSON strings, numbers and arrays of them are valid TOML.
    return json.dumps(value)


out = []
# Nothing is kept between runs (nor left in the work tree): each run stands alone.
out.append("[cache]")
out.append("enabled = false")
out.append("")
# Schema-valid input can still break a rule a JSON schema cannot state (a reversed
# date range, a date that does not exist, a step the appointment's status does not
# allow): the API answers 422 for those, by design. A deletion without a version
# in either of the two places it may be given (query or If-Match, which no schema
# can require together) is 428 Precondition Required. Malformed-request answers
# (400, 413, 415) to schema-valid input still fail the check.
out.append("[checks.positive_data_acceptance]")
out.append('expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "428", "429"]')
out.append("")
for name, vals in values.items():
    out.append(f"[dictionaries.{name}]")
    out.append(f"values = {toml(vals)}")
    out.append("")
out.append("[parameters]")
for key, b in parameters.items():
    out.append(f'"{key}" = {{ dictionary = {toml(b["dictionary"])}, probability = {b["probability"]} }}')
out.append("")
for regex, params in operations:
    bound = {key: binding(name) for key, name in params.items()}
    bound = {key: b for key, b in bound.items() if b is not None}
    if not bound:
        continue
    out.append("[[operations]]")
    out.append(f"include-path-regex = {toml(regex)}")
    out.append("[operations.parameters]")
    for key, b in bound.items():
        out.append(f'"{key}" = {{ dictionary = {toml(b["dictionary"])}, probability = {b["probability"]} }}')
    out.append("")
print("\n".join(out))
