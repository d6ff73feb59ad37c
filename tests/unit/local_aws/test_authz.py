"""What AWS authorizes per operation (scripts/local_aws/authz.py), checked against the IAM
action catalogue: every operation of operations.yml maps to catalogued actions, resource
types and ARNs of the catalogued format, from parameters that botocore itself serialised and
protocol.py parsed back; the resource-scoped ones are spot-checked to the exact ARN."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.serialize import create_serializer

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from local_aws import authz, protocol  # noqa: E402
from local_aws.policy import Caller  # noqa: E402

ACCOUNT = "111122223333"
REGION = "us-west-2"
ROLE = "arn:aws:iam::%s:role/honeyhive-deployment-test-us-west-2" % ACCOUNT
CALLER = Caller(kind="assumed-role", account=ACCOUNT, arn="arn:aws:sts::%s:assumed-role/%s/run" % (
    ACCOUNT, ROLE.rsplit("/", 1)[-1]), role_arn=ROLE, session_name="run")
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = "arn:aws:kms:%s:%s:key/%s" % (REGION, ACCOUNT, KEY_ID)
KEY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "kms:*", "Resource": "*"}]})
SESSION = botocore.session.get_session()


class FakeState(authz.State):
    """The emulator state the rules read, fixed."""

    def tags(self, arn):
        return {"Name": "sample"}

    def role(self, account, name):
        return {"arn": "arn:aws:iam::%s:role/%s" % (account, name), "tags": {},
                "boundary": "arn:aws:iam::%s:policy/honeyhive-boundary" % account, "trust": "{}", "max_session": 3600}

    def kms_key(self, account, region, ref):
        return {"arn": KEY_ARN, "policy": KEY_POLICY, "tags": {}}

    def secret(self, account, region, ref):
        return {"arn": "arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf" % (region, account, ref.split(":")[-1]),
                "kms_key_id": KEY_ARN}

    def lookup(self, kind, account, region, ref):
        return {"route-table-of-association": "rtb-0assoc"}.get(kind)


def roundtrip(service, operation, params):
    """``params`` as botocore serialises them for ``operation``, parsed back by protocol.py."""
    model = SESSION.get_service_model(service)
    op = model.operation_model(operation)
    serializer = create_serializer(model.metadata["protocol"] if model.metadata["protocol"] != "smithy-rpc-v2-cbor"
                                   else "smithy-rpc-v2-cbor", include_validation=True)
    request = serializer.serialize_to_request(params, op)
    body = request["body"]
    headers = dict(request["headers"])
    if isinstance(body, dict):
        body = urlencode(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    elif isinstance(body, str):
        body = body.encode()
    query = request["query_string"]
    query = urlencode(query, doseq=True) if isinstance(query, dict) else (query or "")
    path = request["url_path"].partition("?")[0]
    extra = request["url_path"].partition("?")[2]
    query = "&".join(q for q in (extra, query) if q)
    return protocol.parse_request(service, operation, request["method"], path, query, headers, body or b"",
                                  headers.get("Content-Type", ""))


def checks_of(service, operation, params, state=None):
    return authz.checks(service, operation, roundtrip(service, operation, params), REGION, CALLER,
                        state or FakeState())


def simple(checks):
    return [(c.action, c.resource) for c in checks]


# -- sample parameters: every required member, by name ------------------------------------------

SAMPLES = {
    "RoleName": "honeyhive-node", "PolicyName": "honeyhive-read", "InstanceProfileName": "honeyhive-node",
    "PolicyArn": "arn:aws:iam::%s:policy/honeyhive-read" % ACCOUNT,
    "PermissionsBoundary": "arn:aws:iam::%s:policy/honeyhive-boundary" % ACCOUNT,
    "OpenIDConnectProviderArn": "arn:aws:iam::%s:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC" % ACCOUNT,
    "Url": "https://token.actions.githubusercontent.com", "AWSServiceName": "eks.amazonaws.com",
    "RoleArn": "arn:aws:iam::%s:role/honeyhive-target" % ACCOUNT, "RoleSessionName": "run",
    "AssumeRolePolicyDocument": "{}", "PolicyDocument": "{}", "VersionId": "v1", "ClientID": "sts.amazonaws.com",
    "ThumbprintList": ["a" * 40], "TagKeys": ["Name"], "GroupName": "honeyhive-ops",
    "UserName": "ci",
    "KeyId": KEY_ID, "TargetKeyId": KEY_ID, "AliasName": "alias/honeyhive-platform", "Policy": "{}",
    "GranteePrincipal": ROLE, "Operations": ["Decrypt"], "GrantId": "g", "CiphertextBlob": b"x", "Plaintext": b"x",
    "VpcId": "vpc-0a", "SubnetId": "subnet-0b", "GroupId": "sg-0c", "RouteTableId": "rtb-0d",
    "InternetGatewayId": "igw-0e", "AllocationId": "eipalloc-0f", "NatGatewayId": "nat-01",
    "VpcEndpointId": "vpce-02", "VpcEndpointIds": ["vpce-02"], "FlowLogIds": ["fl-03"], "ResourceIds": ["vpc-0a"],
    "ResourceType": "VPC", "AssociationId": "rtbassoc-04", "CidrBlock": "10.0.0.0/24", "Description": "d",
    "ServiceName": "com.amazonaws.us-west-2.s3", "Resources": ["vpc-0a", "subnet-0b"],
    "DestinationCidrBlock": "0.0.0.0/0",
    "Attribute": "description", "SecurityGroupRules": [{"SecurityGroupRuleId": "sgr-1"}],
    "name": "honeyhive-eks", "clusterName": "honeyhive-eks", "nodegroupName": "system", "addonName": "vpc-cni",
    "associationId": "a-1", "principalArn": ROLE,
    "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
    "accessScope": {"type": "cluster"}, "roleArn": "arn:aws:iam::%s:role/honeyhive-eks" % ACCOUNT,
    "nodeRole": "arn:aws:iam::%s:role/honeyhive-node" % ACCOUNT, "subnets": ["subnet-0b"],
    "resourcesVpcConfig": {"subnetIds": ["subnet-0b"]}, "namespace": "kube-system", "serviceAccount": "sa",
    "updateId": "u-1", "version": "1.31", "resourceArn": "arn:aws:eks:us-west-2:%s:cluster/honeyhive-eks" % ACCOUNT,
    "tagKeys": ["Name"],
    "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}],
    "logGroupName": "/aws/eks/honeyhive-eks/cluster", "retentionInDays": 30, "logGroupIdentifier": "/aws/x",
    "Name": "honeyhive-rule", "Rule": "honeyhive-rule",
    "Targets": [{"Id": "1", "Arn": "arn:aws:sqs:us-west-2:1:q",
                 "RoleArn": "arn:aws:iam::%s:role/honeyhive-events" % ACCOUNT}],
    "Ids": ["1"], "ResourceARN": "arn:aws:events:us-west-2:%s:rule/honeyhive-rule" % ACCOUNT,
    "QueueName": "honeyhive-interruptions", "QueueUrl": "http://127.0.0.1:1/%s/honeyhive-interruptions" % ACCOUNT,
    "Attributes": {"MessageRetentionPeriod": "300"}, "AttributeNames": ["All"], "MessageBody": "m",
    "ReceiptHandle": "r",
    "HostedZoneId": "/hostedzone/Z0123", "Id": "/hostedzone/Z0123", "CallerReference": "c",
    "ChangeBatch": {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "a.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "1.1.1.1"}]}}]},
    "ResourceId": "Z0123", "ResourceIds_route53": ["Z0123"],
    "CertificateArn": "arn:aws:acm:us-west-2:%s:certificate/c-1" % ACCOUNT, "DomainName": "x.example.com",
    "cluster": "honeyhive", "service": "collector", "services": ["collector"], "serviceName": "collector",
    "taskDefinition": "honeyhive-collector:3", "family": "honeyhive-collector",
    "containerDefinitions": [{"name": "c", "image": "i"}],
    "taskRoleArn": "arn:aws:iam::%s:role/honeyhive-task" % ACCOUNT,
    "executionRoleArn": "arn:aws:iam::%s:role/honeyhive-exec" % ACCOUNT,
    "SecretId": "honeyhive/test/us-west-2/twingate", "SecretString": "s",
    "Bucket": "honeyhive-logs", "Key": "k", "Body": b"x",
    "ServerSideEncryptionConfiguration": {"Rules": []}, "LifecycleConfiguration": {"Rules": []},
    "BucketLoggingStatus": {}, "VersioningConfiguration": {"Status": "Enabled"},
    "PublicAccessBlockConfiguration": {}, "Tagging": {"TagSet": []}, "OwnershipControls": {"Rules": []},
    "DBInstanceIdentifier": "honeyhive-pg", "DBInstanceClass": "db.t4g.small", "Engine": "postgres",
    "DBParameterGroupName": "honeyhive-pg16", "DBParameterGroupFamily": "postgres16", "Parameters": [],
    "OptionGroupName": "honeyhive-og", "EngineName": "postgres", "MajorEngineVersion": "16",
    "OptionGroupDescription": "d", "DBSubnetGroupName": "honeyhive-db", "DBSubnetGroupDescription": "d",
    "SubnetIds": ["subnet-0b"], "DBClusterIdentifier": "honeyhive-docdb",
    "DBClusterParameterGroupName": "honeyhive-docdb",
    "ResourceName": "arn:aws:rds:us-west-2:%s:db:honeyhive-pg" % ACCOUNT,
    "ReplicationGroupId": "honeyhive-redis", "ReplicationGroupDescription": "d",
    "CacheParameterGroupName": "honeyhive-redis7", "CacheParameterGroupFamily": "redis7",
    "ParameterNameValues": [], "CacheSubnetGroupName": "honeyhive-redis", "CacheSubnetGroupDescription": "d",
    "AlarmName": "honeyhive-5xx", "AlarmNames": ["honeyhive-5xx"], "EvaluationPeriods": 1,
    "ComparisonOperator": "GreaterThanThreshold",
    "TopicArn": "arn:aws:sns:us-west-2:%s:honeyhive-alerts" % ACCOUNT, "Protocol": "email",
    "SubscriptionArn": "arn:aws:sns:us-west-2:%s:honeyhive-alerts:s" % ACCOUNT, "AttributeName": "DisplayName",
    "S3BucketName": "honeyhive-trail", "ResourceIdList": ["x"],
    "Enable": True, "DetectorId": "d-1",
    "Scope": "REGIONAL", "DefaultAction": {"Allow": {}}, "VisibilityConfig": {
        "SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"},
    "LockToken": "t", "WebACLArn": "arn:aws:wafv2:us-west-2:%s:regional/webacl/honeyhive/w-1" % ACCOUNT,
}
ALB = "arn:aws:elasticloadbalancing:us-west-2:%s:loadbalancer/app/hh/1" % ACCOUNT
SAMPLES_BY_OPERATION = {
    ("route53", "ListTagsForResources"): {"ResourceIds": ["Z0123"]},
    ("route53", "GetChange"): {"Id": "/change/C1"},
    ("wafv2", "AssociateWebACL"): {"ResourceArn": ALB},
    ("wafv2", "DisassociateWebACL"): {"ResourceArn": ALB},
    ("wafv2", "GetWebACLForResource"): {"ResourceArn": ALB},
    ("wafv2", "ListTagsForResource"): {
        "ResourceARN": "arn:aws:wafv2:us-west-2:%s:regional/webacl/honeyhive/w-1" % ACCOUNT},
    ("wafv2", "CreateWebACL"): {"Name": "honeyhive"},
    ("wafv2", "GetWebACL"): {"Name": "honeyhive", "Id": "w-1"},
    ("wafv2", "UpdateWebACL"): {"Name": "honeyhive", "Id": "w-1"},
    ("wafv2", "DeleteWebACL"): {"Name": "honeyhive", "Id": "w-1"},
    ("cloudtrail", "CreateTrail"): {"Name": "honeyhive"},
    ("sns", "CreateTopic"): {"Name": "honeyhive-alerts"},
    ("logs", "TagResource"): {"resourceArn": "arn:aws:logs:us-west-2:%s:log-group:/aws/x" % ACCOUNT},
    ("logs", "UntagResource"): {"resourceArn": "arn:aws:logs:us-west-2:%s:log-group:/aws/x" % ACCOUNT},
    ("logs", "ListTagsForResource"): {"resourceArn": "arn:aws:logs:us-west-2:%s:log-group:/aws/x" % ACCOUNT},
    ("ecs", "TagResource"): {"resourceArn": "arn:aws:ecs:us-west-2:%s:cluster/honeyhive" % ACCOUNT},
    ("ecs", "UntagResource"): {"resourceArn": "arn:aws:ecs:us-west-2:%s:cluster/honeyhive" % ACCOUNT},
    ("ecs", "ListTagsForResource"): {"resourceArn": "arn:aws:ecs:us-west-2:%s:cluster/honeyhive" % ACCOUNT},
    ("rds", "ListTagsForResource"): {"ResourceName": "arn:aws:rds:us-west-2:%s:db:honeyhive-pg" % ACCOUNT},
    ("docdb", "ListTagsForResource"): {"ResourceName": "arn:aws:rds:us-west-2:%s:cluster:honeyhive-docdb" % ACCOUNT},
    ("elasticache", "ListTagsForResource"): {
        "ResourceName": "arn:aws:elasticache:us-west-2:%s:replicationgroup:honeyhive-redis" % ACCOUNT},
    ("elasticache", "AddTagsToResource"): {
        "ResourceName": "arn:aws:elasticache:us-west-2:%s:replicationgroup:honeyhive-redis" % ACCOUNT},
    ("elasticache", "RemoveTagsFromResource"): {
        "ResourceName": "arn:aws:elasticache:us-west-2:%s:replicationgroup:honeyhive-redis" % ACCOUNT},
    ("cloudwatch", "ListTagsForResource"): {
        "ResourceARN": "arn:aws:cloudwatch:us-west-2:%s:alarm:honeyhive-5xx" % ACCOUNT},
    ("sns", "ListTagsForResource"): {"ResourceArn": "arn:aws:sns:us-west-2:%s:honeyhive-alerts" % ACCOUNT},
    ("backup", "ListTags"): {"ResourceArn": "arn:aws:backup:us-west-2:%s:backup-vault:honeyhive-backups" % ACCOUNT},
    ("backup", "TagResource"): {"ResourceArn": "arn:aws:backup:us-west-2:%s:backup-plan:p-1" % ACCOUNT},
    ("backup", "UntagResource"): {"ResourceArn": "arn:aws:backup:us-west-2:%s:backup-plan:p-1" % ACCOUNT},
}


def _sample(shape, name, depth=0):
    if name in SAMPLES:
        return SAMPLES[name]
    kind = shape.type_name
    if kind == "structure":
        return {m: _sample(s, m, depth + 1) for m, s in shape.members.items() if m in shape.required_members}
    if kind == "list":
        return [_sample(shape.member, name, depth + 1)]
    if kind == "map":
        return {"k": _sample(shape.value, name, depth + 1)}
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return 0
    if shape.enum:
        return shape.enum[0]
    return "sample-value"


# Members that identify what a request addresses even where the model leaves them optional.
IDENTIFYING = ("GroupId", "SubnetId", "VpcId", "ServiceName", "AllocationId")


def sample_params(service, operation):
    op = SESSION.get_service_model(service).operation_model(operation)
    params = {}
    overrides = SAMPLES_BY_OPERATION.get((service, operation), {})
    if op.input_shape is not None:
        for member, shape in op.input_shape.members.items():
            if member in overrides:
                params[member] = overrides[member]
            elif member in op.input_shape.required_members or member in IDENTIFYING:
                params[member] = _sample(shape, member)
    return params


def all_operations():
    data = authz.operations()
    out = []
    for phase, services in data.items():
        for service, names in services.items():
            for name in names:
                out.append((phase, service, name))
    return out


OPERATIONS = all_operations()


def _template_regex(template):
    parts = re.split(r"(\$\{[^}]*\})", template)
    return re.compile("^" + "".join(".+" if p.startswith("${") else re.escape(p) for p in parts) + "$")


# -- the data file ----------------------------------------------------------------------------


def test_the_data_file_lists_real_operations_once_each():
    assert {phase for phase, _, _ in OPERATIONS} == {"converge_teardown", "modules", "planned"}
    pairs = [(service, name) for _, service, name in OPERATIONS]
    assert len(pairs) == len(set(pairs)), "an operation is listed twice"
    for service, name in pairs:
        assert name in SESSION.get_service_model(service).operation_names, (service, name)
    # what a converge and a teardown call is there (a sample of the request log)
    assert {("iam", "PutRolePolicy"), ("sts", "AssumeRole"), ("ec2", "CreateVpc"), ("kms", "CreateKey"),
            ("eks", "CreateCluster"), ("secretsmanager", "CreateSecret"), ("sqs", "CreateQueue")} <= set(pairs)


def test_every_listed_operation_has_a_rule_and_an_unlisted_one_is_refused():
    missing = [(s, o) for _, s, o in OPERATIONS if (s, o) not in authz.rules()]
    assert not missing
    with pytest.raises(authz.NoRule, match="no IAM authorization rule for iam CreateUser"):
        authz.checks("iam", "CreateUser", {"UserName": "x"}, REGION, CALLER, FakeState())


@pytest.mark.parametrize("phase,service,operation", OPERATIONS, ids=["%s.%s" % (s, o) for _, s, o in OPERATIONS])
def test_operation_maps_to_catalogued_actions_resources_and_arns(phase, service, operation):
    params = sample_params(service, operation)
    checks = checks_of(service, operation, params)
    assert checks, "no authorization at all"
    own = "%s:%s" % (authz.iam_prefix(service), operation)
    actions = {c.action for c in checks}
    assert actions - {own} or own in actions or checks[0].implicit == "", actions
    for check in checks:
        privilege = authz.CATALOGUE.privilege(check.action)  # the action is catalogued
        types = authz.CATALOGUE.resource_types(check.action)
        prefix = check.action.partition(":")[0]
        if check.resource == "*":
            # AWS authorizes on "*" only where the action has no required resource type
            required = [t for t, req in types.items() if t and req]
            assert not required, "%s needs a %s ARN, not *" % (check.action, required)
            continue
        assert check.rtype in types, "%s is no resource type of %s (%s)" % (check.rtype, check.action, sorted(types))
        template = authz.CATALOGUE.arn_template(prefix, check.rtype)
        assert _template_regex(template).match(check.resource), (check.resource, template)
        assert ":%s:" % ACCOUNT in check.resource or check.resource.startswith("arn:aws:s3:::") or \
            ":iam::aws:" in check.resource or ":aws:cluster-access-policy" in check.resource or \
            check.resource.startswith("arn:aws:route53:::"), check.resource
        assert privilege["privilege"].lower() == check.action.split(":")[1].lower()


# -- spot checks: the exact ARNs and the exceptions -------------------------------------------------

IAM_ROLE = "arn:aws:iam::%s:role/honeyhive-node" % ACCOUNT


def test_iam_role_calls_address_the_role_with_its_path():
    assert simple(checks_of("iam", "CreateRole", {"RoleName": "honeyhive-node", "Path": "/platform/",
                                                  "AssumeRolePolicyDocument": "{}"})) == [
        ("iam:CreateRole", "arn:aws:iam::%s:role/platform/honeyhive-node" % ACCOUNT)]
    assert simple(checks_of("iam", "PutRolePolicy", {"RoleName": "honeyhive-node", "PolicyName": "p",
                                                     "PolicyDocument": "{}"})) == [("iam:PutRolePolicy", IAM_ROLE)]


def test_iam_permissions_boundary_key_from_the_request_or_the_role():
    created = checks_of("iam", "CreateRole", {"RoleName": "honeyhive-node", "AssumeRolePolicyDocument": "{}",
                                              "PermissionsBoundary": SAMPLES["PermissionsBoundary"]})
    assert created[0].context["iam:PermissionsBoundary"] == SAMPLES["PermissionsBoundary"]
    put = checks_of("iam", "PutRolePolicy", {"RoleName": "honeyhive-node", "PolicyName": "p", "PolicyDocument": "{}"})
    assert put[0].context["iam:PermissionsBoundary"] == "arn:aws:iam::%s:policy/honeyhive-boundary" % ACCOUNT
    attach = checks_of("iam", "AttachRolePolicy", {"RoleName": "honeyhive-node", "PolicyArn": SAMPLES["PolicyArn"]})
    assert attach[0].context["iam:PolicyARN"] == SAMPLES["PolicyArn"]
    # a role without a boundary: the key is absent, and the evaluator knows it is
    no_boundary = FakeState()
    no_boundary.role = lambda account, name: {"arn": IAM_ROLE, "tags": {}, "boundary": "", "trust": "{}",
                                              "max_session": 3600}
    put = checks_of("iam", "PutRolePolicy", {"RoleName": "honeyhive-node", "PolicyName": "p",
                                             "PolicyDocument": "{}"}, no_boundary)
    assert "iam:PermissionsBoundary" not in put[0].context and put[0].resolvable("iam:PermissionsBoundary")


def test_create_with_tags_also_needs_the_tagging_action_where_aws_documents_it():
    checks = checks_of("iam", "CreateRole", {"RoleName": "honeyhive-node", "AssumeRolePolicyDocument": "{}",
                                             "Tags": [{"Key": "team", "Value": "obs"}]})
    # the catalogue lists no dependent action of iam:CreateRole
    assert simple(checks) == [("iam:CreateRole", IAM_ROLE)]
    assert checks[0].context["aws:RequestTag/team"] == "obs" and checks[0].context["aws:TagKeys"] == ["team"]
    key = checks_of("kms", "CreateKey", {"Tags": [{"TagKey": "team", "TagValue": "obs"}]})
    assert simple(key) == [("kms:CreateKey", "*"), ("kms:TagResource", "*")]
    session = checks_of("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "run",
                                              "Tags": [{"Key": "team", "Value": "obs"}]})
    assert simple(session) == [("sts:AssumeRole", ROLE), ("sts:TagSession", ROLE)]
    vpc = checks_of("ec2", "CreateVpc", {"CidrBlock": "10.0.0.0/16", "TagSpecifications": [
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "hh"}]}]})
    assert simple(vpc) == [("ec2:CreateVpc", "arn:aws:ec2:us-west-2:%s:vpc/*" % ACCOUNT),
                           ("ec2:CreateTags", "arn:aws:ec2:us-west-2:%s:vpc/*" % ACCOUNT)]
    assert vpc[1].context["ec2:CreateAction"] == "CreateVpc" and vpc[1].context["aws:RequestTag/Name"] == "hh"


def test_ec2_resources_new_and_existing():
    subnet = checks_of("ec2", "CreateSubnet", {"VpcId": "vpc-0a", "CidrBlock": "10.0.1.0/24"})
    assert simple(subnet) == [("ec2:CreateSubnet", "arn:aws:ec2:us-west-2:%s:subnet/*" % ACCOUNT),
                              ("ec2:CreateSubnet", "arn:aws:ec2:us-west-2:%s:vpc/vpc-0a" % ACCOUNT)]
    assert simple(checks_of("ec2", "DescribeVpcs", {})) == [("ec2:DescribeVpcs", "*")]
    tags = checks_of("ec2", "CreateTags", {"Resources": ["sg-0c", "rtb-0d"], "Tags": [{"Key": "a", "Value": "b"}]})
    assert simple(tags) == [("ec2:CreateTags", "arn:aws:ec2:us-west-2:%s:security-group/sg-0c" % ACCOUNT),
                            ("ec2:CreateTags", "arn:aws:ec2:us-west-2:%s:route-table/rtb-0d" % ACCOUNT)]
    disassociate = checks_of("ec2", "DisassociateRouteTable", {"AssociationId": "rtbassoc-04"})
    assert simple(disassociate) == [("ec2:DisassociateRouteTable",
                                     "arn:aws:ec2:us-west-2:%s:route-table/rtb-0assoc" % ACCOUNT)]


def test_pass_role_with_the_receiving_service():
    flow = checks_of("ec2", "CreateFlowLogs", {"ResourceIds": ["vpc-0a"], "ResourceType": "VPC",
                                               "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
                                               "LogGroupName": "/vpc", "DeliverLogsPermissionArn": IAM_ROLE})
    assert ("iam:PassRole", IAM_ROLE) in simple(flow)
    assert [c.context["iam:PassedToService"] for c in flow if c.action == "iam:PassRole"] == [
        "vpc-flow-logs.amazonaws.com"]
    assert ("ec2:CreateFlowLogs", "arn:aws:ec2:us-west-2:%s:vpc/vpc-0a" % ACCOUNT) in simple(flow)
    cluster = checks_of("eks", "CreateCluster", {"name": "honeyhive-eks", "roleArn": IAM_ROLE,
                                                 "resourcesVpcConfig": {"subnetIds": ["subnet-0b"]}})
    assert simple(cluster) == [("eks:CreateCluster", "*"), ("iam:PassRole", IAM_ROLE)]
    assert cluster[1].context["iam:PassedToService"] == "eks.amazonaws.com"
    task = checks_of("ecs", "RegisterTaskDefinition", {"family": "f", "containerDefinitions": [{"name": "c"}],
                                                       "taskRoleArn": IAM_ROLE})
    assert [c.context.get("iam:PassedToService") for c in task if c.action == "iam:PassRole"] == [
        "ecs-tasks.amazonaws.com"]
    targets = checks_of("events", "PutTargets", {"Rule": "r", "Targets": [{"Id": "1", "Arn": "arn:aws:sqs:x",
                                                                           "RoleArn": IAM_ROLE}]})
    assert simple(targets) == [("events:PutTargets", "arn:aws:events:us-west-2:%s:rule/r" % ACCOUNT),
                               ("iam:PassRole", IAM_ROLE)]
    pods = checks_of("eks", "CreatePodIdentityAssociation", {"clusterName": "c", "namespace": "n",
                                                             "serviceAccount": "s", "roleArn": IAM_ROLE})
    assert [c.context["iam:PassedToService"] for c in pods if c.action == "iam:PassRole"] == [
        "pods.eks.amazonaws.com"]


def test_kms_use_on_the_callers_behalf_goes_through_the_key_policy():
    secret = checks_of("secretsmanager", "CreateSecret", {"Name": "honeyhive/x", "SecretString": "s",
                                                          "KmsKeyId": "alias/honeyhive-platform"})
    assert simple(secret) == [
        ("secretsmanager:CreateSecret", "arn:aws:secretsmanager:us-west-2:%s:secret:honeyhive/x-AbCdEf" % ACCOUNT),
        ("kms:GenerateDataKey", KEY_ARN)]
    kms = secret[1]
    assert kms.context["kms:ViaService"] == "secretsmanager.us-west-2.amazonaws.com"
    assert kms.context["kms:CallerAccount"] == ACCOUNT
    assert kms.resource_policy == KEY_POLICY and kms.resource_required
    read = checks_of("secretsmanager", "GetSecretValue", {"SecretId": "honeyhive/x"})
    assert ("kms:Decrypt", KEY_ARN) in simple(read)
    eks = checks_of("eks", "CreateCluster", {"name": "c", "roleArn": IAM_ROLE, "resourcesVpcConfig": {},
                                             "encryptionConfig": [{"resources": ["secrets"],
                                                                   "provider": {"keyArn": KEY_ARN}}]})
    assert [(c.action, c.resource, c.context.get("kms:ViaService")) for c in eks if c.action.startswith("kms:")] == [
        ("kms:DescribeKey", KEY_ARN, "eks.us-west-2.amazonaws.com"),
        ("kms:CreateGrant", KEY_ARN, "eks.us-west-2.amazonaws.com")]
    # a key call by alias resolves the key and keeps the alias as kms:RequestAlias
    describe = checks_of("kms", "DescribeKey", {"KeyId": "alias/honeyhive-platform"})
    assert simple(describe) == [("kms:DescribeKey", KEY_ARN)]
    assert describe[0].context["kms:RequestAlias"] == "alias/honeyhive-platform"
    alias = checks_of("kms", "CreateAlias", {"AliasName": "alias/honeyhive-platform", "TargetKeyId": KEY_ID})
    assert simple(alias) == [("kms:CreateAlias", "arn:aws:kms:us-west-2:%s:alias/honeyhive-platform" % ACCOUNT),
                             ("kms:CreateAlias", KEY_ARN)]


def test_action_names_that_are_not_the_operation():
    bucket = "arn:aws:s3:::honeyhive-logs"
    assert simple(checks_of("s3", "HeadBucket", {"Bucket": "honeyhive-logs"})) == [("s3:ListBucket", bucket)]
    assert simple(checks_of("s3", "ListObjectsV2", {"Bucket": "honeyhive-logs"})) == [("s3:ListBucket", bucket)]
    assert simple(checks_of("s3", "PutBucketEncryption", {
        "Bucket": "honeyhive-logs", "ServerSideEncryptionConfiguration": {"Rules": []}})) == [
        ("s3:PutEncryptionConfiguration", bucket)]
    alarm = checks_of("cloudwatch", "PutMetricAlarm", {"AlarmName": "hh", "EvaluationPeriods": 1,
                                                       "ComparisonOperator": "GreaterThanThreshold"})
    assert simple(alarm) == [("cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:us-west-2:%s:alarm:hh" % ACCOUNT)]
    docdb = checks_of("docdb", "CreateDBCluster", {"DBClusterIdentifier": "hh", "Engine": "docdb"})
    assert simple(docdb) == [("rds:CreateDBCluster", "arn:aws:rds:us-west-2:%s:cluster:hh" % ACCOUNT)]


def test_queue_url_hosted_zone_and_certificate_become_arns():
    queue = checks_of("sqs", "SetQueueAttributes", {"QueueUrl": SAMPLES["QueueUrl"], "Attributes": {}})
    assert simple(queue) == [("sqs:SetQueueAttributes",
                              "arn:aws:sqs:us-west-2:%s:honeyhive-interruptions" % ACCOUNT)]
    zone = checks_of("route53", "ChangeResourceRecordSets", {"HostedZoneId": "/hostedzone/Z0123",
                                                             "ChangeBatch": SAMPLES["ChangeBatch"]})
    assert simple(zone) == [("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0123")]
    cert = checks_of("acm", "DescribeCertificate", {"CertificateArn": SAMPLES["CertificateArn"]})
    assert simple(cert) == [("acm:DescribeCertificate", SAMPLES["CertificateArn"])]


def test_sts_assume_role_context():
    checks = checks_of("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "run", "ExternalId": "e-1"})
    assert simple(checks) == [("sts:AssumeRole", ROLE)]
    assert checks[0].context["sts:ExternalId"] == "e-1" and checks[0].context["sts:RoleSessionName"] == "run"
    without = checks_of("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "run"})
    assert "sts:ExternalId" not in without[0].context and without[0].resolvable("sts:ExternalId")


def test_unknown_condition_keys_fail_closed_known_absent_ones_do_not():
    check = checks_of("eks", "CreateCluster", {"name": "c", "roleArn": IAM_ROLE, "resourcesVpcConfig": {}})[0]
    assert not check.resolvable("eks:computeConfigEnabled")  # the action supports it; not computed here
    assert check.resolvable("iam:PassedToService")            # not a key of eks:CreateCluster
    assert check.resolvable("aws:SourceVpce")                 # never present locally
    assert not check.resolvable("aws:SomethingNew")            # an unknown global key
    assert check.context["aws:SecureTransport"] is True and check.context["aws:PrincipalArn"] == ROLE
