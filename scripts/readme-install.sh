#!/bin/bash
# Follows README.md's "Install as a service" (steps 2 to 5), "Using the commands on the
# service", "Updating" and "Uninstalling" word for word, on a copy of a systemd machine's
# layout: the shell blocks are read from the README itself and run as root in a mount
# namespace whose /etc/systemd/system, /etc/trendwatch, /etc/credstore.encrypted,
# /etc/bash_completion.d, /usr/local and /var/lib are empty copies, so the machine is left
# as it was.
#
# PID 1 here is not systemd, so `systemctl`, `journalctl` and `systemd-ask-password` are
# stand-ins (in $shims below) that do what systemd does for this unit: verify the unit and
# its drop-ins (`systemd-analyze verify`), decrypt `LoadCredentialEncrypted=` into a
# credentials folder, create the state directory under /var/lib/private (0700) owned by a
# dynamic uid, and start `ExecStart=` as that uid in its own mount namespace where the state
# directory is reachable; `reload` sends SIGHUP, `stop`/`disable --now` SIGTERM. Step 1 (apt,
# rustup, git clone, cargo build) is the build this script runs on: it needs
# target/release/trendwatch and the repository as the working copy.
#
# Usage: scripts/readme-install.sh   (as root; prints each block and what it printed)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
[ "$(id -u)" = 0 ] || { echo "readme-install: run as root" >&2; exit 1; }
[ -x target/release/trendwatch ] || cargo build --release

if [ "${TW_README_INNER:-}" != 1 ]; then
    # A machine that cannot make a mount namespace with an overlay cannot hold the copy.
    probe=$(mktemp -d)
    mkdir -p "$probe/low" "$probe/up" "$probe/work" "$probe/mnt"
    if ! unshare -m mount -t overlay overlay \
        -o "lowerdir=$probe/low,upperdir=$probe/up,workdir=$probe/work" "$probe/mnt" 2>/dev/null; then
        rm -rf "$probe"
        echo "SKIPPED readme-install: no mount namespace or overlay here"
        exit 0
    fi
    rm -rf "$probe"
    exec unshare -m env TW_README_INNER=1 "$0" "$@"
fi

# The copy of the layout: /etc, /usr/local and /var/lib as this machine has them, with every
# change going to a throw-away layer; /etc/systemd/system starts empty.
layers=$(mktemp -d)
for d in /etc /usr/local /var/lib; do
    name=$(echo "$d" | tr / _)
    mkdir -p "$layers/$name/up" "$layers/$name/work" "$d"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$layers/$name/up,workdir=$layers/$name/work" "$d"
done
mkdir -p /etc/systemd/system /usr/local/bin /usr/local/share/man
mount -t tmpfs tmpfs /etc/systemd/system
for d in /etc/trendwatch /etc/credstore.encrypted/smtp_password /var/lib/private/trendwatch /var/lib/trendwatch; do
    [ ! -e "$d" ] || { echo "readme-install: $d exists on this machine; this check wants a machine without trendwatch" >&2; exit 1; }
done

shims=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$shims" "$work" "$layers"' EXIT
export TW_WORK=$work

# systemctl for trendwatch.service, as systemd would run it.
cat > "$shims/systemctl" <<'EOF'
#!/bin/bash
set -euo pipefail
unit=/etc/systemd/system/trendwatch.service
pidfile=$TW_WORK/pid
start() {
    [ -f "$unit" ] || { echo "Unit trendwatch.service not found." >&2; exit 5; }
    uid=61234
    # A state directory made before the first start (a command run by root) is moved under
    # private/, as systemd does for DynamicUser=yes.
    if [ -d /var/lib/trendwatch ] && [ ! -L /var/lib/trendwatch ]; then
        mkdir -p /var/lib/private && mv /var/lib/trendwatch /var/lib/private/trendwatch
    fi
    mkdir -p /var/lib/private/trendwatch && chmod 0700 /var/lib/private
    chown -R "$uid:$uid" /var/lib/private/trendwatch && chmod 0700 /var/lib/private/trendwatch
    ln -sfn private/trendwatch /var/lib/trendwatch
    creds=$TW_WORK/credentials && rm -rf "$creds" && mkdir -p "$creds"
    for f in "$unit" /etc/systemd/system/trendwatch.service.d/*.conf; do
        [ -f "$f" ] || continue
        { grep '^LoadCredentialEncrypted=' "$f" || true; } | while IFS=: read -r key path; do
            name=${key#LoadCredentialEncrypted=}
            systemd-creds decrypt --name="$name" "$path" "$creds/$name"
        done
    done
    chown -R "$uid:$uid" "$creds"
    exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
    mkdir -p "$TW_WORK/hold"
    unshare -m bash -c '
        mount --bind /var/lib/private/trendwatch "$1" &&
        mount -t tmpfs -o mode=0755 tmpfs /var/lib/private &&
        mkdir /var/lib/private/trendwatch &&
        mount --bind "$1" /var/lib/private/trendwatch &&
        exec env CREDENTIALS_DIRECTORY="$2" STATE_DIRECTORY=/var/lib/trendwatch \
            setpriv --reuid="$3" --regid="$3" --clear-groups $4' \
        sh "$TW_WORK/hold" "$creds" "$uid" "$exec_start" >>"$TW_WORK/journal" 2>&1 &
    echo $! > "$pidfile"
    sleep 2
    kill -0 "$(cat "$pidfile")" || { echo "trendwatch.service failed to start:" >&2; cat "$TW_WORK/journal" >&2; exit 1; }
}
stop() {
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile"); rm -f "$pidfile"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    echo "trendwatch.service did not stop" >&2; exit 1
}
case "$*" in
    daemon-reload)
        if [ -f "$unit" ]; then systemd-analyze verify --man=no "$unit"; fi ;;
    "enable --now trendwatch"|"start trendwatch") start ;;
    "restart trendwatch") stop; start ;;
    "reload trendwatch") kill -HUP "$(cat "$pidfile")" ;;
    "disable --now trendwatch"|"stop trendwatch") stop ;;
    "status trendwatch")
        if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")"; then echo "● trendwatch.service: active (running)"; else echo "● trendwatch.service: inactive"; exit 3; fi ;;
    *) echo "systemctl stand-in: unknown command: $*" >&2; exit 1 ;;
esac
EOF
cat > "$shims/journalctl" <<'EOF'
#!/bin/bash
tail -n 20 "$TW_WORK/journal"
EOF
cat > "$shims/systemd-ask-password" <<'EOF'
#!/bin/bash
printf '%s' "pw-from-readme-check"
EOF
cat > "$shims/nano" <<'EOF'
#!/bin/bash
# The person's edits: a recipient; and, since this machine has no internet, TikTok's pages
# come from a local stand-in serving captured pages in TikTok's format.
sed -i 's/^to = \[.*\]/to = ["boutique@example.org"]/' "$1"
sed -i "s#^\[collect\]\$#[collect]\ntiktok_base_url = \"$TW_TIKTOK\"#" "$1"
EOF
cat > "$shims/sudo" <<'EOF'
#!/bin/bash
exec "$@"
EOF
chmod +x "$shims"/*
export PATH="$shims:$PATH"

# TikTok's stand-in: the starter watchlist's tags, as TikTok serves a tag page.
mkdir -p "$work/site/tag"
for tag in skincarenaturel bienetre huilesessentielles; do
    sed "s/\"title\":\"skincarenaturel\"/\"title\":\"$tag\"/" tests/fixtures/tiktok/tag_universal.html > "$work/site/tag/$tag"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work/site" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
site=$!
trap 'kill $site 2>/dev/null; rm -rf "$shims" "$work" "$layers"' EXIT
export TW_TIKTOK="http://127.0.0.1:$port"

# The README's ```sh blocks under one heading, in order.
blocks() {
    awk -v want="$1" '
        /^#+ / { in_section = (index($0, want) > 0) }
        in_section && /^```sh$/ { inblock = 1; next }
        inblock && /^```$/ { inblock = 0; print "#--- end of block"; next }
        inblock { print }
    ' README.md
}
run_section() {
    echo "=== README: $1"
    blocks "$1" | grep -v '^#--- ' | while IFS= read -r line; do
        [ -z "$line" ] && continue
        # Step 1 is the build this runs on (see above).
        case "$line" in
            apt-get*|curl*|". "*|git\ clone*|cargo\ build*|"cd trendwatch"*) echo "(step 1, done: $line)"; continue ;;
        esac
        echo "\$ $line"
        (cd "$repo" && bash -euo pipefail -c "$line") || { echo "readme-install: FAILED: $line" >&2; exit 1; }
    done
}
run_section "Install as a service"
# What a person then checks: the service runs, as another user, on the closed store.
sleep 3
test "$(stat -c %a /var/lib/private)" = 700
run_section "Using the commands on the service"
found=$(find /var/lib/private/trendwatch ! -uid 61234 | head -1)
[ -z "$found" ] || { echo "readme-install: $found is not the service's" >&2; exit 1; }
run_section "Updating"
run_section "Uninstalling"
[ ! -e /usr/local/bin/trendwatch ] && [ ! -e /etc/systemd/system/trendwatch.service ]
echo "readme-install: every block ran as written"
