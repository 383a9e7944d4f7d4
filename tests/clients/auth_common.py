"""Fixtures shared by the authentication tests (test_auth*.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="auth/obj.txt", Body=b"secret data")
    return bucket, "auth/obj.txt"
