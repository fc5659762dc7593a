"""The service's live view: `make deploy SERVICE=1 HTTP=8000` reaches the unit's ExecStart as
`watch ... --http 127.0.0.1:8000`, which watch accepts."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from device.cli import build_parser, main
from device.deploy import push
from device.deploy.remote import Remote
from device.pi import release, service
from device.pi.layout import EXIT_LOCAL, Layout
from device.pi.service import render_unit
from device.web.address import HttpAddress
from tests.test_service import require_tool, unit_keys

VENV = Path(sys.prefix)


def test_the_unit_serves_the_live_view_on_loopback_only():
    unit = unit_keys(render_unit(Path("/app"), VENV, systemd=252, http_port=8000))
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert argv[-2:] == ["--http", "127.0.0.1:8000"]
    args = build_parser().parse_args(argv[1:])  # what watch makes of it
    assert args.http == HttpAddress("127.0.0.1", 8000) and not args.http.public
    assert "AF_INET" in unit["Service"]["RestrictAddressFamilies"]  # it must listen
    plain = unit_keys(render_unit(Path("/app"), VENV, systemd=252))["Service"]
    assert "--http" not in plain["ExecStart"]
    assert "AF_INET" not in plain["RestrictAddressFamilies"]


def installed_with_live_view(monkeypatch, tmp_path) -> list:
    """A service installed with its live view on 8123; the list gets each install's args."""
    unit = tmp_path / "digitcam.service"
    unit.write_text(render_unit(Path("/old"), VENV, systemd=252, http_port=8123))
    monkeypatch.setattr(service, "UNIT_PATH", unit)
    monkeypatch.setattr(service, "systemd_version", lambda: 252)
    installed = []
    monkeypatch.setattr(service, "install", lambda *a: installed.append(a) or "service: active")
    return installed


def test_a_new_release_keeps_the_services_live_view(monkeypatch, tmp_path):
    installed = installed_with_live_view(monkeypatch, tmp_path)
    new = tmp_path / "new-release"
    (new / "device" / "web").mkdir(parents=True)
    service.refresh(new, VENV)
    assert installed == [(new, VENV, 8123)]


def test_systemd_analyze_accepts_the_unit_with_the_live_view(tmp_path):
    analyze = require_tool("systemd-analyze")
    unit = tmp_path / "digitcam.service"
    unit.write_text(render_unit(tmp_path, VENV, tmp_path / "log", 252, "root", http_port=8000))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if unit.name in line] == []


def test_deploy_passes_the_port_to_the_pi_side(monkeypatch):
    ran = []
    monkeypatch.setattr(
        push.subprocess,
        "run",
        lambda argv, **kw: ran.append(argv) or subprocess.CompletedProcess(argv, 0),
    )
    push.activate(Remote("pi@pi"), "/home/pi/digitcam", "R1", "python3", True, 8000)
    argv = shlex.split(ran[0][-1].partition(" && ")[2])
    assert argv[argv.index("device.pi.release") + 1 :] == [
        *("/home/pi/digitcam", "R1", "--service", "--http", "8000")
    ]


def test_the_pi_side_installs_the_service_with_the_port(monkeypatch, tmp_path):
    installed = []
    monkeypatch.setattr(service, "install", lambda *a: installed.append(a) or "service: active")
    layout = Layout(tmp_path)
    assert release.update_service(layout, install=True, restart=True, http_port=8000)
    assert installed == [(layout.current, layout.venv, 8000)]


def test_http_without_the_service_is_one_line(capsys):
    assert main(["deploy", "pi@host", "--http", "8000"]) == EXIT_LOCAL
    err = capsys.readouterr().err
    assert "add --service" in err and err.count("\n") == 1


def test_a_privileged_port_is_refused_before_anything_is_sent(capsys):
    """The service's user has no capabilities: port 80 would stop the service for good."""
    with pytest.raises(SystemExit) as stop:
        main(["deploy", "pi@host", "--service", "--http", "80"])
    assert stop.value.code == 2
    assert "1024-65535" in capsys.readouterr().err


def test_a_rollback_to_a_release_without_the_live_view_drops_it(monkeypatch, tmp_path):
    installed = installed_with_live_view(monkeypatch, tmp_path)
    old = tmp_path / "old-release"
    (old / "device").mkdir(parents=True)  # device/ without web/: watch there has no --http
    service.refresh(old, VENV)
    assert installed == [(old, VENV, None)]
