#!/usr/bin/env bash
# Builds the simul image and proves it works, on a machine where no Docker engine runs and no registry
# is reachable: it starts a private dockerd (its own data, sockets and pidfile under a temp dir, no
# bridge, no iptables), makes debian:bookworm-slim with debootstrap from the Debian mirror apt already
# uses when the engine lacks it, builds docker/Dockerfile with host networking, runs the image with host
# networking only, checks it over loopback, then stops the container and the engine and removes the dir.
#
#   scripts/docker-check.sh              (as root, or with sudo available)
#
# Environment: SIMUL_DOCKER_CACHE (default /var/cache/simul-docker) keeps the debootstrap tarball
# between runs; SIMUL_DOCKER_JOBS (default 2) is the compile parallelism inside the build;
# SIMUL_DOCKER_TMPFS=0 keeps the engine's data on disk instead of a tmpfs; SIMUL_DOCKER_KEEP=1 leaves
# the temp dir (engine stopped; dockerd.log, build.log) for a post-mortem.
# Exit code: 0 when every check passed, 1 when any failed, 2 when the set-up itself failed.
set -euo pipefail

started=$(date +%s)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SIMUL_DOCKER_CACHE:-/var/cache/simul-docker}
jobs=${SIMUL_DOCKER_JOBS:-2}
image=simul:check
base=debian:bookworm-slim
docker_bin=/usr/bin/docker # Debian's docker.io client, matching its dockerd (not any other docker on PATH)

say() { printf '[docker-check %4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
die() { say "error: $*" >&2; exit 2; }

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (dockerd, debootstrap), and sudo is missing"
  sudo=(sudo)
fi

# ---- packages -----------------------------------------------------------------------------------------
need=()
for p in docker.io debootstrap python3 iproute2 redis-server; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || need+=("$p")
done
if ((${#need[@]})); then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[[ -x $docker_bin && -x /usr/sbin/dockerd ]] || die "Debian's docker.io did not install /usr/bin/docker and /usr/sbin/dockerd"

# ---- private engine -----------------------------------------------------------------------------------
# Short path: containerd's sockets live under it and unix socket paths are limited to 108 bytes.
tmp=$(mktemp -d /tmp/sdc.XXXXXX)
export DOCKER_HOST=unix://$tmp/docker.sock
dockerd_pid=
container=

cleanup() {
  local rc=$?
  set +e
  if [[ -n $container ]]; then timeout 30 "$docker_bin" rm -f "$container" >/dev/null 2>&1; fi
  if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
    say "stopping dockerd (pid $dockerd_pid)"
    "${sudo[@]}" kill -TERM "$dockerd_pid"
    for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$dockerd_pid" 2>/dev/null; then
      say "dockerd $dockerd_pid did not stop in 30 s; killing it"
      "${sudo[@]}" kill -KILL "$dockerd_pid"
    fi
    wait "$dockerd_pid" 2>/dev/null
  fi
  # Anything the engine left mounted under the temp dir, deepest first, before removing it.
  awk -v t="$tmp" '$2 ~ "^"t {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    "${sudo[@]}" umount -l "$m"
  done
  if [[ ${SIMUL_DOCKER_KEEP:-0} == 1 ]]; then
    say "kept $tmp (dockerd log: $tmp/dockerd.log)"
  else
    say "removing $tmp"
    "${sudo[@]}" rm -rf "$tmp"
  fi
  say "engine stopped, temp dir cleaned; total time $(($(date +%s) - started)) s; exit code $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The engine's data (~2 GB of layers after a build) on tmpfs when memory allows: removing it from the
# disk afterwards costs ~40 s of unlinks, unmounting a tmpfs costs nothing. SIMUL_DOCKER_TMPFS=0: disk.
mem_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
if [[ ${SIMUL_DOCKER_TMPFS:-1} != 0 && ${mem_kb:-0} -ge $((8 * 1024 * 1024)) ]]; then
  mkdir -p "$tmp/data"
  "${sudo[@]}" mount -t tmpfs -o size=8g,mode=0711 simul-docker-check "$tmp/data"
fi
echo '{}' >"$tmp/daemon.json" # ignore any /etc/docker/daemon.json: this engine is ours alone
say "starting a private dockerd in $tmp"
"${sudo[@]}" /usr/sbin/dockerd \
  --config-file "$tmp/daemon.json" \
  --data-root "$tmp/data" --exec-root "$tmp/exec" --pidfile "$tmp/docker.pid" \
  -H "unix://$tmp/docker.sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  >"$tmp/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 60); do
  timeout 5 "$docker_bin" version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { tail -20 "$tmp/dockerd.log" >&2; die "dockerd exited"; }
  sleep 1
done
timeout 5 "$docker_bin" version >/dev/null 2>&1 || { tail -20 "$tmp/dockerd.log" >&2; die "dockerd not up in 60 s"; }
if ((${#sudo[@]})); then "${sudo[@]}" chmod 666 "$tmp/docker.sock"; fi # let the caller's client in
say "dockerd up (pid $dockerd_pid, $("$docker_bin" version -f '{{.Server.Version}}'), storage $("$docker_bin" info -f '{{.Driver}}') on $(stat -f -c %T "$tmp/data"))"

# ---- base image ---------------------------------------------------------------------------------------
# The Debian mirror apt already uses: deb822 URIs: lines first, then one-line `deb` entries.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk 'tolower($1)=="uris:" {for (i=2;i<=NF;i++) print $i}' "$f" | grep -v -- '-security' | grep -m1 debian || true)
    [[ -n $uri ]] && { echo "${uri%/}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' "$f" \
          | grep -v -- '-security' | grep -m1 debian || true)
    [[ -n $uri ]] && { echo "${uri%/}"; return; }
  done
  echo http://deb.debian.org/debian
}

# A bookworm minbase root filesystem shaped like the official -slim image: the host's Debian apt
# sources (main, updates, security), no docs/man/locales, apt lists cleaned.
make_rootfs_tarball() {
  local out=$1 mirror rootfs
  mirror=$(debian_mirror)
  rootfs=$tmp/rootfs
  say "debootstrap --variant=minbase bookworm from $mirror (a few minutes, once; cached in $cache)"
  "${sudo[@]}" debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
    || { tail -20 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  "${sudo[@]}" rm -f "$rootfs/etc/apt/sources.list"
  "${sudo[@]}" tee "$rootfs/etc/apt/sources.list.d/debian.sources" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  "${sudo[@]}" tee "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  "${sudo[@]}" tee "$rootfs/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  "${sudo[@]}" find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  "${sudo[@]}" rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/*.log "$rootfs"/tmp/*
  "${sudo[@]}" mkdir -p "$cache"
  # Written under a temp name and renamed: an interrupted run never leaves a half tarball in the cache.
  "${sudo[@]}" tar --numeric-owner -C "$rootfs" -cf "$out.partial.$$" .
  "${sudo[@]}" mv -f "$out.partial.$$" "$out"
  "${sudo[@]}" rm -rf "$rootfs"
}

if ! "$docker_bin" image inspect "$base" >/dev/null 2>&1; then
  tarball=$cache/bookworm-minbase-$(dpkg --print-architecture).tar
  [[ -s $tarball ]] || make_rootfs_tarball "$tarball"
  say "importing $tarball as $base"
  "$docker_bin" import -c 'CMD ["bash"]' - "$base" <"$tarball" >/dev/null
fi
say "base image $base: $("$docker_bin" image inspect -f '{{.Size}}' "$base" | awk '{printf "%.0f MB", $1/1e6}')"

# ---- build --------------------------------------------------------------------------------------------
[[ -f $repo/config/docker.yaml ]] || die "config/docker.yaml is missing (the Dockerfile copies it into the image)"
say "building $image (DOCKER_BUILDKIT=1, --network host, -j$jobs)"
build_started=$(date +%s)
sha=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
build=(build --network host --build-arg "JOBS=$jobs" --build-arg "GIT_SHA=$sha" -f "$repo/docker/Dockerfile" -t "$image" "$repo")
if ! DOCKER_BUILDKIT=1 timeout 1800 "$docker_bin" "${build[@]}" --progress plain >"$tmp/build.log" 2>&1; then
  if grep -qiE 'buildkit|buildx|session' "$tmp/build.log"; then
    say "BuildKit build failed in a way that looks like BuildKit itself; retrying with the classic builder"
    tail -5 "$tmp/build.log"
    DOCKER_BUILDKIT=0 timeout 1800 "$docker_bin" "${build[@]}" >"$tmp/build.log" 2>&1 \
      || { tail -40 "$tmp/build.log" >&2; die "docker build failed"; }
  else
    tail -40 "$tmp/build.log" >&2
    die "docker build failed"
  fi
fi
image_size=$("$docker_bin" image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}')
say "built $image in $(($(date +%s) - build_started)) s: $image_size"

# ---- checks -------------------------------------------------------------------------------------------
passed=()
failed=()
check() { # name command...: runs one check, records the outcome, never aborts the script
  local name=$1
  shift
  if "$@" >"$tmp/check.out" 2>&1; then
    passed+=("$name")
    say "PASS $name"
  else
    failed+=("$name")
    say "FAIL $name: $(tail -3 "$tmp/check.out" | tr '\n' ' ')"
  fi
}

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
pick_port() { # the given port if free, else (or for 0) a free one the kernel picks
  if [[ $1 != 0 ]] && port_free "$1"; then echo "$1"; else
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  fi
}
echo_port=$(pick_port 7007)
chat_port=$(pick_port 6667)
metrics_port=$(pick_port 9107)

# Loopback talk in one place; every socket op has a timeout.
net() {
  timeout 20 python3 - "$@" <<'EOF'
import socket, sys, time
what, port = sys.argv[1], int(sys.argv[2])
def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
if what == "wait":                       # until the port accepts, for at most 15 s
    end = time.monotonic() + 15
    while True:
        try: connect().close(); break
        except OSError:
            if time.monotonic() > end: sys.exit("nothing listening on port %d" % port)
            time.sleep(0.2)
elif what == "echo":
    s = connect(); msg = b"simul docker-check\n" * 100; s.sendall(msg); got = b""
    while len(got) < len(msg):
        b = s.recv(65536)
        if not b: break
        got += b
    sys.exit(0 if got == msg else "echo mismatch: sent %d bytes, got %d back" % (len(msg), len(got)))
elif what == "chat":
    s = connect(); s.sendall(b"NICK dockcheck\r\nUSER dockcheck 0 * :docker check\r\n"); buf = b""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        b = s.recv(4096)
        if not b: break
        buf += b
        for line in buf.split(b"\r\n"):
            parts = line.split(b" ")
            if len(parts) > 1 and parts[1] == b"001": print(line.decode(errors="replace")); sys.exit(0)
    sys.exit("no 001 after NICK/USER; got: %r" % buf[:200])
elif what == "healthz":
    s = connect(); s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"); buf = b""
    while True:
        b = s.recv(4096)
        if not b: break
        buf += b
    status = buf.split(b"\r\n", 1)[0].decode(errors="replace")
    print(status)
    sys.exit(0 if status.split(" ")[1:2] == ["200"] else "status line: %r" % status)
elif what == "cross":                    # a room message from a user on node `port` to one on node argv[3]
    def user(p, nick):
        s = socket.create_connection(("127.0.0.1", p), timeout=5)
        s.sendall(b"NICK %s\r\nUSER %s 0 * :docker check\r\nJOIN #dockcheck\r\n" % (nick, nick))
        return s
    def until(s, want, end):
        buf = b""
        while time.monotonic() < end:
            b = s.recv(4096)
            if not b: break
            buf += b
            if want in buf: return buf
        sys.exit("waited for %r; got %r" % (want, buf[-300:]))
    end = time.monotonic() + 15
    a = user(port, b"alice"); until(a, b" 366 alice", end)
    b = user(int(sys.argv[3]), b"bob"); until(b, b" 366 bob", end)
    until(a, b"JOIN", end)                # bob's JOIN reached alice's node
    a.sendall(b"PRIVMSG #dockcheck :across the network\r\n")
    line = until(b, b"across the network", end)
    print("bob on node %s got: %s" % (sys.argv[3], line.strip().splitlines()[-1].decode(errors="replace")))
EOF
}

container=simul-check-$$
health=()
[[ $metrics_port == 9107 ]] || health=(--health-cmd "simul-server --probe 127.0.0.1:$metrics_port")
say "running $container (--network host; echo $echo_port, chat $chat_port, metrics $metrics_port, bound to 127.0.0.1)"
timeout 60 "$docker_bin" run -d --name "$container" --network host \
  --health-interval 1s --health-timeout 3s --health-retries 3 --health-start-period 0s "${health[@]}" \
  "$image" --config /etc/simul/server.yaml --bind 127.0.0.1 \
  --echo-port "$echo_port" --chat-port "$chat_port" --metrics-port "$metrics_port" >/dev/null

check "config in the image is valid (--check-config)" \
  timeout 60 "$docker_bin" run --rm --network host "$image" --config /etc/simul/server.yaml --check-config
check "server is listening (echo port $echo_port)" net wait "$echo_port"
check "echo round trip on 127.0.0.1:$echo_port" net echo "$echo_port"
check "chat registration (NICK/USER -> 001) on 127.0.0.1:$chat_port" net chat "$chat_port"
check "GET /healthz -> 200 on 127.0.0.1:$metrics_port" net healthz "$metrics_port"
runs_as_non_root() {
  local uid
  uid=$(timeout 20 "$docker_bin" exec "$container" id -u)
  echo "uid $uid"
  [[ $uid =~ ^[0-9]+$ && $uid -ne 0 ]]
}
check "server runs as a non-root user" runs_as_non_root
becomes_healthy() {
  local s=
  for _ in $(seq 1 30); do
    s=$("$docker_bin" inspect -f '{{.State.Health.Status}}' "$container")
    [[ $s == healthy ]] && return 0
    sleep 1
  done
  echo "health after 30 s: $s; last probe: $("$docker_bin" inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' "$container" | tail -2)"
  return 1
}
check "HEALTHCHECK turns healthy" becomes_healthy
load_runs() {
  timeout 60 "$docker_bin" run --rm --network host --entrypoint simul-load "$image" \
    echo --host 127.0.0.1 --port "$echo_port" --connections 10 --duration 2
}
check "simul-load in the image runs an echo load" load_runs
stops_cleanly() {
  timeout 40 "$docker_bin" stop -t 20 "$container" >/dev/null
  local code
  code=$("$docker_bin" inspect -f '{{.State.ExitCode}}' "$container")
  echo "exit code $code"
  [[ $code == 0 ]]
}
check "docker stop ends the server with exit code 0" stops_cleanly
# The threaded model (compose's simul-threaded), on free ports so it never meets the first container.
threaded_works() {
  local name=$container-threaded e c m code
  e=$(pick_port 0) c=$(pick_port 0) m=$(pick_port 0)
  timeout 60 "$docker_bin" run -d --name "$name" --network host --no-healthcheck "$image" \
    --config /etc/simul/server.yaml --model threaded --bind 127.0.0.1 \
    --echo-port "$e" --chat-port "$c" --metrics-port "$m" >/dev/null || return 1
  net wait "$e" && net echo "$e" && net chat "$c"
  local ok=$?
  timeout 40 "$docker_bin" stop -t 20 "$name" >/dev/null
  code=$("$docker_bin" inspect -f '{{.State.ExitCode}}' "$name")
  echo "threaded: checks rc $ok, exit code $code"
  ((ok == 0)) || timeout 10 "$docker_bin" logs --tail 10 "$name" 2>&1
  timeout 30 "$docker_bin" rm -f "$name" >/dev/null
  ((ok == 0)) && [[ $code == 0 ]]
}
check "threaded model: echo, chat 001, docker stop -> exit 0" threaded_works
# One chat network (compose's cluster profile): the host's redis-server on loopback (no registry to pull
# an image from here) and three containers of the image as nodes; a room message crosses nodes.
cluster_works() {
  local rp names=() chats=() ok=0 i e c m code
  rp=$(pick_port 0)
  redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" || return 1
  for i in 1 2 3; do
    e=$(pick_port 0) c=$(pick_port 0) m=$(pick_port 0)
    names+=("$container-node$i") chats+=("$c")
    timeout 60 "$docker_bin" run -d --name "$container-node$i" --network host --no-healthcheck "$image" \
      --config /etc/simul/server.yaml --bind 127.0.0.1 --redis "127.0.0.1:$rp" \
      --echo-port "$e" --chat-port "$c" --metrics-port "$m" >/dev/null || ok=1
  done
  if ((ok == 0)); then
    { net wait "${chats[0]}" && net wait "${chats[2]}" && net cross "${chats[0]}" "${chats[2]}"; } || ok=1
  fi
  for i in "${!names[@]}"; do
    timeout 40 "$docker_bin" stop -t 20 "${names[$i]}" >/dev/null
    code=$("$docker_bin" inspect -f '{{.State.ExitCode}}' "${names[$i]}")
    echo "node$((i + 1)): exit code $code"
    [[ $code == 0 ]] || ok=1
    ((ok == 0)) || timeout 10 "$docker_bin" logs --tail 5 "${names[$i]}" 2>&1
    timeout 30 "$docker_bin" rm -f "${names[$i]}" >/dev/null
  done
  kill "$(cat "$tmp/redis.pid")" 2>/dev/null
  ((ok == 0))
}
check "cluster: 3 nodes on one Redis, a room message crosses nodes, docker stop -> exit 0" cluster_works
if ((${#failed[@]})); then
  say "server log (last 20 lines):"
  timeout 10 "$docker_bin" logs --tail 20 "$container" 2>&1 | sed 's/^/    /'
fi

say "image $image: $image_size"
say "${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0)) || exit 1
