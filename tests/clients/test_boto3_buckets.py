"""Bucket operations through boto3: create/head/list/delete/location, accounts, probes."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name
import s3helpers as h


# ---------------------------------------------------------------- naming rules

def _u(n: int) -> str:
    return uuid.uuid4().hex[:n]


# Rules from https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
INVALID_NAMES = {
    "too-short": "ab",
    "too-long": "a" * 64,
    "uppercase": "Upper" + _u(6),
    "underscore": "under_" + _u(6),
    "leading-hyphen": "-lead" + _u(6),             # must begin with a letter or digit
    "trailing-hyphen": "trail" + _u(6) + "-",      # must end with a letter or digit
    "leading-dot": ".dot" + _u(6),
    "adjacent-dots": "a.." + _u(6),
    "ip-address": "192.168.5.4",
    "prefix-xn--": "xn--" + _u(6),
    "prefix-sthree-": "sthree-" + _u(6),
    "suffix-s3alias": _u(6) + "-s3alias",
    "suffix--ol-s3": _u(6) + "--ol-s3",
}


@pytest.mark.parametrize("name", list(INVALID_NAMES.values()), ids=list(INVALID_NAMES))
def test_create_bucket_invalid_name(s3, name):
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name)
    assert_client_error(ei, "InvalidBucketName", 400)


@pytest.mark.parametrize("name", [
    "abc",                              # 3 characters is the minimum
    "a" + _u(30) + "b" * 32,            # 63 characters is the maximum
    "dots." + _u(8) + ".ok",            # periods allowed
    "9digit-" + _u(8),                  # may start with a digit
], ids=["3-chars", "63-chars", "periods", "leading-digit"])
def test_create_bucket_valid_edge_names(s3, cleanup_buckets, name):
    if name == "abc":
        name = "a" + _u(1) + "c"   # keep 3 chars but unique per run
    assert len(name) <= 63
    s3.create_bucket(Bucket=name)
    cleanup_buckets.append((s3, name))
    s3.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_bucket_basic_and_head(s3, cleanup_buckets, bucket_name):
    r = s3.create_bucket(Bucket=bucket_name)
    cleanup_buckets.append((s3, bucket_name))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    # S3 answers CreateBucket with Location: /bucket
    assert r.get("Location") == f"/{bucket_name}"
    hb = s3.head_bucket(Bucket=bucket_name)
    assert hb["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert hb["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") == "us-east-1"
    assert hb.get("BucketRegion") == "us-east-1"


def test_create_bucket_acl_private_accepted(s3, cleanup_buckets, bucket_name):
    s3.create_bucket(Bucket=bucket_name, ACL="private")
    cleanup_buckets.append((s3, bucket_name))
    s3.head_bucket(Bucket=bucket_name)


def test_recreate_own_bucket_us_east_1_is_200(s3, bucket):
    # "For legacy compatibility, if you re-create an existing bucket that you already own in
    # the North Virginia Region, Amazon S3 returns 200 OK" (S3 API reference,
    # BucketAlreadyOwnedByYou).
    r = s3.create_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_recreate_own_bucket_eu_west_1_location(s3, cleanup_buckets, bucket_name):
    cfg = {"LocationConstraint": "eu-west-1"}
    s3.create_bucket(Bucket=bucket_name, CreateBucketConfiguration=cfg)
    cleanup_buckets.append((s3, bucket_name))
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=bucket_name, CreateBucketConfiguration=cfg)
    err = assert_client_error(ei, "BucketAlreadyOwnedByYou", 409)
    assert err["Error"].get("BucketName") == bucket_name


def test_bucket_already_exists_other_account(s3, alice, bucket):
    with pytest.raises(ClientError) as ei:
        alice.create_bucket(Bucket=bucket)
    assert_client_error(ei, "BucketAlreadyExists", 409)
    # and the bucket still belongs to its creator
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket not in [b["Name"] for b in alice.list_buckets()["Buckets"]]


def test_create_bucket_trailing_slash_raw(server, s3, cleanup_buckets, bucket_name):
    # s3cmd creates buckets with "PUT /bucket/" (issue 3).
    url = f"{server.url}/{bucket_name}/"
    r = h.signed("PUT", url)
    cleanup_buckets.append((s3, bucket_name))
    assert r.status == 200, r.data
    h.assert_request_ids(r)
    s3.head_bucket(Bucket=bucket_name)


# ---------------------------------------------------------------- location, region

def test_get_bucket_location_default_is_empty(s3, bucket):
    r = s3.get_bucket_location(Bucket=bucket)
    # us-east-1 buckets answer an empty <LocationConstraint/>, which boto3 parses as None.
    assert r.get("LocationConstraint") in (None, "")


def test_get_bucket_location_eu_west_1(s3, cleanup_buckets, bucket_name):
    s3.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cleanup_buckets.append((s3, bucket_name))
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == "eu-west-1"
    hb = s3.head_bucket(Bucket=bucket_name)
    assert hb["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") == "eu-west-1"


def test_get_bucket_location_raw_xml(server, bucket):
    r = h.signed("GET", h.url_for(server.url, bucket, params={"location": ""}))
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "LocationConstraint"
    assert (root.text or "") == ""


@pytest.fixture(scope="module")
def eu_server(server_factory):
    return server_factory.start("--region", "eu-west-1")


def test_region_server_bucket_already_owned_by_you(eu_server):
    c = eu_server.client(region="eu-west-1")
    name = unique_bucket_name()
    cfg = {"LocationConstraint": "eu-west-1"}
    c.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
    try:
        with pytest.raises(ClientError) as ei:
            c.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
        assert_client_error(ei, "BucketAlreadyOwnedByYou", 409)
        assert c.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        hb = c.head_bucket(Bucket=name)
        assert hb["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") == "eu-west-1"
    finally:
        empty_and_delete(c, name)


# ---------------------------------------------------------------- head / list / delete

def test_head_bucket_missing_404(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=bucket_name)
    assert_client_error(ei, None, 404)


def test_no_such_bucket_has_bucket_name(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=bucket_name)
    err = assert_client_error(ei, "NoSuchBucket", 404)
    assert err["Error"].get("BucketName") == bucket_name


@pytest.mark.parametrize("op", ["get_object", "put_object", "delete_object", "delete_bucket",
                                "get_bucket_location", "list_objects", "list_object_versions",
                                "get_bucket_acl", "copy_object", "delete_objects"])
def test_no_such_bucket_every_operation(s3, bucket, bucket_name, op):
    kwargs = {
        "get_object": dict(Bucket=bucket_name, Key="k"),
        "put_object": dict(Bucket=bucket_name, Key="k", Body=b"x"),
        "delete_object": dict(Bucket=bucket_name, Key="k"),
        "delete_bucket": dict(Bucket=bucket_name),
        "get_bucket_location": dict(Bucket=bucket_name),
        "list_objects": dict(Bucket=bucket_name),
        "list_object_versions": dict(Bucket=bucket_name),
        "get_bucket_acl": dict(Bucket=bucket_name),
        # destination bucket missing, source exists
        "copy_object": dict(Bucket=bucket_name, Key="k", CopySource={"Bucket": bucket, "Key": "src"}),
        "delete_objects": dict(Bucket=bucket_name, Delete={"Objects": [{"Key": "k"}]}),
    }[op]
    if op == "copy_object":
        s3.put_object(Bucket=bucket, Key="src", Body=b"src")
    with pytest.raises(ClientError) as ei:
        getattr(s3, op)(**kwargs)
    err = assert_client_error(ei, "NoSuchBucket", 404)
    assert err["Error"].get("BucketName") == bucket_name


def test_list_buckets_only_own(s3, alice, bucket, cleanup_buckets):
    alice_bucket = unique_bucket_name("alice")
    alice.create_bucket(Bucket=alice_bucket)
    cleanup_buckets.append((alice, alice_bucket))
    mine = s3.list_buckets()
    theirs = alice.list_buckets()
    mine_names = [b["Name"] for b in mine["Buckets"]]
    their_names = [b["Name"] for b in theirs["Buckets"]]
    assert bucket in mine_names and alice_bucket not in mine_names
    assert alice_bucket in their_names and bucket not in their_names
    assert mine_names == sorted(mine_names), "ListBuckets is sorted by name"
    for b in mine["Buckets"]:
        assert b.get("CreationDate") is not None
    assert mine["Owner"]["ID"] and theirs["Owner"]["ID"]
    assert mine["Owner"]["ID"] != theirs["Owner"]["ID"]


def test_delete_bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    r = s3.delete_bucket(Bucket=bucket_name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=bucket_name)
    assert_client_error(ei, None, 404)
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # the name is free again
    s3.create_bucket(Bucket=bucket_name)
    s3.delete_bucket(Bucket=bucket_name)


def test_delete_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    err = assert_client_error(ei, "BucketNotEmpty", 409)
    assert err["Error"].get("BucketName") == bucket
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


# ---------------------------------------------------------------- accounts

def test_other_account_access_denied_bucket_ops(s3, alice, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    for call in (
        lambda: alice.list_objects_v2(Bucket=bucket),
        lambda: alice.list_objects(Bucket=bucket),
        lambda: alice.get_bucket_location(Bucket=bucket),
        lambda: alice.get_bucket_acl(Bucket=bucket),
        lambda: alice.delete_bucket(Bucket=bucket),
        lambda: alice.list_object_versions(Bucket=bucket),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        alice.head_bucket(Bucket=bucket)
    assert_client_error(ei, None, 403)
    s3.head_bucket(Bucket=bucket)


def test_other_account_access_denied_object_ops(s3, alice, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    for call in (
        lambda: alice.get_object(Bucket=bucket, Key="secret"),
        lambda: alice.put_object(Bucket=bucket, Key="secret", Body=b"overwrite"),
        lambda: alice.put_object(Bucket=bucket, Key="new", Body=b"n"),
        lambda: alice.delete_object(Bucket=bucket, Key="secret"),
        lambda: alice.get_object_acl(Bucket=bucket, Key="secret"),
        lambda: alice.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "secret"}),
        lambda: alice.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "secret"}]}),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        alice.head_object(Bucket=bucket, Key="secret")
    assert_client_error(ei, None, 403)
    # nothing changed
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"s"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["secret"]


def test_copy_from_other_accounts_bucket_denied(s3, alice, bucket, cleanup_buckets):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    ab = unique_bucket_name("alice")
    alice.create_bucket(Bucket=ab)
    cleanup_buckets.append((alice, ab))
    with pytest.raises(ClientError) as ei:
        alice.copy_object(Bucket=ab, Key="stolen", CopySource={"Bucket": bucket, "Key": "secret"})
    assert_client_error(ei, "AccessDenied", 403)


def test_expected_bucket_owner(s3, alice, bucket, cleanup_buckets):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    wrong = ALICE[2]
    for call in (
        lambda o: s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=o),
        lambda o: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=o),
        lambda o: s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ExpectedBucketOwner=o),
        lambda o: s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=o),
        lambda o: s3.delete_object(Bucket=bucket, Key="k", ExpectedBucketOwner=o),
        lambda o: s3.copy_object(Bucket=bucket, Key="k3", CopySource={"Bucket": bucket, "Key": "k"},
                                 ExpectedBucketOwner=o),
        lambda o: s3.get_bucket_acl(Bucket=bucket, ExpectedBucketOwner=o),
    ):
        with pytest.raises(ClientError) as ei:
            call(wrong)
        assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=wrong)
    assert_client_error(ei, None, 403)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="k", ExpectedBucketOwner=wrong)
    assert_client_error(ei, None, 403)
    # nothing was written or deleted by the rejected calls
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["k"]

    # matching owner succeeds
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=DEFAULT_ACCOUNT)
    s3.head_object(Bucket=bucket, Key="k", ExpectedBucketOwner=DEFAULT_ACCOUNT)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=DEFAULT_ACCOUNT)["Body"].read() == b"v"
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ExpectedBucketOwner=DEFAULT_ACCOUNT)
    s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=DEFAULT_ACCOUNT)

    # alice's own bucket with alice's account id
    ab = unique_bucket_name("alice")
    alice.create_bucket(Bucket=ab)
    cleanup_buckets.append((alice, ab))
    alice.put_object(Bucket=ab, Key="a", Body=b"a", ExpectedBucketOwner=ALICE[2])
    alice.head_bucket(Bucket=ab, ExpectedBucketOwner=ALICE[2])
    with pytest.raises(ClientError) as ei:
        alice.get_object(Bucket=ab, Key="a", ExpectedBucketOwner=DEFAULT_ACCOUNT)
    assert_client_error(ei, "AccessDenied", 403)


# ---------------------------------------------------------------- ACLs

def test_get_bucket_acl_owner_full_control(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    owner = acl["Owner"]["ID"]
    assert owner
    assert len(acl["Grants"]) == 1
    g = acl["Grants"][0]
    assert g["Permission"] == "FULL_CONTROL"
    assert g["Grantee"]["Type"] == "CanonicalUser"
    assert g["Grantee"]["ID"] == owner
    # the same canonical id everywhere
    assert s3.list_buckets()["Owner"]["ID"] == owner


def test_get_object_acl_owner_full_control(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ACL="private")
    acl = s3.get_object_acl(Bucket=bucket, Key="o")
    owner = acl["Owner"]["ID"]
    assert [(g["Grantee"]["Type"], g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]] == [
        ("CanonicalUser", owner, "FULL_CONTROL")
    ]
    with pytest.raises(ClientError) as ei:
        s3.get_object_acl(Bucket=bucket, Key="missing")
    assert_client_error(ei, "NoSuchKey", 404)


# ---------------------------------------------------------------- sub-resource probes

@pytest.mark.parametrize("op,code", [
    ("get_bucket_cors", "NoSuchCORSConfiguration"),
    ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
    ("get_bucket_policy", "NoSuchBucketPolicy"),
    ("get_bucket_ownership_controls", "OwnershipControlsNotFoundError"),
    ("get_public_access_block", "NoSuchPublicAccessBlockConfiguration"),
])
def test_subresource_never_set(s3, bucket, op, code):
    with pytest.raises(ClientError) as ei:
        getattr(s3, op)(Bucket=bucket)
    err = assert_client_error(ei, code, 404)
    assert err["Error"].get("BucketName") == bucket


def test_subresource_probes_on_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_cors(Bucket=bucket_name)
    assert_client_error(ei, "NoSuchBucket", 404)


def test_get_bucket_request_payment(s3, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"


def test_get_bucket_versioning_never_set(s3, bucket):
    r = s3.get_bucket_versioning(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in r
    assert "MFADelete" not in r


def test_get_bucket_versioning_raw_xml(server, bucket):
    r = h.signed("GET", h.url_for(server.url, bucket, params={"versioning": ""}))
    assert r.status == 200
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "VersioningConfiguration"
    assert list(root) == []


@pytest.mark.parametrize("op,kwargs", [
    ("put_bucket_cors", {"CORSConfiguration": {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}}),
    ("put_bucket_policy", {"Policy": '{"Version":"2012-10-17","Statement":[]}'}),
    ("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": {"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}}),
])
def test_subresource_writes_not_implemented(s3, bucket, op, kwargs):
    with pytest.raises(ClientError) as ei:
        getattr(s3, op)(Bucket=bucket, **kwargs)
    assert_client_error(ei, "NotImplemented", 501)


def test_unimplemented_operation_501(s3, bucket):
    # issue 3: any S3 operation that is not implemented answers 501 NotImplemented in S3 XML.
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert_client_error(ei, "NotImplemented", 501)
