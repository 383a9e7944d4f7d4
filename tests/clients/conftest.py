"""Fixtures for the Python client tests (boto3, aws CLI, raw HTTP) against the real binary.

The binary comes from ``$SEALSTORE_BIN`` (default ``<repo>/target/debug/sealstore``,
built by ``cargo build``).  Every server listens on ``127.0.0.1:0``; readiness is the
single stdout line ``sealstore listening on http://HOST:PORT``.
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
READY_RE = re.compile(r"^sealstore listening on (http://([^\s:/]+):(\d+))\s*$")
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0

ALICE = ("alice", "alicesecret", "111111111111")
DEFAULT_ACCOUNT = "000000000000"

# Never let boto3 (in this process) read the developer's ~/.aws files or env settings.
_ISOLATION_DIR = tempfile.mkdtemp(prefix="sealstore-pytest-env-")
atexit.register(shutil.rmtree, _ISOLATION_DIR, True)
os.environ["AWS_CONFIG_FILE"] = os.path.join(_ISOLATION_DIR, "no-config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(_ISOLATION_DIR, "no-credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _var in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
    "AWS_S3_ADDRESSING_STYLE",
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
):
    os.environ.pop(_var, None)
_no_proxy = "127.0.0.1,localhost,.localhost"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy


def _die_with_parent():  # runs in the child between fork and exec
    """Ask Linux to SIGTERM the server if the test process dies (even on SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def sealstore_bin() -> Path:
    return Path(os.environ.get("SEALSTORE_BIN", REPO / "target" / "debug" / "sealstore"))


class Server:
    """One running ``sealstore serve`` process."""

    def __init__(self, args: list[str], workdir: Path, env: dict | None = None):
        self.args = list(args)
        self.workdir = workdir
        self.stderr_path = workdir / f"stderr-{uuid.uuid4().hex[:8]}.log"
        self.extra_stdout: list[str] = []
        self.url = ""
        self.host = ""
        self.port = 0
        self.startup_seconds = 0.0
        self.returncode: int | None = None
        self._stderr = open(self.stderr_path, "wb")
        full_env = dict(os.environ)
        for k in list(full_env):
            if k.startswith("SEALSTORE_") and k != "SEALSTORE_BIN":
                del full_env[k]
        full_env.update(env or {})
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [str(sealstore_bin()), "serve", *self.args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            cwd=str(workdir),
            env=full_env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        lines: queue.Queue = queue.Queue()

        def drain():
            first = True
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                if first:
                    lines.put(line)
                    first = False
                else:
                    self.extra_stdout.append(line)
            if first:
                lines.put(None)

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        try:
            line = lines.get(timeout=READY_TIMEOUT)
        except queue.Empty:
            self.kill()
            raise RuntimeError(f"sealstore did not print its ready line within {READY_TIMEOUT}s; stderr:\n{self.stderr_text()}")
        if line is None:
            self.proc.wait(timeout=5)
            self._close()
            raise RuntimeError(
                f"sealstore exited ({self.proc.returncode}) before becoming ready; args={args}; stderr:\n{self.stderr_text()}"
            )
        self.startup_seconds = time.monotonic() - t0
        m = READY_RE.match(line.rstrip("\r\n"))
        if not m:
            self.kill()
            raise RuntimeError(f"unexpected ready line {line!r}; stderr:\n{self.stderr_text()}")
        self.url, self.host, self.port = m.group(1), m.group(2), int(m.group(3))

    # -- lifecycle ---------------------------------------------------------
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code (kills if it does not exit)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                self.returncode = None
                self._close()
                raise RuntimeError(f"sealstore did not exit within {timeout}s of SIGTERM")
        self.returncode = self.proc.returncode
        self._drain.join(timeout=5)
        self._close()
        return self.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._close()

    def _close(self):
        try:
            self._stderr.close()
        except Exception:
            pass
        try:
            if self.proc.stdout:
                self.proc.stdout.close()
        except Exception:
            pass

    def stderr_text(self) -> str:
        try:
            self._stderr.flush()
        except Exception:
            pass
        try:
            return self.stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    # -- clients -----------------------------------------------------------
    @property
    def ip_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, access_key="test", secret_key="test", region="us-east-1", **kw):
        return make_client(self.url, access_key, secret_key, region, **kw)


def make_client(
    endpoint_url: str,
    access_key: str = "test",
    secret_key: str = "test",
    region: str = "us-east-1",
    addressing_style: str = "path",
    signature_version: str | None = None,
    **config_kw,
):
    cfg = dict(
        s3={"addressing_style": addressing_style},
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=20,
    )
    if signature_version:
        cfg["signature_version"] = signature_version
    cfg.update(config_kw)
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(**cfg),
    )


class ServerFactory:
    """Starts extra servers with custom flags; stops them all at teardown."""

    def __init__(self, root: Path):
        self.root = root
        self.servers: list[Server] = []
        self._n = itertools.count()

    def new_dir(self, name: str = "dir") -> Path:
        d = self.root / f"{name}-{next(self._n)}"
        # Owner-only, as sealstore creates its data dir (a looser one makes it warn).
        d.mkdir(parents=True, mode=0o700)
        return d

    def start(
        self,
        *extra: str,
        data_dir: Path | None = None,
        memory: bool = False,
        workdir: Path | None = None,
        env: dict | None = None,
    ) -> Server:
        args = ["--listen", "127.0.0.1:0"]
        if memory:
            args.append("--memory")
        else:
            if data_dir is None:
                data_dir = self.new_dir("data")
            args += ["--data-dir", str(data_dir)]
        args += list(extra)
        srv = Server(args, workdir or self.new_dir("work"), env=env)
        srv.data_dir = data_dir
        self.servers.append(srv)
        return srv

    def close(self):
        for s in self.servers:
            try:
                if s.alive():
                    s.stop(timeout=5)
            except Exception:
                s.kill()


@pytest.fixture(scope="session")
def sealstore_binary() -> Path:
    path = sealstore_bin()
    if not path.is_file():
        pytest.fail(f"sealstore binary not found at {path}: run `cargo build` first or set SEALSTORE_BIN")
    return path


@pytest.fixture(scope="session")
def tmp_root():
    d = Path(tempfile.mkdtemp(prefix="sealstore-pytest-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def server_factory(sealstore_binary, tmp_root):
    f = ServerFactory(tmp_root)
    yield f
    f.close()


@pytest.fixture(scope="session")
def server(server_factory) -> Server:
    """The shared server: on-disk, default region, plus a second account (alice)."""
    srv = server_factory.start("--user", ":".join(ALICE))
    yield srv
    if srv.alive():
        srv.stop()


@pytest.fixture(scope="session")
def s3(server):
    """boto3 client of the default account (test/test), path-style, us-east-1."""
    return server.client()


@pytest.fixture(scope="session")
def alice(server):
    """boto3 client of a second account (alice, account 111111111111)."""
    return server.client(ALICE[0], ALICE[1])


_bucket_seq = itertools.count()


def unique_bucket_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-{next(_bucket_seq)}"


def empty_and_delete(client, bucket: str) -> None:
    """Best-effort teardown: delete every object and then the bucket."""
    try:
        token = None
        while True:
            kw = {"Bucket": bucket}
            if token:
                kw["ContinuationToken"] = token
            page = client.list_objects_v2(**kw)
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            for o in keys:
                client.delete_object(Bucket=bucket, Key=o["Key"])
            if not page.get("IsTruncated"):
                break
            token = page.get("NextContinuationToken")
        # A versioned bucket keeps older versions and delete markers: remove them by id.
        while True:
            page = client.list_object_versions(Bucket=bucket)
            entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
            for v in entries:
                client.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            if not entries or not page.get("IsTruncated"):
                break
        client.delete_bucket(Bucket=bucket)
    except ClientError:
        pass
    except Exception:
        pass


@pytest.fixture
def bucket_name() -> str:
    """A unique, valid bucket name that does not exist yet."""
    return unique_bucket_name()


@pytest.fixture
def bucket(s3):
    """A freshly created bucket of the default account; emptied and deleted afterwards."""
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


@pytest.fixture
def cleanup_buckets(s3):
    """Collects (client, bucket) pairs to delete at teardown."""
    items: list = []
    yield items
    for client, name in items:
        empty_and_delete(client, name)


def error_of(exc: ClientError) -> tuple[str, int]:
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def assert_client_error(exc_info, code: str | None, status: int):
    """Assert a botocore ClientError's code and HTTP status (code None: HEAD, status only)."""
    err = exc_info.value.response
    got_status = err["ResponseMetadata"]["HTTPStatusCode"]
    got_code = err.get("Error", {}).get("Code")
    assert got_status == status, f"expected HTTP {status}, got {got_status}: {err.get('Error')}"
    if code is not None:
        assert got_code == code, f"expected {code}, got {got_code}: {err.get('Error')}"
    return err


# -- aws CLI ---------------------------------------------------------------

class CliResult:
    def __init__(self, rc: int, stdout: str, stderr: str, argv: list[str]):
        self.rc, self.stdout, self.stderr, self.argv = rc, stdout, stderr, argv

    def __repr__(self):
        return f"CliResult(rc={self.rc}, argv={self.argv}, stdout={self.stdout[-800:]!r}, stderr={self.stderr[-800:]!r})"


@pytest.fixture(scope="session")
def aws_cli_home(tmp_root):
    home = tmp_root / "aws-cli-home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def aws_cli(server, aws_cli_home):
    """Run the aws CLI (v1) against a server: ``aws_cli('s3', 'ls', server=..., ...)``."""
    exe = os.environ.get("AWS_CLI") or shutil.which("aws")
    if not exe:
        pytest.fail("aws CLI not found on PATH")

    def run(*args, srv: Server | None = None, access_key="test", secret_key="test",
            region="us-east-1", cwd: Path | None = None, timeout: float = 60) -> CliResult:
        target = srv or server
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(aws_cli_home),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "LC_ALL": os.environ.get("LC_ALL", "C.UTF-8"),
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": str(aws_cli_home / "nonexistent-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws_cli_home / "nonexistent-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
            "NO_PROXY": _no_proxy,
            "no_proxy": _no_proxy,
        }
        for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_ROOT", "PYENV_VERSION"):
            if var in os.environ:
                env[var] = os.environ[var]
        # 127.0.0.1 (an IP) makes botocore use path-style addressing.
        argv = [exe, *args, "--endpoint-url", target.ip_url]
        p = subprocess.run(argv, capture_output=True, env=env, cwd=str(cwd or aws_cli_home),
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return CliResult(p.returncode, p.stdout.decode("utf-8", "replace"),
                         p.stderr.decode("utf-8", "replace"), argv)

    return run
