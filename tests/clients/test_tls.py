"""HTTPS with boto3 and the aws CLI: ``--tls-self-signed`` servers trusted through ``verify=PATH``,
``AWS_CA_BUNDLE`` and ``--ca-bundle``.

conftest's ``Server`` expects an ``http://`` ready line, so this file starts its own HTTPS servers
(same isolation: no SEALSTORE_* from the environment, killed with the test process).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import SSLError

from conftest import (
    _die_with_parent,
    _no_proxy,
    sealstore_bin,
    unique_bucket_name,
)

HTTPS_READY_RE = re.compile(r"^sealstore listening on (https://([^\s:/]+):(\d+))\s*$")
NOTICE_RE = re.compile(
    r"^sealstore: self-signed TLS certificate written to (?P<path>.+) "
    r"\(trust it with AWS_CA_BUNDLE=(?P<again>.+)\)$"
)
# Until every client in this suite runs on its default checksum settings over HTTPS, uploads here
# use the settings that send a plain (not aws-chunked) body.
WHEN_REQUIRED = {"request_checksum_calculation": "when_required"}


class TlsServer:
    """One ``sealstore serve --tls-...`` process; ``url`` is ``https://127.0.0.1:PORT``."""

    def __init__(self, args: list[str], workdir: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEALSTORE_")}
        self.stderr_path = workdir / "stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [str(sealstore_bin()), "serve", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            cwd=str(workdir),
            env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=15).decode("utf-8", "replace")
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"no ready line; stderr:\n{self.stderr_text()}")
        m = HTTPS_READY_RE.match(line.rstrip("\r\n"))
        if not m:
            self.stop()
            raise RuntimeError(f"unexpected ready line {line!r}; stderr:\n{self.stderr_text()}")
        self.url, self.port = m.group(1), int(m.group(3))

    def stderr_text(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text("utf-8", "replace")

    def cert_path(self) -> Path:
        """The path from the self-signed notice line (written before the ready line)."""
        deadline = time.monotonic() + 10
        while True:
            for line in self.stderr_text().splitlines():
                m = NOTICE_RE.match(line)
                if m:
                    assert m.group("path") == m.group("again"), line
                    return Path(m.group("path"))
            if time.monotonic() > deadline:
                raise AssertionError(f"no certificate notice on stderr:\n{self.stderr_text()}")
            time.sleep(0.01)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._stderr.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def tls_server(sealstore_binary, tmp_root):
    """An on-disk server with ``--tls-self-signed``; its certificate is under DATA_DIR/tls/."""
    work = tmp_root / "tls-work"
    work.mkdir()
    data = tmp_root / "tls-data"
    srv = TlsServer(["--data-dir", str(data), "--tls-self-signed"], work)
    srv.data_dir = data
    yield srv
    assert srv.stop() == 0


def test_self_signed_cert_is_written_under_the_data_dir(tls_server):
    path = tls_server.cert_path()
    assert path == tls_server.data_dir / "tls" / "self-signed-cert.pem"
    text = path.read_text()
    assert text.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in text
    assert tls_server.url.startswith("https://127.0.0.1:")


def make_client_verify(endpoint_url, verify, **config_kw):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        verify=verify,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
            **config_kw,
        ),
    )


def test_boto3_verify_path_bucket_and_object_operations(tls_server):
    ca = str(tls_server.cert_path())
    for host in ("127.0.0.1", "localhost"):
        s3 = make_client_verify(f"https://{host}:{tls_server.port}", ca, **WHEN_REQUIRED)
        name = unique_bucket_name("tls")
        s3.create_bucket(Bucket=name)
        s3.head_bucket(Bucket=name)
        assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        for n in (0, 1, 65535, 65536, 65537):
            body = os.urandom(n)
            s3.put_object(Bucket=name, Key=f"k{n}", Body=body)
            assert s3.get_object(Bucket=name, Key=f"k{n}")["Body"].read() == body
            s3.delete_object(Bucket=name, Key=f"k{n}")
        s3.delete_bucket(Bucket=name)


def test_boto3_default_checksums_put_get_over_https(tls_server):
    """boto3 on its default checksum settings over HTTPS sends aws-chunked bodies with a trailing
    CRC32 (moved here from tests/it/tls.rs, which ran the same as a Python snippet)."""
    s3 = make_client_verify(tls_server.url, str(tls_server.cert_path()))
    name = unique_bucket_name("tls-default")
    s3.create_bucket(Bucket=name)
    for n in (0, 1, 65535, 65536, 65537, 20 * 1024 * 1024):
        body = os.urandom(n)
        s3.put_object(Bucket=name, Key=f"k{n}", Body=body)
        assert s3.get_object(Bucket=name, Key=f"k{n}")["Body"].read() == body, n
        s3.delete_object(Bucket=name, Key=f"k{n}")
    s3.delete_bucket(Bucket=name)


def test_boto3_aws_ca_bundle_environment(tls_server, monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls_server.cert_path()))
    # verify=None: botocore falls back to AWS_CA_BUNDLE.
    s3 = make_client_verify(tls_server.url, None)
    s3.list_buckets()


def test_boto3_without_the_cert_fails_verification(tls_server):
    s3 = make_client_verify(tls_server.url, True)
    with pytest.raises(SSLError):
        s3.list_buckets()


def test_cert_is_accepted_by_strict_openssl_verification(tls_server):
    """Python 3.13+ turns on VERIFY_X509_STRICT by default: the certificate must pass it too."""
    import socket

    ctx = ssl.create_default_context(cafile=str(tls_server.cert_path()))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    ctx.set_alpn_protocols(["http/1.1"])
    for name in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as sock:
            with ctx.wrap_socket(sock, server_hostname=name) as tls:
                assert tls.selected_alpn_protocol() == "http/1.1"


@pytest.fixture(scope="module")
def tls_cli(tls_server, tmp_root):
    exe = os.environ.get("AWS_CLI") or shutil.which("aws")
    if not exe:
        pytest.fail("aws CLI not found on PATH")
    home = tmp_root / "aws-cli-home-tls"
    home.mkdir()

    def run(*args, extra_env: dict | None = None, cwd: Path | None = None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "LC_ALL": os.environ.get("LC_ALL", "C.UTF-8"),
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "nonexistent-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "nonexistent-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
            "NO_PROXY": _no_proxy,
            "no_proxy": _no_proxy,
        }
        for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_ROOT", "PYENV_VERSION"):
            if var in os.environ:
                env[var] = os.environ[var]
        env.update(extra_env or {})
        argv = [exe, *args, "--endpoint-url", tls_server.url]
        p = subprocess.run(argv, capture_output=True, env=env, cwd=str(cwd or home), timeout=60,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    return run


def test_aws_cli_ca_bundle_flag_and_env(tls_server, tls_cli, tmp_path):
    ca = str(tls_server.cert_path())
    name = unique_bucket_name("tlscli")
    rc, out, err = tls_cli("s3", "mb", f"s3://{name}", "--ca-bundle", ca)
    assert rc == 0, err
    rc, out, err = tls_cli("s3api", "head-bucket", "--bucket", name, "--ca-bundle", ca)
    assert rc == 0, err
    # AWS_CA_BUNDLE instead of the flag; uploads with a plain body (see WHEN_REQUIRED).
    env = {"AWS_CA_BUNDLE": ca, "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required"}
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(70_000))
    rc, out, err = tls_cli("s3", "cp", str(src), f"s3://{name}/up.bin", extra_env=env)
    assert rc == 0, err
    dst = tmp_path / "down.bin"
    rc, out, err = tls_cli("s3", "cp", f"s3://{name}/up.bin", str(dst), extra_env=env)
    assert rc == 0, err
    assert dst.read_bytes() == src.read_bytes()
    rc, out, err = tls_cli("s3", "ls", f"s3://{name}", extra_env=env)
    assert rc == 0 and "up.bin" in out, (out, err)
    rc, out, err = tls_cli("s3", "rb", f"s3://{name}", "--force", extra_env=env)
    assert rc == 0, err
    # Without the bundle the CLI refuses the certificate.
    rc, out, err = tls_cli("s3", "ls")
    assert rc != 0 and "certificate" in err.lower(), (rc, err)


def test_memory_server_writes_cert_to_temp_and_removes_it(sealstore_binary, tmp_root):
    work = tmp_root / "tls-mem-work"
    work.mkdir()
    srv = TlsServer(["--memory", "--tls-self-signed"], work)
    try:
        path = srv.cert_path()
        assert path.name == f"sealstore-{srv.proc.pid}-self-signed-cert.pem"
        s3 = make_client_verify(srv.url, str(path))
        s3.list_buckets()
    finally:
        assert srv.stop() == 0
    assert not path.exists()
