"""ListBuckets pagination (S3, 2024) through boto3, its paginator, the aws CLI and raw HTTP:
MaxBuckets, ContinuationToken, Prefix, BucketRegion, and S3's InvalidArgument answers."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error
import s3helpers as h

US = ["lbp-a", "lbp-b", "lbp-c", "zz-other"]
EU = ["lbp-eu"]
ALL = sorted(US + EU)


@pytest.fixture(scope="module")
def srv(server_factory):
    """A server of its own, so the bucket set is exactly US + EU."""
    s = server_factory.start(memory=True)
    c = s.client()
    for n in US:
        c.create_bucket(Bucket=n)
    for n in EU:
        c.create_bucket(Bucket=n, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return s


@pytest.fixture(scope="module")
def c(srv):
    return srv.client()


def names(resp):
    return [b["Name"] for b in resp["Buckets"]]


def test_unpaginated_lists_everything_with_regions(c):
    r = c.list_buckets()
    assert names(r) == ALL
    assert "ContinuationToken" not in r and "Prefix" not in r
    regions = {b["Name"]: b["BucketRegion"] for b in r["Buckets"]}
    assert regions["lbp-eu"] == "eu-west-1" and regions["lbp-a"] == "us-east-1"


def test_pages_by_hand(c):
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxBuckets": 2}
        if token:
            kw["ContinuationToken"] = token
        r = c.list_buckets(**kw)
        pages += 1
        assert len(r["Buckets"]) <= 2
        seen += names(r)
        token = r.get("ContinuationToken")
        if not token:
            break
    assert (pages, seen) == (3, ALL)


def test_prefix_and_region_filters(c):
    r = c.list_buckets(Prefix="lbp-", MaxBuckets=1)
    assert names(r) == ["lbp-a"] and r["Prefix"] == "lbp-"
    r = c.list_buckets(Prefix="lbp-", ContinuationToken=r["ContinuationToken"])
    assert names(r) == ["lbp-b", "lbp-c", "lbp-eu"] and "ContinuationToken" not in r
    r = c.list_buckets(BucketRegion="eu-west-1")
    assert names(r) == ["lbp-eu"]
    assert c.list_buckets(BucketRegion="us-west-2")["Buckets"] == []
    assert c.list_buckets(Prefix="nothing-")["Buckets"] == []


def test_boto3_paginator(c):
    pages = list(c.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert [n for p in pages for n in names(p)] == ALL
    pages = c.get_paginator("list_buckets").paginate(Prefix="lbp-", PaginationConfig={"PageSize": 1})
    assert names(pages.build_full_result()) == ["lbp-a", "lbp-b", "lbp-c", "lbp-eu"]


def cli_json(aws_cli, srv, *args):
    r = aws_cli("s3api", "list-buckets", *args, srv=srv)
    assert r.rc == 0, r
    return json.loads(r.stdout)


def test_aws_cli_pages(aws_cli, srv):
    # --page-size is the CLI's name for MaxBuckets: it follows ContinuationToken to the end.
    out = cli_json(aws_cli, srv, "--page-size", "1", "--prefix", "lbp-")
    assert [b["Name"] for b in out["Buckets"]] == ["lbp-a", "lbp-b", "lbp-c", "lbp-eu"]
    assert out["Prefix"] == "lbp-" and "ContinuationToken" not in out
    assert {b["BucketRegion"] for b in out["Buckets"]} == {"us-east-1", "eu-west-1"}
    # --max-buckets (the API parameter itself) turns the CLI's pagination off: one page of one,
    # with the token that continues it.
    out = cli_json(aws_cli, srv, "--max-buckets", "1", "--prefix", "lbp-")
    assert [b["Name"] for b in out["Buckets"]] == ["lbp-a"] and out["Prefix"] == "lbp-"
    out = cli_json(aws_cli, srv, "--max-buckets", "1", "--prefix", "lbp-",
                   "--continuation-token", out["ContinuationToken"])
    assert [b["Name"] for b in out["Buckets"]] == ["lbp-b"]
    # --max-items stops early with the CLI's NextToken; --starting-token resumes.
    out = cli_json(aws_cli, srv, "--max-items", "2", "--page-size", "1")
    assert [b["Name"] for b in out["Buckets"]] == ALL[:2]
    out = cli_json(aws_cli, srv, "--starting-token", out["NextToken"], "--page-size", "1")
    assert [b["Name"] for b in out["Buckets"]] == ALL[2:]
    out = cli_json(aws_cli, srv, "--bucket-region", "eu-west-1")
    assert [b["Name"] for b in out["Buckets"]] == ["lbp-eu"]


@pytest.mark.parametrize("query,name,value,message", [
    ("max-buckets=0", "max-buckets", "0",
     "Argument max-buckets must be an integer between 1 and 10000."),
    ("max-buckets=10001", "max-buckets", "10001",
     "Argument max-buckets must be an integer between 1 and 10000."),
    ("max-buckets=x1", "max-buckets", "x1",
     "Provided max-buckets not an integer or within integer range"),
    ("max-buckets=99999999999", "max-buckets", "99999999999",
     "Provided max-buckets not an integer or within integer range"),
    ("continuation-token=%21%21", "continuation-token", "!!",
     "The continuation token provided is incorrect"),
])
def test_invalid_inputs_raw(srv, c, query, name, value, message):
    resp = h.signed("GET", f"{srv.ip_url}/?{query}")
    err = h.assert_s3_error(resp, 400, "InvalidArgument")
    assert (err["Message"], err["ArgumentName"], err["ArgumentValue"]) == (message, name, value)
    assert names(c.list_buckets()) == ALL, "nothing changed"


def test_invalid_inputs_boto3(srv, c, aws_cli):
    unchecked = srv.client(parameter_validation=False)
    with pytest.raises(ClientError) as ei:
        unchecked.list_buckets(MaxBuckets=0)
    err = assert_client_error(ei, "InvalidArgument", 400)
    assert err["Error"]["Message"] == "Argument max-buckets must be an integer between 1 and 10000."
    with pytest.raises(ClientError) as ei:
        c.list_buckets(ContinuationToken="not/base64url")
    assert_client_error(ei, "InvalidArgument", 400)
    r = aws_cli("s3api", "list-buckets", "--max-buckets", "10001", srv=srv)
    assert r.rc != 0 and "InvalidArgument" in r.stderr, r
    assert names(c.list_buckets()) == ALL, "nothing changed"
