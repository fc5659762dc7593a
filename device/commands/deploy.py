"""digitcam deploy: copy the runtime and the model to a Raspberry Pi, install and self-check."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

DESCRIPTION = """\
Copies what the Pi needs (device/, the model and its metadata, pyproject.toml, README.md) with
rsync over SSH into DIR/releases/NEW on the Pi, hard-linking unchanged files from the current
release so that only changes travel. On the Pi it installs digitcam[device] into DIR/venv
(made with --system-site-packages so apt's python3-picamera2 is visible) and runs
'digitcam doctor'; only when that passes does DIR/current switch to the new release.
A failed deploy leaves the previous release current. Needs key login (ssh-copy-id PI).
--rollback makes the release before the current one current again (installed, self-checked,
the service restarted). More in docs/pi.md.

exit status: 0 deployed, 2 local problem (model, ssh, rsync), 3 Pi unreachable, 4 Pi not
ready (directory, Python, rsync), 5 copy failed, 6 install failed, 7 self-check failed,
8 service failed, 9 another deploy is running, 10 nothing to roll back to"""


def add_arguments(parser) -> None:
    parser.add_argument("target", metavar="PI", help="the Pi as for ssh: user@host or an alias")
    parser.add_argument(
        "--dir",
        default="digitcam",
        help="directory on the Pi, relative to home (default: %(default)s)",
    )
    parser.add_argument(
        "--service",
        action="store_true",
        help="also install the systemd service that runs 'digitcam watch' at boot (needs sudo)",
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="send nothing: make the previous release on the Pi current again",
    )
    parser.add_argument(
        "--http",
        type=port_number,
        metavar="PORT",
        help="with --service: the service's watch also serves its live view on 127.0.0.1:PORT "
        "(see it with ssh -L PORT:localhost:PORT PI)",
    )
    parser.add_argument(
        "--ssh",
        default=os.environ.get("DIGITCAM_SSH", "ssh"),
        help="ssh command and options, e.g. 'ssh -p 2222' (default: $DIGITCAM_SSH or ssh)",
    )
    parser.add_argument(
        "--python",
        default="python3",
        help="the Pi's Python that makes the venv (default: %(default)s)",
    )


def port_number(text: str) -> int:
    """argparse type for --http: a TCP port the service's unprivileged user may listen on."""
    if not text.isdigit() or not 1024 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(
            f"not a port the service may use (1024-65535; the service has no privileges): {text!r}"
        )
    return int(text)


def run(args) -> int:
    from device.deploy.push import deploy, rollback
    from device.deploy.remote import DeployError, Remote
    from device.pi.layout import EXIT_LOCAL

    if args.http and not args.service:
        print("digitcam deploy: --http is the service's live view: add --service", file=sys.stderr)
        return EXIT_LOCAL
    try:
        ssh = tuple(shlex.split(args.ssh)) or ("ssh",)
    except ValueError as exc:
        print(f"digitcam deploy: --ssh {args.ssh!r}: {exc}", file=sys.stderr)
        return EXIT_LOCAL
    if args.rollback and args.service:
        print(
            "digitcam deploy: --rollback takes no --service (an installed service is restarted)",
            file=sys.stderr,
        )
        return EXIT_LOCAL
    try:
        remote = Remote(args.target, ssh)
        if args.rollback:
            print(rollback(remote, args.dir, args.python))
        else:
            print(deploy(remote, args.dir, args.python, args.service, http_port=args.http))
    except DeployError as exc:
        if str(exc):
            print(f"digitcam deploy: {exc}", file=sys.stderr)
        return exc.code
    return 0
