"""Headers that change what a write stores, moved into a presigned URL's query string (as the
JavaScript SDK's presigner does by default): sealstore reads headers only, so it refuses them with
501 NotImplemented rather than dropping them; nothing is written."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import assert_client_error


def presigned_put(server, bucket: str, key: str, query: str) -> str:
    req = AWSRequest(method="PUT", url=f"{server.ip_url}/{bucket}/{key}?{query}")
    S3SigV4QueryAuth(Credentials("test", "test"), "s3", "us-east-1", expires=300).add_auth(req)
    return req.url


@pytest.mark.parametrize("query", ["x-amz-tagging=a%3Db", "x-amz-meta-color=red",
                                   "x-amz-server-side-encryption=aws%3Akms"])
def test_storing_headers_in_the_query_are_refused(server, s3, bucket, query):
    url = presigned_put(server, bucket, "k", query)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(url, data=b"body", method="PUT"), timeout=30)
    assert e.value.code == 501
    body = e.value.read().decode()
    assert "<Code>NotImplemented</Code>" in body, body
    with pytest.raises(ClientError) as ce:
        s3.head_object(Bucket=bucket, Key="k")
    assert_client_error(ce, None, 404)


def test_a_presigned_put_without_them_works(server, s3, bucket):
    url = presigned_put(server, bucket, "k", "x-id=PutObject")
    with urllib.request.urlopen(urllib.request.Request(url, data=b"body", method="PUT"), timeout=30) as r:
        assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"body"
