#!/usr/bin/env bash
# make pi-check: digitcam on an arm64 Debian 12 (Bookworm) root under qemu user emulation.
# Builds the root once (build/pi-root), starts its sshd as user pi, runs the real deploy into it,
# then doctor, predict, watch and bench over SSH, and compares every answer with x86's.
# Needs root (debootstrap, chroot, mount). Timings under emulation are not Pi timings.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
ROOT=$REPO/build/pi-root
WORK=$REPO/build/pi-check
MIRROR=${PI_CHECK_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv,python3-numpy,python3-pil,rsync,openssh-server,ca-certificates
ROOT_STAMP=$ROOT/.pi-check-root-$(echo "$MIRROR $PACKAGES" | cksum | cut -d' ' -f1)
PY=$REPO/.venv/bin/python
HELPER="$PY $REPO/tests/pi_check/helper.py"
DATA=${PI_CHECK_DATA:-$REPO/../shared/data}
MNIST_DIR=${MNIST_DIR:-$DATA/mnist}
MNIST_IMAGES=300
CAMERA_FRAMES=60 # 12 pictures, 5 frames each (tests/pi_check/picamera2_init.py)
# --quick, smaller still: one interpreter call takes ~100 ms under qemu (--quick alone: >12 min)
BENCH="--quick --photos 4 --runs 20 --frames 10 --soak 20 --out bench"
TFLITE_RUNTIME=${PI_CHECK_TFLITE_RUNTIME:-1}
SSHD_PID=

say() { echo "pi-check: $*"; }
die() {
  echo "pi-check: $*" >&2
  exit 1
}
# Outside CI a missing network is a skip, as missing MNIST is for make test.
unreachable() {
  if [ "${CI:-}" = true ]; then die "$*"; fi
  say "skipped: $*"
  exit 0
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount): sudo make pi-check"
[ -x "$PY" ] || die "$PY missing: make setup"
if [ ! -d "$MNIST_DIR" ] || [ ! -d "$DATA/real/photos" ]; then
  die "needs MNIST in $MNIST_DIR and the real photos in $DATA/real"
fi

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -x /usr/bin/qemu-aarch64-static ] || missing+=(qemu-user-static)
command -v update-binfmts >/dev/null || missing+=(binfmt-support)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v rsync >/dev/null || missing+=(rsync)
command -v mountpoint >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq || unreachable "cannot reach the Debian archive to install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# qemu-aarch64 runs the root's binaries; the F flag lets it work inside the chroot.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable qemu-aarch64 || die "cannot register qemu-aarch64 with binfmt_misc"
fi

unmount_all() {
  local target
  # everything mounted below the root, deepest first (also what a killed run left behind)
  for target in $(awk -v root="$ROOT" '$5 == root || index($5, root "/") == 1 {print $5}' \
    /proc/self/mountinfo | sort -r); do
    umount "$target" 2>/dev/null || umount -l "$target"
  done
}

stop_chrooted() { # what an interrupted SSH session left running in the root
  local proc
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ] && kill "${proc#/proc/}" 2>/dev/null
  done
  return 0
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$SSHD_PID" ]; then
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
  fi
  stop_chrooted
  unmount_all
  rm -rf "$ROOT/etc/pi-check"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
if [ ! -e "$ROOT_STAMP" ]; then
  curl_ok() { "$PY" -c "import urllib.request as u; u.urlopen('$1', timeout=20).read(1)" 2>/dev/null; }
  curl_ok "$MIRROR/dists/bookworm/Release" ||
    unreachable "cannot reach the Debian archive at $MIRROR (set PI_CHECK_MIRROR for another)"
  say "building the arm64 Bookworm root in $ROOT (once, a few minutes)"
  unmount_all
  rm -rf --one-file-system "$ROOT"
  debootstrap --arch=arm64 --variant=minbase --include="$PACKAGES" bookworm "$ROOT" "$MIRROR" \
    >"$REPO/build/pi-root.log" 2>&1 ||
    die "debootstrap failed (build/pi-root.log): $(grep -m1 -E '^E:' "$REPO/build/pi-root.log" || tail -1 "$REPO/build/pi-root.log")"
  # '*': no password, yet not locked (sshd without PAM refuses locked accounts, keys too)
  chroot "$ROOT" useradd --create-home --shell /bin/bash --password '*' pi
  chroot "$ROOT" apt-get clean
  touch "$ROOT_STAMP"
  say "root built in $((SECONDS - start)) s"
else
  say "using the cached root $ROOT ($(cat "$ROOT/etc/debian_version"), rm -rf build/pi-root to rebuild)"
fi

mount_in() { # mount_in TARGET mount-arguments...
  local target=$ROOT$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
}
unmount_all # what a killed run left
mount_in /proc -t proc proc
# No /sys: the host's describes x86 CPUs, and LiteRT's CPU probe segfaults on it under qemu.
mount_in /dev --bind /dev
mount_in /dev/pts --bind /dev/pts
mount_in /dev/shm -t tmpfs -o mode=1777 tmpfs # predict's worker processes share memory here
chroot "$ROOT" /bin/true || die "cannot run arm64 binaries: qemu-aarch64 binfmt not working"
say "$(chroot "$ROOT" uname -m), Debian $(cat "$ROOT/etc/debian_version"), $(chroot "$ROOT" python3 --version)"

rm -rf "$WORK"
mkdir -p "$WORK/x86" "$WORK/arm64"
# This machine's pip settings (config files, CA bundle, local indexes, PIP_* variables),
# so pip in the root reaches the same registry.
$HELPER pip-settings >"$WORK/pip-settings"
while read -r kind first second; do
  case $kind in
    file)
      mkdir -p "$(dirname "$ROOT$second")"
      cp "$first" "$ROOT$second"
      ;;
    dir) mount_in "$first" --bind -o ro "$first" ;;
  esac
done <"$WORK/pip-settings"
PI_IDS=$(awk -F: '$1 == "pi" {print $3 ":" $4}' "$ROOT/etc/passwd")
chown -R "$PI_IDS" "$ROOT/home/pi"
say "pip settings carried: $(awk '{x = $2; if ($1 == "env") x = substr($2, 1, index($2, "=") - 1)
  printf "%s%s %s", sep, $1, x; sep = ", "}' "$WORK/pip-settings")"

# The fake camera, where Raspberry Pi OS's python3-picamera2 would be.
site=$ROOT/usr/lib/python3/dist-packages/picamera2
shim=$WORK/shim/picamera2
mkdir -p "$site" "$shim"
for dest in "$site" "$shim"; do
  cp tests/fake_picamera2.py "$dest/_fake.py"
  cp tests/pi_check/picamera2_init.py "$dest/__init__.py"
done

# sshd inside the root on a free port, a throw-away key, logging in as pi.
keys=$ROOT/etc/pi-check
rm -rf "$keys"
mkdir -p "$keys" "$ROOT/run/sshd"
ssh-keygen -q -t ed25519 -N '' -f "$keys/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/client_key"
cp "$WORK/client_key.pub" "$keys/authorized_keys"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  printf 'ListenAddress 127.0.0.1:%s\nHostKey /etc/pi-check/host_key\n' "$PORT"
  printf 'AuthorizedKeysFile /etc/pi-check/authorized_keys\nPidFile /etc/pi-check/sshd.pid\n'
  printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n'
  printf 'StrictModes no\nAllowUsers pi\n'
  $HELPER ssh-env "$WORK/pip-settings"
} >"$keys/sshd_config"
echo "[127.0.0.1]:$PORT $(cat "$keys/host_key.pub")" >"$WORK/known_hosts"
cat >"$WORK/ssh_config" <<EOF
Host pi-check
  HostName 127.0.0.1
  Port $PORT
  User pi
  IdentityFile $WORK/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $WORK/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
EOF
chroot "$ROOT" /usr/sbin/sshd -D -e -f /etc/pi-check/sshd_config 2>"$WORK/sshd.log" &
SSHD_PID=$!
SSH=(ssh -F "$WORK/ssh_config" pi-check)
for _ in $(seq 120); do
  kill -0 "$SSHD_PID" 2>/dev/null || die "sshd in the root stopped: $(tail -1 "$WORK/sshd.log")"
  "${SSH[@]}" true 2>/dev/null && break
  sleep 0.5
done
"${SSH[@]}" true || die "cannot log in to the root's sshd as pi (build/pi-check/sshd.log)"
say "sshd in the root on 127.0.0.1:$PORT, logged in as $("${SSH[@]}" 'id -un; echo $HOME' | paste -sd' ')"

say "inputs: the real photos and $MNIST_IMAGES MNIST test images as PNG"
$HELPER inputs --real "$DATA/real" --mnist "$MNIST_DIR" --count $MNIST_IMAGES "$WORK/inputs"
# Each run is a first deploy into a fresh home; pip's cache (~/.cache/pip) is kept.
rm -rf "$ROOT/home/pi/pi-check" "$ROOT/home/pi/digitcam" "$ROOT/home/pi/tflite-venv"
cp -a "$WORK/inputs" "$ROOT/home/pi/pi-check"
chown -R "$PI_IDS" "$ROOT/home/pi/pi-check"

# The deploy as `make deploy PI=...` runs it (DIGITCAM_SSH is its --ssh).
say "deploy (make deploy PI=pi-check)"
t=$SECONDS
DIGITCAM_SSH="ssh -F $WORK/ssh_config" make --no-print-directory deploy PI=pi-check 2>&1 |
  tee "$WORK/deploy.log" | sed 's/^/  | /' ||
  die "deploy into the arm64 root failed (build/pi-check/deploy.log)"
say "deployed in $((SECONDS - t)) s"

digitcam=/home/pi/digitcam/venv/bin/digitcam
x86=$REPO/.venv/bin/digitcam
remote() { "${SSH[@]}" "cd ~/pi-check && $*"; }
here() { (cd "$WORK/inputs" && "$@"); }

say "doctor on arm64:"
remote "$digitcam doctor" | tee "$WORK/arm64/doctor.txt" | sed 's/^/  | /' ||
  die "digitcam doctor failed on arm64"

PREDICT=(predict real/photos real/numbers real/nondigits mnist --format jsonl)
WATCH_SYNTHETIC=(watch --source synthetic --frames 100 --format jsonl)
WATCH_CAMERA=(watch --source picamera --frames "$CAMERA_FRAMES" --format jsonl)
CAMERA_ENV="PICHECK_FRAMES=frames"
status=0
check() { # check LABEL KIND NAME: compare build/pi-check/{x86,arm64}/NAME.jsonl
  $HELPER compare --label "$1" --kind "$2" "$WORK/x86/$3.jsonl" "$WORK/arm64/$3.jsonl" || status=1
}
run_both() { # run_both NAME ENV digitcam-arguments...
  local name=$1 env=$2
  shift 2
  here env ${env:+"$env"} "PYTHONPATH=$WORK/shim" "$x86" "$@" >"$WORK/x86/$name.jsonl" 2>"$WORK/x86/$name.err" ||
    die "x86: digitcam $* failed: $(tail -1 "$WORK/x86/$name.err")"
  t=$SECONDS
  remote "env $env $digitcam $*" >"$WORK/arm64/$name.jsonl" 2>"$WORK/arm64/$name.err" ||
    die "arm64: digitcam $* failed: $(tail -1 "$WORK/arm64/$name.err")"
  say "digitcam $* on arm64: $((SECONDS - t)) s under emulation"
}
run_both predict "" "${PREDICT[@]}"
run_both watch-synthetic "" "${WATCH_SYNTHETIC[@]}"
run_both watch-picamera "$CAMERA_ENV" "${WATCH_CAMERA[@]}"
grep -q 'fake-imx708' "$WORK/arm64/watch-picamera.err" ||
  die "watch --source picamera on arm64 did not use the fake camera: $(head -1 "$WORK/arm64/watch-picamera.err")"

t=$SECONDS
remote "$digitcam bench $BENCH" >"$WORK/arm64/bench.txt" 2>&1 ||
  die "digitcam bench --quick failed on arm64: $(tail -1 "$WORK/arm64/bench.txt")"
say "digitcam bench $BENCH on arm64: ran in $((SECONDS - t)) s (emulated: its times are not a Pi's)"

if [ "$TFLITE_RUNTIME" = 1 ]; then
  # The interpreter's second choice: tflite-runtime 2.14 in its own venv beside Debian's numpy
  # 1.24, running the deployed release (no ai_edge_litert there, so it is tflite_runtime).
  say "tflite-runtime 2.14 on arm64 Bookworm (a second venv, ~/tflite-venv):"
  t=$SECONDS
  remote 'rm -rf ~/tflite-venv && python3 -m venv --system-site-packages ~/tflite-venv &&
    ~/tflite-venv/bin/pip install --quiet tflite-runtime==2.14.0 "tqdm>=4.66" "numpy==$(python3 -c "import numpy; print(numpy.__version__)")"' \
    >"$WORK/arm64/tflite-install.log" 2>&1 ||
    die "pip could not install tflite-runtime 2.14 on arm64: $(tail -1 "$WORK/arm64/tflite-install.log")"
  tflite="PYTHONPATH=/home/pi/digitcam/current /home/pi/tflite-venv/bin/python -m device"
  remote "$tflite doctor" | tee "$WORK/arm64/doctor-tflite.txt" | sed 's/^/  | /' ||
    die "digitcam doctor failed with tflite-runtime on arm64"
  grep -q tflite_runtime "$WORK/arm64/doctor-tflite.txt" || die "doctor did not pick tflite_runtime"
  remote "$tflite ${PREDICT[*]}" >"$WORK/arm64/predict-tflite.jsonl" 2>"$WORK/arm64/predict-tflite.err" ||
    die "arm64: predict with tflite-runtime failed: $(tail -1 "$WORK/arm64/predict-tflite.err")"
  cp "$WORK/x86/predict.jsonl" "$WORK/x86/predict-tflite.jsonl"
  say "tflite-runtime: installed and ran in $((SECONDS - t)) s"
fi

say "arm64 (qemu) answers against x86 answers, same model, same files:"
check "predict (real photos, numbers, non-digits; MNIST PNGs)" predict predict
check "watch --source synthetic --frames 100" watch watch-synthetic
check "watch --source picamera (fake camera) --frames $CAMERA_FRAMES" watch watch-picamera
[ "$TFLITE_RUNTIME" = 1 ] && check "predict with tflite-runtime 2.14 instead of LiteRT" predict predict-tflite
[ "$status" = 0 ] || die "FAILED: some arm64 answers differ from x86 (above; files in build/pi-check)"
say "passed in $((SECONDS - start)) s (emulated timings are not Pi timings)"
