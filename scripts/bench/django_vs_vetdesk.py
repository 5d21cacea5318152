"""Availability against django-appointment 3.12, on the same workload.

Run by scripts/bench-django (which makes the venv, installs django-appointment
and builds vetdesk); this file is ours and only *uses* django-appointment.

The workload, identical on both sides: N vets (50) working every day
09:00-17:00 for D days (30) from the day after tomorrow, one 30-minute service
without buffers, slots on a 15-minute grid, at three fill levels:

  empty  nothing booked                       31 slots per vet-day
  half   30 minutes booked at every full hour  8 slots per vet-day (the half hours)
  full   every 30 minutes booked               0 slots

django-appointment: its own models (StaffMember, WorkingHours, Service, Config,
AppointmentRequest, Appointment) in a SQLite file, and its availability path:
`appointment.services.get_available_slots_for_staff(date, staff, weekday,
service=...)`, which its AJAX view `get_available_slots_ajax` calls once per
staff member and date, so once per vet-day here. That function alone (no
request, no JSON) is the figure the ratio uses, which favours Django. Its view
through Django's test client (URL routing, the form, JSON; no socket) is
measured too, for reference.

vetdesk: `vetdesk serve` on one SQLite file, a clinic (UTC) per fill level
built through the HTTP API, bookings through `vetdesk import`; one request for the whole
clinic and range over a kept-alive loopback connection, timed until the last
body byte arrives, for the slot list (GET /appointments/availability) and the
compact form (GET /appointments/availability/runs).

Both sides must find the same number of slots, or the run fails.

Prints a Markdown table and writes the figures as JSON (--json).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

GRID_MIN = 15
SERVICE_MIN = 30
DAY_START, DAY_END = dt.time(9, 0), dt.time(17, 0)
LEVELS = ("empty", "half", "full")


def booked_starts(level):
    """Local start times booked on each vet-day at this fill level."""
    day = [dt.time(h, m) for h in range(9, 17) for m in (0, 30)]
    if level == "empty":
        return []
    if level == "half":
        return [t for t in day if t.minute == 0]
    return day


def add_minutes(t, minutes):
    return (dt.datetime.combine(dt.date(2000, 1, 1), t) + dt.timedelta(minutes=minutes)).time()


# ---------------------------------------------------------------- django-appointment


class Django:
    """django-appointment in this process, on a SQLite file in `folder`."""

    def __init__(self, folder):
        import django
        from django.conf import settings

        settings.configure(
            DEBUG=False,
            SECRET_KEY="bench-only",
            USE_TZ=True,
            TIME_ZONE="UTC",
            LANGUAGE_CODE="en",
            ALLOWED_HOSTS=["testserver"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                   "NAME": os.path.join(folder, "django.db")}},
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                            "django.contrib.sessions", "django.contrib.messages", "appointment"],
            MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                        "django.middleware.common.CommonMiddleware",
                        "django.contrib.auth.middleware.AuthenticationMiddleware",
                        "django.contrib.messages.middleware.MessageMiddleware"],
            TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                        "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                           "django.contrib.auth.context_processors.auth",
                                                           "django.contrib.messages.context_processors.messages"]}}],
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            ROOT_URLCONF=__name__,
            LOGGING_CONFIG=None,
        )
        django.setup()
        import logging
        logging.disable(logging.CRITICAL)
        from django.core.management import call_command
        # django-appointment ships its models without migrations: make the tables from them.
        call_command("migrate", run_syncdb=True, verbosity=0)

    def build(self, vets):
        from django.contrib.auth import get_user_model
        from appointment.models import Config, Service, StaffMember, WorkingHours

        Config.objects.create(slot_duration=GRID_MIN, lead_time=DAY_START, finish_time=DAY_END,
                              appointment_buffer_time=0, default_to_service_duration=True)
        self.service = Service.objects.create(name="Consultation",
                                              duration=dt.timedelta(minutes=SERVICE_MIN), price=0)
        User = get_user_model()
        self.staff = []
        for i in range(vets):
            user = User.objects.create(username=f"vet{i}", first_name="Vet", last_name=str(i),
                                       email=f"vet{i}@bench.invalid")
            sm = StaffMember.objects.create(user=user, slot_duration=GRID_MIN, appointment_buffer_time=0)
            sm.services_offered.add(self.service)
            for weekday in range(7):
                WorkingHours.objects.create(staff_member=sm, day_of_week=weekday,
                                            start_time=DAY_START, end_time=DAY_END)
            self.staff.append(sm)
        self.client_user = User.objects.create(username="owner", email="owner@bench.invalid")

    def fill(self, level, dates):
        """Replace every booking with this level's."""
        from appointment.models import Appointment, AppointmentRequest

        Appointment.objects.all().delete()
        AppointmentRequest.objects.all().delete()
        requests = [AppointmentRequest(date=d, start_time=t, end_time=add_minutes(t, SERVICE_MIN),
                                       service=self.service, staff_member=sm, payment_type="full")
                    for sm in self.staff for d in dates for t in booked_starts(level)]
        AppointmentRequest.objects.bulk_create(requests, batch_size=2000)
        saved = AppointmentRequest.objects.all()
        Appointment.objects.bulk_create(
            [Appointment(client=self.client_user, appointment_request=ar, phone="+441632960000",
                         amount_to_pay=0, id_request=f"bench{ar.id}") for ar in saved],
            batch_size=2000)
        return len(requests)

    def availability(self, dates):
        """Every vet-day through django-appointment's function: (seconds, slots)."""
        from appointment.services import get_available_slots_for_staff
        from appointment.utils.db_helpers import get_weekday_num_from_date

        slots = 0
        start = time.perf_counter()
        for sm in self.staff:
            for d in dates:
                slots += len(get_available_slots_for_staff(d, sm, get_weekday_num_from_date(d),
                                                           service=self.service))
        return time.perf_counter() - start, slots

    def availability_view(self, dates):
        """Every vet-day through its AJAX view and Django's test client: (seconds, slots)."""
        from django.test import Client

        client = Client()
        slots = 0
        start = time.perf_counter()
        for sm in self.staff:
            for d in dates:
                r = client.get("/appointment/ajax/available_slots/",
                               {"selected_date": d.isoformat(), "staff_member": sm.id,
                                "service_id": self.service.id},
                               HTTP_X_REQUESTED_WITH="XMLHttpRequest")
                body = json.loads(r.content)
                slots += len(body.get("available_slots", []))
        return time.perf_counter() - start, slots


def _urls():
    from django.urls import include, path
    return [path("appointment/", include("appointment.urls"))]


def __getattr__(name):  # ROOT_URLCONF: built on first use, after django.setup()
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


# ---------------------------------------------------------------- vetdesk


class Vetdesk:
    """`vetdesk serve` on a new SQLite file with one admin user, driven over HTTP."""

    def __init__(self, binary, folder):
        self.bin = binary
        self.db = os.path.join(folder, "vetdesk.db")
        self.log = open(os.path.join(folder, "serve.log"), "w+")
        subprocess.run([binary, "--db", self.db, "init"], check=True, stdout=subprocess.DEVNULL)
        password = "bench-only-password"
        subprocess.run([binary, "--db", self.db, "user", "add", "--username", "bench", "--role", "admin"],
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, VETDESK_NEW_PASSWORD=password))
        self.proc = subprocess.Popen([binary, "--db", self.db, "serve", "--bind", "127.0.0.1:0"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        addr = None
        while addr is None:
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"vetdesk serve did not start:\n{self.tail()}")
            time.sleep(0.1)
            m = re.search(r"listening on http://([0-9.:]+)", self.tail())
            addr = m and m.group(1)
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.token = None
        self.token = self.call("POST", "/auth/login",
                               {"username": "bench", "password": password})["token"]

    def tail(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def request(self, method, path, body=None):
        """(status, raw body bytes)."""
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body)
        try:
            self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
            r = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closes a connection left idle (its keep-alive
            # timeout), e.g. while `vetdesk import` fills a clinic: reconnect
            # once. Timed requests follow each other, so they never get here.
            self.conn.close()
            self.conn.connect()
            self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
            r = self.conn.getresponse()
        return r.status, r.read()

    def call(self, method, path, body=None):
        status, raw = self.request(method, path, body)
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {raw[:500]!r}")
        return json.loads(raw) if raw else None

    def build(self, vets, level, dates, folder):
        """A clinic of its own for this fill level: (clinic id, bookings made)."""
        clinic = self.call("POST", "/clinics", {"name": f"Bench {level}", "time_zone": "UTC"})["id"]
        ty = self.call("POST", "/appointment-types",
                       {"name": f"Bench consultation {level}", "duration_minutes": SERVICE_MIN,
                        "colour": "#3366cc"})["id"]
        vet_ids, pets = [], []
        for i in range(vets):
            vet = self.call("POST", "/vets", {"name": f"Bench {level} vet {i}", "clinics": [clinic]})["id"]
            for wd in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
                self.call("POST", "/working-hours",
                          {"vet_id": vet, "clinic_id": clinic, "weekday": wd,
                           "span": f"{DAY_START:%H:%M}-{DAY_END:%H:%M}",
                           "valid_from": (dates[0] - dt.timedelta(days=7)).isoformat()})
            owner = self.call("POST", "/clients", {"name": f"Bench {level} owner {i}"})["id"]
            pets.append(self.call("POST", "/pets", {"owner_id": owner, "name": f"Bench {level} pet {i}",
                                                    "species": "dog"})["id"])
            vet_ids.append(vet)
        lines = [json.dumps({"clinic": clinic, "vet": vet, "pet": pet, "type": ty,
                             "start": f"{d.isoformat()}T{t:%H:%M}"})
                 for vet, pet in zip(vet_ids, pets) for d in dates for t in booked_starts(level)]
        if lines:
            path = os.path.join(folder, f"bookings-{level}.jsonl")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            done = subprocess.run([self.bin, "--db", self.db, "--json", "import", path],
                                  capture_output=True, text=True)
            report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
            booked = len(report.get("booked", []))
            if done.returncode != 0 or booked != len(lines):
                raise SystemExit(f"vetdesk import booked {booked} of {len(lines)}: "
                                 f"{done.stderr[-2000:]} {done.stdout[-2000:]}")
        return clinic, len(lines)

    @staticmethod
    def query(clinic, dates):
        return urllib.parse.urlencode({
            "clinic_id": clinic, "start_date": dates[0].isoformat(),
            "end_date": dates[-1].isoformat(), "duration_minutes": SERVICE_MIN,
            "grid": GRID_MIN, "min_notice": 0})

    def timed(self, path, repeats, warmup=3):
        """Median and best seconds of `repeats` requests after `warmup`, and the last body."""
        for _ in range(warmup):
            self.request("GET", path)
        times, raw = [], b""
        for _ in range(repeats):
            start = time.perf_counter()
            status, raw = self.request("GET", path)
            times.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"GET {path}: {status} {raw[:500]!r}")
        return statistics.median(times), min(times), raw

    def stop(self):
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def slots_in_runs(body):
    """The compact form expanded by the rule the API documents."""
    grid, length = body["grid_min"] * 60, body["duration_min"] * 60
    n = 0
    for v in body["vets"]:
        for r in v["runs"]:
            start = dt.datetime.fromisoformat(r["start"].replace("Z", "+00:00")).timestamp()
            end = dt.datetime.fromisoformat(r["end"].replace("Z", "+00:00")).timestamp()
            n += int((end - length - start) // grid) + 1
    return n


# ---------------------------------------------------------------- the run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vetdesk", required=True, help="the vetdesk binary")
    ap.add_argument("--quick", action="store_true", help="5 vets x 3 days, few repeats: does it run?")
    ap.add_argument("--vets", type=int)
    ap.add_argument("--days", type=int)
    ap.add_argument("--repeats", type=int, help="vetdesk requests timed per form and level")
    ap.add_argument("--django-repeats", type=int, help="django passes timed per level")
    ap.add_argument("--levels", default=",".join(LEVELS))
    ap.add_argument("--no-view", action="store_true", help="skip django-appointment's view")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    vets = a.vets or (5 if a.quick else 50)
    days = a.days or (3 if a.quick else 30)
    repeats = a.repeats or (5 if a.quick else 30)
    django_repeats = a.django_repeats or (1 if a.quick else 2)
    first = dt.date.today() + dt.timedelta(days=2)
    dates = [first + dt.timedelta(days=i) for i in range(days)]

    levels = a.levels.split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="vetdesk-bench-django-") as folder:
        django = Django(folder)
        django.build(vets)
        # One vetdesk database, one clinic per fill level (each with its own vets), built
        # before anything is timed; `vetdesk serve` runs throughout.
        vd = Vetdesk(a.vetdesk, folder)
        try:
            clinics = {}
            for level in levels:
                started = time.perf_counter()
                clinics[level] = vd.build(vets, level, dates, folder)
                print(f"vetdesk: {level} built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            for level in levels:
                print(f"== {level}: {vets} vets x {days} days", file=sys.stderr)
                booked = django.fill(level, dates)
                runs = [django.availability(dates) for _ in range(django_repeats)]
                dj_s = statistics.median(t for t, _ in runs)
                dj_slots = runs[0][1]
                view_s = None
                if not a.no_view:
                    view_s, view_slots = django.availability_view(dates)
                    if view_slots != dj_slots:
                        raise SystemExit(f"{level}: django's view found {view_slots} slots, its function {dj_slots}")

                clinic, vd_booked = clinics[level]
                q = vd.query(clinic, dates)
                list_med, list_min, list_raw = vd.timed(f"/appointments/availability?{q}", repeats)
                runs_med, runs_min, runs_raw = vd.timed(f"/appointments/availability/runs?{q}", repeats)
                listed = sum(len(v["slots"]) for v in json.loads(list_raw)["vets"])
                expanded = slots_in_runs(json.loads(runs_raw))
                if not (listed == expanded == dj_slots) or vd_booked != booked:
                    raise SystemExit(f"{level}: slots differ: django {dj_slots}, vetdesk list {listed}, "
                                     f"runs {expanded}; booked django {booked}, vetdesk {vd_booked}")
                row = {
                    "level": level, "vets": vets, "days": days, "booked": booked, "slots": dj_slots,
                    "django_function_s": dj_s, "django_function_runs_s": [t for t, _ in runs],
                    "django_view_s": view_s,
                    "vetdesk_list_median_s": list_med, "vetdesk_list_best_s": list_min,
                    "vetdesk_list_bytes": len(list_raw),
                    "vetdesk_runs_median_s": runs_med, "vetdesk_runs_best_s": runs_min,
                    "vetdesk_runs_bytes": len(runs_raw),
                    "ratio_list": dj_s / list_med, "ratio_runs": dj_s / runs_med,
                }
                results.append(row)
                print(json.dumps(row), file=sys.stderr)
        finally:
            vd.stop()

    print(f"\n{vets} vets x {days} days, {GRID_MIN}-minute grid, {SERVICE_MIN}-minute service; "
          f"vetdesk medians of {repeats} requests, django-appointment median of {django_repeats} passes\n")
    print("| fill | booked | slots | django-appointment (function) | its view | vetdesk slot list "
          "| bytes | × | vetdesk runs | bytes | × |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        view = f"{r['django_view_s'] * 1000:,.0f} ms" if r["django_view_s"] is not None else "–"
        print(f"| {r['level']} | {r['booked']:,} | {r['slots']:,} | {r['django_function_s'] * 1000:,.0f} ms "
              f"| {view} | {r['vetdesk_list_median_s'] * 1000:.2f} ms | {r['vetdesk_list_bytes']:,} "
              f"| **{r['ratio_list']:,.0f}×** | {r['vetdesk_runs_median_s'] * 1000:.2f} ms "
              f"| {r['vetdesk_runs_bytes']:,} | **{r['ratio_runs']:,.0f}×** |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
