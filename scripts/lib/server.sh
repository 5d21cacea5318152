# Shared by scripts/schemathesis and scripts/bench-http (sourced, not run):
# start `vetdesk serve` on a free loopback port, wait until it answers, log in.
#
# start_server BIN LOG [GLOBAL ARGS...]  sets SERVER_PID and BASE (http://127.0.0.1:PORT)
# stop_server                            stops it (safe to call twice; use in a trap)
# login USER PASSWORD                    sets TOKEN (empty when the server has no
#                                        /auth/login yet; fails on any other answer)

SERVER_PID=""
BASE=""
TOKEN=""

start_server() {
    local bin=$1 log=$2
    shift 2
    # Port 0: the kernel picks a free port and vetdesk prints the one it got.
    # These harnesses serve a throwaway database as the role that made it (on
    # PostgreSQL the superuser), which serve refuses without being told.
    VETDESK_ALLOW_OWNER_ROLE=1 "$bin" "$@" serve --bind 127.0.0.1:0 >"$log" 2>&1 &
    SERVER_PID=$!
    local addr=""
    for _ in $(seq 1 200); do
        addr=$(sed -n 's|.*listening on http://\([0-9.:]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$addr" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "vetdesk serve exited before listening:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    if [ -z "$addr" ]; then
        echo "vetdesk serve did not say where it listens within 20 s:" >&2
        cat "$log" >&2
        return 1
    fi
    BASE="http://$addr"
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "$BASE/api/v1/health" && return 0
        sleep 0.1
    done
    echo "vetdesk serve at $BASE did not answer /api/v1/health within 10 s" >&2
    return 1
}

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        # Graceful shutdown gives open requests 5 s; do not wait longer than that.
        for _ in $(seq 1 70); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

login() {
    local user=$1 password=$2 body status
    body=$(mktemp)
    status=$(USER_NAME="$user" USER_PASSWORD="$password" python3 -c '
import json, os
print(json.dumps({"username": os.environ["USER_NAME"], "password": os.environ["USER_PASSWORD"]}))' |
        curl -sS -o "$body" -w '%{http_code}' -X POST -H 'content-type: application/json' \
            --data-binary @- "$BASE/api/v1/auth/login")
    TOKEN=""
    case $status in
        200)
            TOKEN=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' <"$body")
            rm -f "$body"
            [ -n "$TOKEN" ]
            ;;
        404)
            rm -f "$body"
            return 0
            ;;
        *)
            echo "logging in as $user answered $status:" >&2
            cat "$body" >&2
            rm -f "$body"
            return 1
            ;;
    esac
}
