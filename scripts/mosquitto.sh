#!/usr/bin/env bash
# The MQTT broker of truceline's field ingest: Debian's Mosquitto, with a user per sensor contingent and
# the service user, and an ACL that keeps each contingent to its own topics. Idempotent: installs the
# packages only when missing, keeps the passwords it made before, writes the configuration again and
# (re)starts the broker as a daemon (pid file in the folder), persistence on. Prints the broker URL on
# stdout (everything else goes to stderr; no password is ever printed), so that:
#
#   export TRUCELINE_MQTT=$(bash scripts/mosquitto.sh)        # mqtt://127.0.0.1:1883
#   truceline listen --mqtt "mqtt://truceline@${TRUCELINE_MQTT#mqtt://}" \
#       --credentials /var/lib/truceline-mqtt/credentials
#
# Options:
#   --stop     stop the broker of the folder (its pid file) and exit
#   -h --help  this text
# Environment (defaults in brackets):
#   TRUCELINE_MQTT_DIR [/var/lib/truceline-mqtt]  the folder: mosquitto.conf, passwd (hashed), acl,
#                      credentials (USER:PASSWORD lines, 0600: what listen and replay read), data/
#                      (persistence), mosquitto.pid, mosquitto.log
#   TRUCELINE_MQTT_HOST [127.0.0.1], TRUCELINE_MQTT_PORT [1883]   where it listens
#   TRUCELINE_MQTT_CONTINGENTS [FRA GBR MNB]   one user per contingent (spaces or commas; letters,
#                      digits, . _ -): the contingents of the shipped agreement's sectors and the
#                      simulator's default
#   TRUCELINE_MQTT_SERVICE_USER [truceline]     the listener's user
#   TRUCELINE_MQTT_PASSWORD        the service user's password; TRUCELINE_MQTT_PASSWORD_<CONTINGENT>
#                      (upper case, . and - as _) a contingent's; a user with none keeps the one in the
#                      credentials file, else gets a random one
#   TRUCELINE_MQTT_MAX_QUEUED [1000000]  QoS 1 messages the broker keeps per absent persistent client
#                      (beyond, it drops them: Mosquitto's max_queued_messages)
#   TRUCELINE_MQTT_AUTOSAVE_S [60]       seconds between saves of the persistence file (also saved
#                      when the broker stops)
# The ACL: a contingent's user may publish to truceline/<contingent>/+/detections and .../+/status only,
# and read truceline/errors/<contingent>/#; the service user may read truceline/# and publish to
# truceline/errors/#. Anonymous clients are refused. As root the broker runs as the `mosquitto` user,
# which must be able to reach the folder (under /var/lib or /tmp, not under a closed home).
set -euo pipefail

MODE=start
case "${1:-}" in
    "") ;;
    --stop) MODE=stop ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mosquitto.sh: unknown option '$1' (--stop, --help)" >&2; exit 2 ;;
esac

DIR="${TRUCELINE_MQTT_DIR:-/var/lib/truceline-mqtt}"
HOST="${TRUCELINE_MQTT_HOST:-127.0.0.1}"
PORT="${TRUCELINE_MQTT_PORT:-1883}"
SERVICE_USER="${TRUCELINE_MQTT_SERVICE_USER:-truceline}"
CONTINGENTS="${TRUCELINE_MQTT_CONTINGENTS:-FRA GBR MNB}"
MAX_QUEUED="${TRUCELINE_MQTT_MAX_QUEUED:-1000000}"
AUTOSAVE="${TRUCELINE_MQTT_AUTOSAVE_S:-60}"
PIDFILE="$DIR/mosquitto.pid"

log() { echo "mosquitto.sh: $*" >&2; }

running_pid() {  # the pid of the folder's broker, when it runs
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(tr -dc '0-9' <"$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = mosquitto ] || return 1
    echo "$pid"
}

stop_broker() {
    local pid
    pid="$(running_pid)" || return 0
    log "stopping the broker (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
        sleep 0.1
    done
    log "the broker (pid $pid) did not stop in 10 s"
    exit 1
}

if [ "$MODE" = stop ]; then
    stop_broker
    exit 0
fi

# -- checks --------------------------------------------------------------------------------------
case "$PORT" in ''|*[!0-9]*) log "TRUCELINE_MQTT_PORT: '$PORT' is not a port number"; exit 2 ;; esac
name_ok() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] && [ "$1" != errors ]; }
read -r -a USERS <<<"${CONTINGENTS//,/ }"
name_ok "$SERVICE_USER" || { log "service user '$SERVICE_USER': letters, digits and . _ - only"; exit 2; }
for c in "${USERS[@]}"; do
    name_ok "$c" || { log "contingent '$c': letters, digits and . _ - only, and not 'errors'"; exit 2; }
    [ "$c" != "$SERVICE_USER" ] || { log "contingent '$c' has the service user's name"; exit 2; }
done
[ "${#USERS[@]}" -gt 0 ] || { log "TRUCELINE_MQTT_CONTINGENTS: no contingent"; exit 2; }

# -- packages ------------------------------------------------------------------------------------
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ] || ! command -v mosquitto_passwd >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { log "mosquitto is not installed and this is not root: apt-get install mosquitto"; exit 1; }
    log "installing Debian packages: mosquitto mosquitto-clients"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients >/dev/null
    # Debian's own service would hold port 1883 on a machine with systemd: this broker replaces it.
    if [ -d /run/systemd/system ]; then
        systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
    fi
fi
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"

# -- the folder and the passwords ----------------------------------------------------------------
umask 077
mkdir -p "$DIR/data"
declare -A PASS=()
if [ -f "$DIR/credentials" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
        [ -n "$line" ] && [ "${line:0:1}" != "#" ] && PASS["${line%%:*}"]="${line#*:}"
    done <"$DIR/credentials"
fi
new_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
password_for() {  # env first, then the credentials file, else a new one
    local user="$1" var="$2" given
    given="${!var:-}"
    if [ -n "$given" ]; then
        [[ "$given" != *$'\n'* ]] || { log "$var: a password cannot hold a line break"; exit 2; }
        PASS["$user"]="$given"
    elif [ -z "${PASS[$user]:-}" ]; then
        PASS["$user"]="$(new_password)"
    fi
}
password_for "$SERVICE_USER" TRUCELINE_MQTT_PASSWORD
for c in "${USERS[@]}"; do
    v="${c^^}"; v="${v//[.-]/_}"
    password_for "$c" "TRUCELINE_MQTT_PASSWORD_$v"
done
{
    echo "# truceline MQTT users (scripts/mosquitto.sh): USER:PASSWORD"
    for user in "$SERVICE_USER" "${USERS[@]}"; do printf '%s:%s\n' "$user" "${PASS[$user]}"; done
} >"$DIR/credentials.new"
chmod 600 "$DIR/credentials.new"
mv -f "$DIR/credentials.new" "$DIR/credentials"
# The broker's file holds hashes only: written in plain text 0600, hashed in place (no password on a command line).
cp "$DIR/credentials" "$DIR/passwd.new"
sed -i '/^#/d' "$DIR/passwd.new"
mosquitto_passwd -U "$DIR/passwd.new"
mv -f "$DIR/passwd.new" "$DIR/passwd"

{
    echo "# truceline ACL (scripts/mosquitto.sh; written again on every run)"
    echo "user $SERVICE_USER"
    echo "topic read truceline/#"
    echo "topic write truceline/errors/#"
    for c in "${USERS[@]}"; do
        echo
        echo "user $c"
        echo "topic write truceline/$c/+/detections"
        echo "topic write truceline/$c/+/status"
        echo "topic read truceline/errors/$c/#"
    done
} >"$DIR/acl"

RUN_AS=""
if [ "$(id -u)" -eq 0 ]; then
    id mosquitto >/dev/null 2>&1 || { log "no 'mosquitto' user (Debian's package makes it)"; exit 1; }
    RUN_AS="user mosquitto"
fi
cat >"$DIR/mosquitto.conf" <<EOF
# truceline's MQTT broker (scripts/mosquitto.sh; written again on every run: edit the script's environment)
per_listener_settings false
listener $PORT $HOST
allow_anonymous false
password_file $DIR/passwd
acl_file $DIR/acl
persistence true
persistence_location $DIR/data/
autosave_interval $AUTOSAVE
max_queued_messages $MAX_QUEUED
# QoS 1 messages the broker sends a client before its acknowledgements: the listener stores a batch of them in
# one transaction, then acknowledges each (the default, 20, would make batches of 20).
max_inflight_messages 1000
pid_file $PIDFILE
log_dest file $DIR/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
$RUN_AS
EOF

if [ -n "$RUN_AS" ]; then
    chown -R mosquitto:mosquitto "$DIR"
    chown root:root "$DIR/credentials"
    chmod 700 "$DIR"
    if ! runuser -u mosquitto -- test -w "$DIR/data"; then
        log "the mosquitto user cannot reach $DIR (a parent folder is closed to it): set TRUCELINE_MQTT_DIR under /var/lib or /tmp"
        exit 1
    fi
fi

# -- (re)start -----------------------------------------------------------------------------------
stop_broker
"$MOSQUITTO" -c "$DIR/mosquitto.conf" -d
for _ in $(seq 1 100); do
    if pid="$(running_pid)" && (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
        log "broker running (pid $pid) on $HOST:$PORT; users: $SERVICE_USER ${USERS[*]}; credentials in $DIR/credentials"
        echo "mqtt://$HOST:$PORT"
        exit 0
    fi
    sleep 0.1
done
log "the broker did not start on $HOST:$PORT; the end of $DIR/mosquitto.log:"
tail -n 20 "$DIR/mosquitto.log" >&2 2>/dev/null || true
exit 1
