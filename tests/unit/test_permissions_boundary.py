"""The platform's permissions boundary and the deployment role's policy, as playbooks/render.yml
renders them from the foundation role's vars (one inventory, no AWS call).

* The boundary allows every action of every identity policy a bound role gets: the policies
  the roles write and the AWS managed policies they attach (their documents from moto's
  bundled copy of AWS's managed policies). Actions only: a boundary may name narrower
  resources than an AWS managed policy does (the platform's own keys, secrets, log groups and
  queues), which is the point of it.
* It allows nothing that administers IAM (roles, users, groups, policies, providers), the
  organization or the account, beyond the node instance profiles, PassRole to EC2 and the load
  balancing service-linked role; it denies changing itself and removing any boundary.
* The deployment role creates roles and puts, attaches, detaches or deletes their policies
  only with the boundary, may not remove it and may not change the boundary.

Action matching follows IAM: wildcards, case-insensitive, expanded against parliament's IAM
catalogue."""
from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = "prod-us-west-2"
GRANTS = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
          "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
BOUNDARY_CHANGES = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]
# IAM actions a bound role may have: Karpenter's node instance profiles, PassRole (of the node
# role, to EC2), the load balancing service-linked role, and reads.
IAM_WRITES_ALLOWED = {"iam:createinstanceprofile", "iam:taginstanceprofile", "iam:addroletoinstanceprofile",
                      "iam:removerolefrominstanceprofile", "iam:deleteinstanceprofile", "iam:passrole",
                      "iam:createservicelinkedrole"}
IAM_READ_PREFIXES = ("get", "list", "generate", "simulate")


def as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(ROOT / "playbooks" / "render.yml"),
         "-i", str(ROOT / "inventories" / INVENTORY), "-e", "platform_render_dir=%s" % (out / "manifests"),
         "-e", "platform_policy_render_dir=%s" % (out / "policies"), "-e", "platform_assume_role=false",
         "-e", "platform_chart_source=upstream"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    files = sorted((out / "policies").glob("*/*.json"))
    assert len(files) >= 2, files
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


def policy(variant, role, policy_id):
    for item in variant["roles"]:
        if item["role"] == role:
            for entry in item["policies"]:
                if entry["id"] == policy_id:
                    return entry["document"]
    raise AssertionError("no %s %s in %s" % (role, policy_id, variant["variant"]))


@pytest.fixture(scope="module")
def catalogue():
    """Every action of the IAM catalogue, lower case."""
    import parliament  # pylint: disable=import-outside-toplevel

    return sorted(("%s:%s" % (service["prefix"], privilege["privilege"])).lower()
                  for service in parliament.iam_definition for privilege in service["privileges"])


def matches(pattern, action):
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def statements(document, effect):
    return [s for s in as_list(document["Statement"]) if s["Effect"] == effect]


def allows(document, action):
    """Whether the document allows ``action`` for some resource, by its Allow statements and
    its Deny statements that hold on every resource without a condition."""
    denied = any(any(matches(p, action) for p in as_list(s.get("Action", [])))
                 and as_list(s.get("Resource")) == ["*"] and "Condition" not in s
                 for s in statements(document, "Deny"))
    allowed = any(any(matches(p, action) for p in as_list(s.get("Action", []))) for s in statements(document, "Allow"))
    return allowed and not denied


def expand(pattern, catalogue):
    """The catalogue's actions a pattern names; an action newer than the catalogue (an AWS
    managed policy may grant one) stands for itself."""
    found = [action for action in catalogue if matches(pattern, action)]
    if not found and "*" not in pattern and "?" not in pattern:
        return [pattern.lower()]
    assert found, "%s names no action of the IAM catalogue" % pattern
    return found


def bound_identity_policies(variant):
    """(name, document) of every identity policy a role under the boundary gets."""
    out = []
    access = {"deployment-policy", "github-deploy-policy", "permissions-boundary"}
    for item in variant["roles"]:
        for entry in item["policies"]:
            if entry["kind"] == "identity" and not (item["role"] == "foundation" and entry["id"] in access):
                out.append(("%s %s" % (item["role"], entry["id"]), entry["document"]))
    return out


def attached_managed_policies(variant):
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # pylint: disable=import-outside-toplevel

    data = json.loads(aws_managed_policies_data)
    out = []
    for item in variant["roles"]:
        for arn in item.get("managed_policy_arns") or []:
            name = arn.rsplit("/", 1)[-1]
            assert name in data, "AWS managed policy %s is not in moto's copy" % arn
            out.append((arn, data[name]["Document"]))
    return out


def test_the_boundary_allows_every_action_the_bound_roles_are_given(rendered, catalogue):
    # A variant of a role's own switch renders that role only (the GitHub OIDC one: foundation).
    complete = [v for v in rendered if {"eks", "karpenter", "addons"} <= {r["role"] for r in v["roles"]}]
    assert len(complete) >= 2, [v["variant"] for v in rendered]
    for variant in complete:
        boundary = policy(variant, "foundation", "permissions-boundary")
        given = bound_identity_policies(variant) + attached_managed_policies(variant)
        assert len(given) >= 8 and any("AmazonEKSClusterPolicy" in name for name, _ in given)
        missing = []
        for name, document in given:
            for statement in statements(document, "Allow"):
                for pattern in as_list(statement["Action"]):
                    missing.extend("%s: %s" % (name, action) for action in expand(pattern, catalogue)
                                   if not allows(boundary, action))
        assert not missing, "%s: the boundary does not allow\n%s" % (variant["variant"], "\n".join(sorted(set(missing))))


def test_the_boundary_allows_no_iam_organization_or_account_administration(rendered, catalogue):
    boundary = policy(rendered[0], "foundation", "permissions-boundary")
    too_much = [action for action in catalogue
                if (action.startswith(("organizations:", "account:"))
                    or (action.startswith("iam:") and action not in IAM_WRITES_ALLOWED
                        and not action[4:].startswith(IAM_READ_PREFIXES)))
                and allows(boundary, action)]
    assert not too_much, too_much
    for action in ("iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:CreatePolicyVersion",
                   "iam:CreateUser", "iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy", "organizations:LeaveOrganization"):
        assert not allows(boundary, action), action
    assert allows(boundary, "iam:PassRole") and allows(boundary, "iam:CreateInstanceProfile")


def test_the_boundary_protects_itself_and_every_boundary(rendered):
    variant = rendered[0]
    boundary = policy(variant, "foundation", "permissions-boundary")
    arn = [e["arn"] for item in variant["roles"] for e in item["policies"] if e["id"] == "permissions-boundary"][0]
    assert arn.endswith(":policy/honeyhive-permissions-boundary-prod-us-west-2")
    denies = statements(boundary, "Deny")
    assert any(set(BOUNDARY_CHANGES) <= set(as_list(s["Action"])) and as_list(s["Resource"]) == [arn] for s in denies)
    assert not allows(boundary, "iam:DeleteRolePermissionsBoundary")
    assert any("iam:DeleteRolePermissionsBoundary" in as_list(s["Action"]) and s["Resource"] == "*" for s in denies)
    # PassRole only to EC2, and only the platform's roles.
    passes = [s for s in statements(boundary, "Allow") if "iam:PassRole" in as_list(s["Action"])]
    assert passes and all(s["Condition"]["StringEquals"]["iam:PassedToService"] == "ec2.amazonaws.com"
                          and s["Resource"].endswith(":role/honeyhive-*") for s in passes)


def test_the_deployment_role_grants_only_with_the_boundary(rendered, catalogue):
    variant = rendered[0]
    deployment = policy(variant, "foundation", "deployment-policy")
    arn = [e["arn"] for item in variant["roles"] for e in item["policies"] if e["id"] == "permissions-boundary"][0]
    for action in GRANTS:
        granting = [s for s in statements(deployment, "Allow") if any(matches(p, action) for p in as_list(s["Action"]))]
        assert granting, action
        for statement in granting:
            assert statement.get("Condition") == {"StringEquals": {"iam:PermissionsBoundary": arn}}, (action, statement)
    denies = statements(deployment, "Deny")
    assert any("iam:DeleteRolePermissionsBoundary" in as_list(s["Action"])
               and as_list(s["Resource"]) == [policy_arn.replace(":policy/", ":role/").rsplit("/", 1)[0] + "/honeyhive-*"
                                              for policy_arn in [arn]] for s in denies)
    assert any(set(BOUNDARY_CHANGES) <= set(as_list(s["Action"])) and as_list(s["Resource"]) == [arn] for s in denies)
    # Nothing else in the policy lets it remove a boundary.
    assert not any(any(matches(p, "iam:DeleteRolePermissionsBoundary") for p in as_list(s["Action"]))
                   for s in statements(deployment, "Allow"))


def test_the_roles_are_created_with_the_boundary():
    """Every task that creates a role under the deployment role passes the boundary."""
    tasks = sorted((ROOT / "roles").glob("*/tasks/create.yml"))
    import yaml  # pylint: disable=import-outside-toplevel

    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for module in ("honeyhive.platform.iam_role", "honeyhive.platform.iam_roles"):
                if module in node:
                    found.append((path, node.get("name"), node))
            for value in node.values():
                walk(value, path)
        elif isinstance(node, list):
            for value in node:
                walk(value, path)

    for path in tasks:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.relative_to(ROOT))
    # The two access roles (foundation) are made by the bootstrap run and are not bound.
    bound = [(path, name, args) for path, name, args in found if "foundation" not in str(path)]
    assert len(bound) >= 5, found
    unbound = []
    for path, name, args in bound:
        text = json.dumps(args)
        if any(isinstance(v, dict) and v.get("state") == "absent" for v in args.values()):
            continue
        if text.count("permissions_boundary") < max(1, text.count("assume_role_policy_document")):
            unbound.append("%s: %s" % (path, name))
    assert not unbound, unbound
