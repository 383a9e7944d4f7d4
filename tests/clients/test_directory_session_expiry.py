"""Directory-bucket session expiry: a server started with ``--session-seconds 5`` hands out
sessions that expire after five seconds (long enough for the first requests on a loaded CI machine); a request signed with an expired session gets
``ExpiredToken`` (400), and boto3 with session auth on simply asks for a new session."""

from __future__ import annotations

import time

import pytest

from directory_common import create_dir, dclient, empty_dir, expect_error, session_client


@pytest.fixture(scope="module")
def short_sessions(server_factory):
    srv = server_factory.start("--session-seconds", "5", memory=True)
    yield srv
    if srv.alive():
        srv.stop()


def test_expired_session_token_is_refused(short_sessions):
    lc = dclient(short_sessions, session=False)
    bucket = create_dir(lc)
    try:
        creds = lc.create_session(Bucket=bucket)["Credentials"]
        sc = session_client(short_sessions, creds)
        sc.put_object(Bucket=bucket, Key="fresh", Body=b"1")
        time.sleep(6)
        expect_error(sc.put_object, "ExpiredToken", 400, Bucket=bucket, Key="late", Body=b"2")
        expect_error(sc.get_object, "ExpiredToken", 400, Bucket=bucket, Key="fresh")
        # A new session works again; the long-term key always does.
        sc2 = session_client(short_sessions, lc.create_session(Bucket=bucket)["Credentials"])
        assert sc2.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"1"
        assert lc.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"1"
    finally:
        empty_dir(lc, bucket)


def test_sdk_session_auth_renews_expired_sessions(short_sessions):
    auto = dclient(short_sessions, session=True)
    bucket = create_dir(auto)
    try:
        auto.put_object(Bucket=bucket, Key="a", Body=b"a")
        time.sleep(6)
        assert auto.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"
    finally:
        empty_dir(dclient(short_sessions, session=False), bucket)
